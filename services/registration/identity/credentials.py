"""Passwords and TOTP codes: the hashing parameters, stated once, and the one-time-code check.

Passwords are hashed with argon2id at RFC 9106's second recommended option (the "low memory"
one: m = 64 MiB, t = 3, p = 4, 16-byte salt, 32-byte hash), argon2-cffi's `RFC_9106_LOW_MEMORY`
profile. A hash made with weaker parameters (an older release's) is replaced at the next
successful sign-in (`needs_rehash`). Hashing takes tens of milliseconds and 64 MiB: it runs in a
worker thread (cffi releases the GIL), a few at a time, never on the event loop.

TOTP (RFC 6238, pyotp): 30-second steps, 6 digits, SHA-1 (what every authenticator app reads);
a code of the step before or after is accepted for clock drift, and each step at most once: the
account remembers the last step used (`identity.rules.sign_in`).
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from datetime import datetime
from functools import cache

import pyotp
from argon2 import PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PARAMETERS = profiles.RFC_9106_LOW_MEMORY
"""argon2id, t=3, m=65536 KiB (64 MiB), p=4: RFC 9106 §4's second recommended option."""
assert PARAMETERS.type is Type.ID

HASHER = PasswordHasher.from_parameters(PARAMETERS)

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1
TOTP_ISSUER = "foro"

HASHING_AT_ONCE = 4
"""Hashes a process runs at once (per event loop): each holds 64 MiB while it runs."""
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _hashing() -> asyncio.Semaphore:
    """The running loop's semaphore (an asyncio primitive belongs to one loop: a CLI command
    and each test run their own)."""
    loop = asyncio.get_running_loop()
    if (slots := _slots.get(loop)) is None:
        slots = _slots[loop] = asyncio.Semaphore(HASHING_AT_ONCE)
    return slots


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` matches; a malformed stored hash matches nothing."""
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """A hash made with other parameters than `PARAMETERS` (it is replaced at sign-in)."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash nobody's password matches, verified when the username is unknown: the answer
    takes as long as for a known account (no user enumeration by timing)."""
    return hash_password(secrets.token_urlsafe(32))


async def prepare() -> None:
    """Make `dummy_hash` at start-up, so that the first sign-in of an unknown username does not
    take a hash longer than any other (a service's `on_start` hook)."""
    await asyncio.to_thread(dummy_hash)


async def hash_password_async(password: str) -> str:
    async with _hashing():
        return await asyncio.to_thread(hash_password, password)


async def check_password_async(stored_hash: str | None, password: str) -> bool:
    """Verify in a worker thread; None (no such account) verifies against `dummy_hash`."""
    async with _hashing():
        if stored_hash is None:
            await asyncio.to_thread(verify_password, await asyncio.to_thread(dummy_hash), password)
            return False
        return await asyncio.to_thread(verify_password, stored_hash, password)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://` URI an authenticator app reads (as a QR code or typed): shown once."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=TOTP_ISSUER
    )


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code `code` is (this one, the one before or the one after), or
    None when it is none of them. Which steps were used already is the caller's to check."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = totp.timecode(now)
    drift = range(1, TOTP_DRIFT_STEPS + 1)
    for step in (current, *(current - d for d in drift), *(current + d for d in drift)):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_code(secret: str, step: int) -> str:
    """The code of a step (tests and the CLI's self-check)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).generate_otp(step)

"""Signed webhooks: the Standard Webhooks specification, in and out, and foro's first scheme,
still accepted on the way in until its end date.

Standard Webhooks (https://www.standardwebhooks.com; signatures by the `standardwebhooks`
library): three headers,
- `webhook-id`: the message's id, the same on every retry of one message;
- `webhook-timestamp`: unix seconds; refused beyond the tolerance (5 minutes) either way;
- `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`; several,
  separated by spaces, while a secret is rotated.

Secrets: each configured entry is one key. An entry written `whsec_<base64>` (what any Standard
Webhooks library prints) is that key; any other entry's key is its UTF-8 bytes, and
`vendor_secret(entry)` gives it in the `whsec_` form to hand to a form vendor. Several entries are
accepted at once, so a secret is rotated without refusing a single request.

The first scheme (`X-Foro-Timestamp: <unix seconds>`, `X-Foro-Signature: v1=<hex HMAC-SHA256 of
"<timestamp>.<raw body>">`) is accepted until the receiver's stated end date
(`verify_request(legacy_until=…)`), and refused after it with a message saying so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300

LEGACY_TIMESTAMP_HEADER = "X-Foro-Timestamp"
LEGACY_SIGNATURE_HEADER = "X-Foro-Signature"
LEGACY_SCHEME = "v1"


class SignatureRejected(Exception):
    """Why a signed request was refused (safe to return to the caller); `code` says it in a word
    for metrics: `unsigned`, `timestamp`, `signature`, `legacy_ended` or `not_configured`."""

    def __init__(self, message: str, *, code: str = "signature") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Verified:
    """A request whose signature held: by which scheme, and the sender's message id."""

    scheme: Literal["standard", "legacy"]
    message_id: str | None


def secret_key(entry: str) -> bytes:
    """The key of one configured secret (see the module's docstring)."""
    if entry.startswith(SECRET_PREFIX):
        encoded = entry.removeprefix(SECRET_PREFIX)
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except ValueError:
            pass  # not base64 after all: the text is the key
    return entry.encode()


def vendor_secret(entry: str) -> str:
    """The secret as a Standard Webhooks library takes it: `whsec_<base64 key>`."""
    return SECRET_PREFIX + base64.b64encode(secret_key(entry)).decode()


def new_secret() -> str:
    """A new random secret, in the `whsec_` form (24 random bytes, as the specification advises)."""
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(24)).decode()


def _values(secrets: Sequence[SecretStr | str]) -> list[str]:
    return [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets]


def sign(
    entries: Sequence[SecretStr | str] | SecretStr | str, msg_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one `v1,…` per secret, separated by spaces."""
    if isinstance(entries, (str, SecretStr)):
        entries = [entries]
    moment = datetime.fromtimestamp(timestamp, UTC)
    text = body.decode()
    return " ".join(
        Webhook(secret_key(entry)).sign(msg_id=msg_id, timestamp=moment, data=text)
        for entry in _values(entries)
    )


def signed_headers(
    secret: Sequence[SecretStr | str] | SecretStr | str,
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The Standard Webhooks headers for `body` (a new message id unless given)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    msg_id = msg_id or f"msg_{random.token_urlsafe(18)}"
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, msg_id, timestamp, body),
    }


def _timestamp(value: str, header: str, tolerance_seconds: int, now: float | None) -> int:
    try:
        sent_at = int(value)
    except ValueError:
        raise SignatureRejected(f"{header} must be unix seconds", code="timestamp") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance_seconds:
        raise SignatureRejected(
            f"{header} is outside the {tolerance_seconds} s tolerance (is the clock right?)",
            code="timestamp",
        )
    return sent_at


def verify_standard(
    secrets: Sequence[SecretStr | str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """The message id, unless `body` is not signed by one of `secrets` within the tolerance
    (`SignatureRejected`). `headers` is matched without regard to case."""
    if not secrets:
        raise SignatureRejected("webhook secrets are not configured", code="not_configured")
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id, timestamp, signature = (
        lower.get(ID_HEADER, "").strip(),
        lower.get(TIMESTAMP_HEADER, "").strip(),
        lower.get(SIGNATURE_HEADER, "").strip(),
    )
    if not (msg_id and timestamp and signature):
        missing = [
            name
            for name, value in (
                (ID_HEADER, msg_id),
                (TIMESTAMP_HEADER, timestamp),
                (SIGNATURE_HEADER, signature),
            )
            if not value
        ]
        raise SignatureRejected(
            f"{', '.join(missing)} missing: send {ID_HEADER}, {TIMESTAMP_HEADER} and "
            f"{SIGNATURE_HEADER} (Standard Webhooks)",
            code="unsigned",
        )
    sent_at = _timestamp(timestamp, TIMESTAMP_HEADER, tolerance_seconds, now)
    try:
        expected = [s.encode() for s in sign(secrets, msg_id, sent_at, body).split(" ")]
    except UnicodeDecodeError:
        raise SignatureRejected("the body is not UTF-8 text") from None
    given = [part.encode() for part in signature.split(" ") if part.startswith("v1,")]
    if not given:
        raise SignatureRejected(f"{SIGNATURE_HEADER} holds no v1 signature (`v1,<base64>`)")
    matched = False
    for candidate in given:  # every pair compared in constant time: timing tells nothing
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise SignatureRejected("signature does not match")
    return msg_id


# --- the first scheme, until its end date ---------------------------------------------------------


def legacy_sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{LEGACY_SCHEME}={digest}"


def legacy_signed_headers(
    secret: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The first scheme's headers (deprecated; for tests of its window)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        LEGACY_TIMESTAMP_HEADER: str(timestamp),
        LEGACY_SIGNATURE_HEADER: legacy_sign(secret, timestamp, body),
    }


def verify_legacy(
    secrets: Sequence[SecretStr | str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise `SignatureRejected` unless one of `secrets` signed `body` by the first scheme."""
    if not secrets:
        raise SignatureRejected("webhook secrets are not configured", code="not_configured")
    if not timestamp or not signature:
        raise SignatureRejected(
            f"{LEGACY_TIMESTAMP_HEADER} and {LEGACY_SIGNATURE_HEADER} headers are required",
            code="unsigned",
        )
    sent_at = _timestamp(timestamp, LEGACY_TIMESTAMP_HEADER, tolerance_seconds, now)
    matched = False
    for secret in _values(secrets):
        expected = legacy_sign(secret, sent_at, body)
        matched |= hmac.compare_digest(expected.encode(), signature.strip().encode())
    if not matched:
        raise SignatureRejected("signature does not match")


def verify_request(
    secrets: Sequence[SecretStr | str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    legacy_until: date | None = None,
    now: float | None = None,
) -> Verified:
    """Standard Webhooks when any of its headers is sent; else the first scheme, until
    `legacy_until` (inclusive; None: not accepted at all)."""
    lower = {name.lower(): value for name, value in headers.items()}
    standard = any(name in lower for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    legacy = LEGACY_SIGNATURE_HEADER.lower() in lower or LEGACY_TIMESTAMP_HEADER.lower() in lower
    if standard or not legacy:
        message_id = verify_standard(
            secrets, headers, body, tolerance_seconds=tolerance_seconds, now=now
        )
        return Verified("standard", message_id)
    today = datetime.fromtimestamp(time.time() if now is None else now, UTC).date()
    if legacy_until is None or today > legacy_until:
        ended = f"on {legacy_until.isoformat()}" if legacy_until else "already"
        raise SignatureRejected(
            f"the {LEGACY_SIGNATURE_HEADER} scheme ended {ended}: sign with Standard Webhooks "
            f"({ID_HEADER}, {TIMESTAMP_HEADER}, {SIGNATURE_HEADER})",
            code="legacy_ended",
        )
    verify_legacy(
        secrets,
        lower.get(LEGACY_TIMESTAMP_HEADER.lower()),
        lower.get(LEGACY_SIGNATURE_HEADER.lower()),
        body,
        tolerance_seconds=tolerance_seconds,
        now=now,
    )
    return Verified("legacy", None)

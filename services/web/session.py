"""The signed-in person's staff token, kept in their browser and nowhere else.

The web component holds no sessions: the token registration's `POST /auth/login` gave is sealed
(encrypted and authenticated, Fernet with a key derived from `WEB_COOKIE_SECRET`) into an
HttpOnly, SameSite=Strict cookie, Secure when the page came over https. Scripts cannot read it,
other sites cannot send it, and someone who copies it from a disk or a log learns nothing from it.

Forms carry a CSRF token that must equal the `foro_csrf` cookie (double submit; SameSite=Strict
already keeps other sites' forms from sending the cookies, this is the second lock). A new one is
set at sign-in.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_COOKIE = "foro_session"
CSRF_COOKIE = "foro_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class StaffSession:
    username: str
    roles: tuple[str, ...]
    token: str
    expires_at: datetime

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"foro web session cookie"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


class SessionSealer:
    """Seals and opens the session cookie; the first key seals, every key opens (rotation)."""

    def __init__(self, keys: list[str], max_age_seconds: int) -> None:
        if not keys:
            raise ValueError("cookie_secret: at least one key is needed")
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])
        self.max_age = max_age_seconds

    def seal(self, session: StaffSession) -> str:
        payload = {
            "u": session.username,
            "r": list(session.roles),
            "t": session.token,
            "x": session.expires_at.isoformat(),
        }
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def open(self, cookie: str | None) -> StaffSession | None:
        """The session in the cookie; None when absent, tampered with, too old or expired."""
        if not cookie:
            return None
        try:
            payload = json.loads(self._fernet.decrypt(cookie.encode(), ttl=self.max_age))
            session = StaffSession(
                username=str(payload["u"]),
                roles=tuple(str(r) for r in payload["r"]),
                token=str(payload["t"]),
                expires_at=datetime.fromisoformat(payload["x"]),
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
        return None if session.expired else session


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, submitted: str | None) -> bool:
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie), str(submitted))

"""The signed-in person's token, kept in their browser and nowhere else.

Staff sign in with a password (`StaffSession`: registration's staff token); parties — a
delegation's focal point, an exhibitor, a participant — with their own link token
(`PartySession`, see pages/party.py). One cookie holds either, never both: signing in as one
replaces the other, and signing out forgets whichever it was.

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
from typing import Literal

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


PartyKind = Literal["participant", "exhibitor", "focal_point"]
PARTY_KINDS: tuple[PartyKind, ...] = ("participant", "exhibitor", "focal_point")


@dataclass(frozen=True)
class PartySession:
    """A party acting for themselves with their own link token. `kind` and `party_id` (the
    participant id, the exhibitor id, the delegation code) only route the pages: every call
    carries `token`, and the services decide what it may do. `label` is what the header shows
    (the delegation's or exhibitor's name). `feed` is a participant's read-only agenda-feed token,
    once scheduling handed one out (a sign-up answers with it)."""

    kind: PartyKind
    party_id: str
    label: str
    token: str
    expires_at: datetime
    feed: str | None = None

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at

    @property
    def username(self) -> str:  # the header's name of who is signed in
        return self.label

    @property
    def roles(self) -> tuple[str, ...]:  # a party holds no staff role
        return ()


SignedIn = StaffSession | PartySession


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

    def seal(self, session: SignedIn) -> str:
        payload: dict[str, object]
        if isinstance(session, PartySession):
            payload = {
                "p": session.kind,
                "i": session.party_id,
                "l": session.label,
                "t": session.token,
                "x": session.expires_at.isoformat(),
                "f": session.feed,
            }
        else:
            payload = {
                "u": session.username,
                "r": list(session.roles),
                "t": session.token,
                "x": session.expires_at.isoformat(),
            }
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def open(self, cookie: str | None) -> SignedIn | None:
        """The session in the cookie (staff or party); None when absent, tampered with, too old
        or expired."""
        if not cookie:
            return None
        session: SignedIn
        try:
            payload = json.loads(self._fernet.decrypt(cookie.encode(), ttl=self.max_age))
            if "p" in payload:
                kind = str(payload["p"])
                if kind not in PARTY_KINDS:
                    return None
                session = PartySession(
                    kind=kind,  # one of PARTY_KINDS: checked just above
                    party_id=str(payload["i"]),
                    label=str(payload["l"]),
                    token=str(payload["t"]),
                    expires_at=datetime.fromisoformat(payload["x"]),
                    feed=str(payload["f"]) if payload.get("f") else None,
                )
            else:
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

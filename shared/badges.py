"""Badge tokens: what a badge's QR code carries, signed so any foro service can trust a scan.

A token is `<payload>.<signature>`, both base64url without padding:
    payload   = JSON {"f": forum id, "t": token id, "v": 1}
    signature = HMAC-SHA256(secret, payload bytes as sent)
It holds no personal data: the token id is random and only registration knows whose it is
(registration publishes `badge.issued` with the participant id and token id, and `badge.revoked`
when it stops being valid). Registration signs; registration's check-in and expo's lead capture
verify with the same secret (`REGISTRATION_BADGE_SECRET`, or `FORO_BADGE_SECRET` for every service).
During a secret rotation, verify with the new and the old secret, sign with the new one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr

TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 400  # a QR code stays small and scannable; anything longer is not ours


@dataclass(frozen=True)
class BadgeToken:
    forum_id: str
    token_id: str
    version: int = TOKEN_VERSION


class BadgeTokenRefused(Exception):
    """A scanned token foro does not accept, with a reason the door staff can read."""

    def __init__(self, code: str, message_es: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_es = message_es
        self.message_en = message_en


def new_token_id() -> str:
    """A random, unguessable token id (128 bits); never derived from the person."""
    return secrets.token_urlsafe(16)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _secret_bytes(secret: SecretStr | str | bytes) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def _mac(secret: SecretStr | str | bytes, payload: bytes) -> bytes:
    return hmac.new(_secret_bytes(secret), payload, hashlib.sha256).digest()


def sign_badge_token(secret: SecretStr | str | bytes, forum_id: str, token_id: str) -> str:
    """The compact, signed token printed in the badge's QR code."""
    if not _secret_bytes(secret):
        raise ValueError("the badge secret is empty")
    payload = json.dumps(
        {"f": forum_id, "t": token_id, "v": TOKEN_VERSION}, separators=(",", ":"), sort_keys=True
    ).encode()
    return f"{_b64encode(payload)}.{_b64encode(_mac(secret, payload))}"


def _malformed() -> BadgeTokenRefused:
    return BadgeTokenRefused(
        "malformed_token",
        "El código no es una credencial de este sistema.",
        "The code is not a badge issued by this system.",
    )


def verify_badge_token(
    secrets_: Iterable[SecretStr | str | bytes], token: str, *, forum_id: str
) -> BadgeToken:
    """The token's content if one of `secrets_` signed it for `forum_id`; else BadgeTokenRefused.

    Revocation is not checked here: it needs the issuer's state (registration's participant
    documents, or expo's projection of `badge.revoked`).
    """
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise _malformed()
    encoded_payload, encoded_signature = token.split(".")
    try:
        payload = _b64decode(encoded_payload)
        signature = _b64decode(encoded_signature)
    except (binascii.Error, ValueError):
        raise _malformed() from None
    keys = [key for key in secrets_ if _secret_bytes(key)]
    if not keys:
        raise ValueError("no badge secret configured")
    valid = False
    for key in keys:  # every key is tried, so timing does not tell which one matched
        valid |= hmac.compare_digest(signature, _mac(key, payload))
    if not valid:
        raise BadgeTokenRefused(
            "forged_token",
            "La firma de la credencial no es válida (credencial alterada o falsa).",
            "The badge signature is not valid (altered or forged badge).",
        )
    try:
        content = json.loads(payload)
        parsed = BadgeToken(
            forum_id=str(content["f"]), token_id=str(content["t"]), version=int(content["v"])
        )
    except (ValueError, KeyError, TypeError):
        raise _malformed() from None
    if parsed.version != TOKEN_VERSION:
        raise _malformed()
    if parsed.forum_id != forum_id:
        raise BadgeTokenRefused(
            "foreign_forum",
            "Esta credencial pertenece a otro foro.",
            "This badge belongs to another forum.",
        )
    return parsed

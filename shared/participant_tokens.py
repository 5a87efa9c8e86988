"""A participant's own access token for participant-facing APIs (session sign-up, B2B meetings,
job applications): `<participant_id>.<HMAC>`, checked by every service with the platform secret
`FORO_PARTICIPANT_TOKEN_SECRET`; nothing is stored. Participant ids are derived from e-mail
addresses, so an id alone proves nothing: only the MAC does.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

PURPOSE = "foro-participant"


def mint(secret: str, participant_id: str) -> str:
    mac = hmac.new(
        secret.encode(), f"{PURPOSE}:{participant_id}".encode(), hashlib.sha256
    ).hexdigest()[:40]
    return f"{participant_id}.{mac}"


def verify(secret: str, token: str) -> str | None:
    """The participant id the token was minted for, or None (also when no secret is configured)."""
    if not secret:
        return None
    participant_id, _, _ = token.partition(".")
    try:
        uuid.UUID(participant_id)
    except ValueError:
        return None
    return (
        participant_id
        if hmac.compare_digest(mint(secret, participant_id).encode(), token.encode())
        else None
    )

"""The 401 and 403 answers of every service, in Spanish and English.

Body: `{"detail": {"code", "message_es", "message_en"}}` (a 403 also names the `permission`), the
shape of the project's other refusals (`shared.http.BROKER_UNAVAILABLE`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import HTTPException, status

InvalidReason = Literal[
    "missing", "malformed", "expired", "signature", "unknown_key", "issuer", "audience", "revoked"
]

_UNAUTHORIZED: dict[str, tuple[str, str]] = {
    "missing": (
        "Se requiere un token de acceso (Authorization: Bearer …).",
        "An access token is required (Authorization: Bearer …).",
    ),
    "malformed": (
        "El token de acceso no es válido: su formato no es el de un token de foro.",
        "The access token is not valid: it is not shaped like a foro token.",
    ),
    "expired": (
        "El token de acceso ha caducado; inicie sesión o solicite uno nuevo.",
        "The access token has expired; sign in again or ask for a new one.",
    ),
    "signature": (
        "La firma del token de acceso no es válida.",
        "The access token's signature is not valid.",
    ),
    "unknown_key": (
        "El token de acceso está firmado con una clave que este servicio no conoce.",
        "The access token is signed with a key this service does not know.",
    ),
    "issuer": (
        "El token de acceso no fue emitido por foro.",
        "The access token was not issued by foro.",
    ),
    "audience": (
        "El token de acceso no está destinado a foro.",
        "The access token is not meant for foro.",
    ),
    "revoked": (
        "El token de acceso ha sido revocado.",
        "The access token has been revoked.",
    ),
}


class InvalidToken(Exception):
    """A token that proves nothing; `reason` says why (one of `InvalidReason`)."""

    def __init__(self, reason: InvalidReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: InvalidReason = reason


def unauthorized(reason: InvalidReason) -> HTTPException:
    """401 with the reason, in both languages, and `WWW-Authenticate: Bearer`."""
    message_es, message_en = _UNAUTHORIZED[reason]
    challenge = "Bearer" if reason == "missing" else 'Bearer error="invalid_token"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"code": f"token_{reason}", "message_es": message_es, "message_en": message_en},
        headers={"WWW-Authenticate": challenge},
    )


def missing_permission(permission: str) -> HTTPException:
    """403 naming the permission the caller's token lacks."""
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail={
            "code": "permission_missing",
            "permission": permission,
            "message_es": f"Su acceso no incluye el permiso «{permission}».",
            "message_en": f"Your access does not include the permission “{permission}”.",
        },
    )


def forbidden(code: str, message_es: str, message_en: str) -> HTTPException:
    """403 for a scope the caller's token does not reach (another session, delegation, …)."""
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail={"code": code, "message_es": message_es, "message_en": message_en},
    )

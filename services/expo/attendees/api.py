"""The secretariat mints a participant's expo access token (shared/participant_tokens.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, HTTPException, status

from services.expo.access import ExpoDeps
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.participant_tokens import mint

secretariat_router = APIRouter(tags=["secretariat"])


@secretariat_router.post(
    "/participants/{participant_id}/token",
    summary="A participant's expo access token",
    dependencies=[Depends(require(Permission.PARTICIPANTS_WRITE))],
)
async def mint_token(participant_id: uuid.UUID, deps: ExpoDeps) -> dict[str, str]:
    secret = deps.settings.participant_token_secret
    if secret is None or not secret.get_secret_value():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="FORO_PARTICIPANT_TOKEN_SECRET is not set"
        )
    return {"access_token": mint(secret.get_secret_value(), str(participant_id))}


ROUTERS = (secretariat_router,)

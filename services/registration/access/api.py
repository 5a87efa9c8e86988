"""The secretariat's HTTP API for participants' own access: issue a personal code (shown once),
revoke every link of a participant. A focal point's access is the delegation's
(`delegations.api`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from services.registration.access import handlers as access
from services.registration.deps import Deps, Settings
from services.registration.responses import responses
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.tokens import LinkSigner

router = APIRouter(tags=["access"])

LINKS_UNAVAILABLE = {
    "code": "links_unavailable",
    "message_es": "Los accesos personales no están configurados (falta "
    "FORO_PARTICIPANT_TOKEN_SECRET): no se puede emitir ninguno.",
    "message_en": "Personal access is not configured (FORO_PARTICIPANT_TOKEN_SECRET is unset): "
    "none can be issued.",
}


def link_signer(settings: Settings) -> LinkSigner:
    """What signs parties' own tokens; 503 while no link secret is configured."""
    signer = settings.link_signer()
    if signer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=LINKS_UNAVAILABLE)
    return signer


class AccessTokenView(BaseModel):
    access_token: str = Field(
        description="Shown once, never stored: send it as `Authorization: Bearer …`, or hand it "
        "to its holder."
    )
    token_id: str = Field(description="Its id (`jti`), as the audit trail names it.")
    expires_at: datetime


class AccessRevokedView(BaseModel):
    participant_id: str
    revoked_before: datetime = Field(
        description="Every link of the participant issued at or before this time is refused by "
        "every service within seconds; codes issued from now on work."
    )


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")


@router.post(
    "/participants/{participant_id}/access-token",
    response_model=AccessTokenView,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a participant's personal code",
    dependencies=[Depends(require(Permission.PARTICIPANTS_WRITE))],
    responses=responses(401, 403, 404, 503),
    description="A personal code for the participant (shown once): with it they sign up for "
    "sessions, read their agenda, take part in B2B meetings and apply to job-fair posts, for "
    "themselves only, until it expires (FORO_PARTY_TOKEN_DAYS). Publishes "
    "`participant.access_issued` (its id and expiry, never the code).",
)
async def issue_access(
    participant_id: uuid.UUID, deps: Deps, settings: Settings
) -> AccessTokenView:
    signer = link_signer(settings)
    current = await deps.repository.get(str(participant_id))
    if current is None or current.get("forum_id") != deps.pack.forum.id:
        raise _not_found()
    try:
        issued = await access.issue_participant_access(
            str(participant_id), deps.repository.participants, signer, deps.clock
        )
    except access.ParticipantUnknown:
        raise _not_found() from None
    return AccessTokenView(
        access_token=issued.token, token_id=issued.token_id, expires_at=issued.expires_at
    )


@router.post(
    "/participants/{participant_id}/access/revoke",
    response_model=AccessRevokedView,
    summary="Revoke a participant's links",
    dependencies=[Depends(require(Permission.PARTICIPANTS_WRITE))],
    responses=responses(401, 403, 404),
    description="Every personal code and link of the participant issued so far (e-mailed ones "
    "included) stops working: publishes `access.subject_revoked` (subject "
    "`participant:<id>`), which every service consumes. Repeating it revokes what was issued "
    "meanwhile, nothing else.",
)
async def revoke_access(participant_id: uuid.UUID, deps: Deps) -> AccessRevokedView:
    current = await deps.repository.get(str(participant_id))
    if current is None or current.get("forum_id") != deps.pack.forum.id:
        raise _not_found()
    try:
        before = await access.revoke_participant_access(
            str(participant_id), deps.repository.participants, deps.clock, deps.party_lifetime
        )
    except access.ParticipantUnknown:
        raise _not_found() from None
    return AccessRevokedView(participant_id=str(participant_id), revoked_before=before)

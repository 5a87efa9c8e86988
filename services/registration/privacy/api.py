"""The secretariat's HTTP API for privacy: a participant's consents, and erasure on request."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from services.registration.deps import Deps, Publish
from services.registration.privacy import handlers as consent
from services.registration.responses import responses
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.registration import Consents, ParticipantErasureRequested

router = APIRouter(tags=["accreditation", "badges", "consent", "erasure"])


class ConsentsBody(BaseModel):
    """Optional consents to change; the privacy policy can only be withdrawn by erasure."""

    model_config = ConfigDict(extra="forbid")
    listed_publicly: bool | None = None
    photos: bool | None = None
    share_with_exhibitors: bool | None = None
    privacy_policy: Literal[True] | None = Field(
        None, description="Only `true`: to withdraw it, request erasure."
    )


class ConsentsView(BaseModel):
    participant_id: str
    consents: Consents
    changed: list[str]


class ErasureAccepted(BaseModel):
    accepted: bool = True
    event_id: uuid.UUID


@router.patch(
    "/participants/{participant_id}/consents",
    response_model=ConsentsView,
    summary="Change consents",
    responses=responses(401, 404),
    description="Publishes `participant.consent_changed` with the new consents when something changed.",
    dependencies=[Depends(require(Permission.PARTICIPANTS_WRITE))],
)
async def change_consents(
    participant_id: uuid.UUID, body: ConsentsBody, deps: Deps
) -> ConsentsView:
    current = await deps.repository.get(str(participant_id))
    if current is None or current.get("erased"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
    wanted = body.model_dump(exclude_none=True, exclude={"privacy_policy"})
    document, changed = await consent.change_consents(str(participant_id), wanted, deps)
    consents = (document or current)["consents"]
    return ConsentsView(participant_id=str(participant_id), consents=consents, changed=changed)


@router.post(
    "/participants/{participant_id}/erasure",
    response_model=ErasureAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Erase a participant's personal data",
    responses=responses(401, 404),
    description="Publishes `participant.erasure_requested`; registration anonymises the participant and "
    "publishes `participant.erased`, which tells every other service to do the same. "
    "Counts by category are kept.",
    dependencies=[Depends(require(Permission.PRIVACY_ERASE))],
)
async def request_erasure(
    participant_id: uuid.UUID, deps: Deps, publish: Publish
) -> ErasureAccepted:
    current = await deps.repository.get(str(participant_id))
    if current is None or current.get("forum_id") != deps.pack.forum.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
    event = ParticipantErasureRequested(
        producer="registration-secretariat",
        forum_id=deps.pack.forum.id,
        participant_id=participant_id,
    )
    await publish(event)
    return ErasureAccepted(event_id=event.event_id)

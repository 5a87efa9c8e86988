"""The secretariat's HTTP API for accreditation: approve or reject a participant."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from services.registration.accreditation import handlers as accreditation
from services.registration.deps import Deps
from services.registration.responses import refusal, responses
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.registration import FreeText

router = APIRouter(tags=["accreditation", "badges", "consent", "erasure"])


class RejectBody(BaseModel):
    """Why the accreditation is refused — the person reads it, in their language."""

    model_config = ConfigDict(extra="forbid")
    reason_es: FreeText | None = Field(
        None,
        min_length=3,
        max_length=1000,
        examples=["La acreditación de prensa requiere una carta del medio."],
    )
    reason_en: FreeText | None = Field(
        None,
        min_length=3,
        max_length=1000,
        examples=["Press accreditation requires a letter from the media outlet."],
    )


class DecisionView(BaseModel):
    outcome: Literal["approved", "already_decided", "rejected"]
    participant_id: str
    status: str | None


@router.post(
    "/participants/{participant_id}/accreditation/approve",
    response_model=DecisionView,
    summary="Approve an accreditation",
    responses=responses(401, 404, 409),
    description="pending_approval → a seat is allocated (confirmed or waitlisted). Publishes "
    "`accreditation.approved` once: approving again changes nothing. Official delegates also take "
    "a seat of their country's delegation; a full delegation is refused (409).",
    dependencies=[Depends(require(Permission.ACCREDITATION_DECIDE))],
)
async def approve(participant_id: uuid.UUID, deps: Deps) -> DecisionView:
    try:
        decision = await accreditation.approve(str(participant_id), deps)
    except accreditation.ParticipantNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found") from None
    if decision.outcome == "refused":
        raise refusal(decision.reasons[0])
    return DecisionView(
        outcome=decision.outcome, participant_id=decision.participant_id, status=decision.status
    )


@router.post(
    "/participants/{participant_id}/accreditation/reject",
    response_model=DecisionView,
    summary="Reject an accreditation",
    responses=responses(401, 404),
    description="The person reads the reason (give it in both languages, or one: it is used for both). "
    "Publishes `accreditation.rejected` once; a held seat is freed and a badge revoked.",
    dependencies=[Depends(require(Permission.ACCREDITATION_DECIDE))],
)
async def reject(participant_id: uuid.UUID, body: RejectBody, deps: Deps) -> DecisionView:
    if not body.reason_es and not body.reason_en:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="reason_es or reason_en is required"
        )
    reason_es = body.reason_es or body.reason_en or ""
    reason_en = body.reason_en or body.reason_es or ""
    try:
        decision = await accreditation.reject(str(participant_id), reason_es, reason_en, deps)
    except accreditation.ParticipantNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found") from None
    return DecisionView(
        outcome=decision.outcome, participant_id=decision.participant_id, status=decision.status
    )

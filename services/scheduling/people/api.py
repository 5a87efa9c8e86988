"""People on sessions, for the secretariat (under `/programme`): who is on a session, panelist
invitations and their answers, travel support."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import Field

from services.scheduling.deps import Deps, Refused
from services.scheduling.people import handlers
from services.scheduling.programme.api import Body
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.registration import Email, Phone

router = APIRouter(prefix="/programme", tags=["secretariat"])


class PersonIn(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Ana López"])
    role: Literal["speaker", "panelist", "moderator", "chair", "rapporteur"]
    affiliation: str | None = Field(None, max_length=200, examples=["OIM"])
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", examples=["SV"])
    email: Email | None = None
    phone: Phone | None = None
    language: Literal["es", "en"] | None = Field(
        None, description="Default: the registered participant's, else es."
    )
    person_id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    participant_id: uuid.UUID | None = None


class InviteBody(Body):
    travel_support: bool = False


class SupportBody(Body):
    amount: Decimal = Field(gt=0, max_digits=10, decimal_places=2, examples=["850.00"])


@router.put(
    "/sessions/{code}/people",
    summary="Set the people on a session, with their roles",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def put_people(code: str, people: list[PersonIn], deps: Deps) -> dict[str, Any]:
    entries = [p.model_dump(mode="json") for p in people]
    try:
        return await handlers.set_people(deps, code, entries)
    except Refused as error:
        raise error.as_http() from None


@router.post(
    "/sessions/{code}/people/{person_id}/invitation",
    summary="Invite a person on the session",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def invite(
    code: str, person_id: str, deps: Deps, body: InviteBody | None = None
) -> dict[str, Any]:
    try:
        return await handlers.move_invitation(
            deps, code, person_id, "invited", bool(body and body.travel_support)
        )
    except Refused as error:
        raise error.as_http() from None


@router.post(
    "/sessions/{code}/people/{person_id}/invitation/{answer}",
    summary="Record the invited person's answer (accept or decline)",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def answer(
    code: str, person_id: str, answer: Literal["accept", "decline"], deps: Deps
) -> dict[str, Any]:
    try:
        return await handlers.move_invitation(
            deps, code, person_id, "accepted" if answer == "accept" else "declined"
        )
    except Refused as error:
        raise error.as_http() from None


@router.post(
    "/sessions/{code}/people/{person_id}/travel-support",
    summary="Commit panelist-support money to an accepted invitation",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def travel_support(
    code: str, person_id: str, body: SupportBody, deps: Deps
) -> dict[str, Any]:
    try:
        return await handlers.commit_travel_support(deps, code, person_id, body.amount)
    except Refused as error:
        raise error.as_http() from None

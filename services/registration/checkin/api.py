"""The secretariat's HTTP API for check-in: scanning badges at the forum's doors."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.registration.badges.api import badge_secret
from services.registration.checkin import handlers as checkin
from services.registration.deps import Deps, Settings
from services.registration.responses import refusal, responses
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["check-in"])


class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(
        min_length=10, max_length=400, description="The text of the badge's QR code."
    )
    point: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="`entrance`, `expo` or a room code.",
        examples=["entrance"],
    )
    scanned_at: datetime | None = Field(
        default=None,
        description="When the badge was scanned, with its offset, for a scan a door scanner queued "
        "while offline: its day is the scan's, not the sync's. At most 24 hours old and not ahead "
        "of registration's clock by more than a minute (otherwise 422 `scanned_at`). Absent: now.",
        examples=["2025-05-12T21:58:03Z"],
    )
    scan_id: uuid.UUID | None = Field(
        default=None,
        description="The scanner's own id for this scan. Sent again (a replayed queued scan whose "
        "answer was lost), it is answered as the first time (`replayed: true`, 200), nothing "
        "recorded or published again.",
    )


class DelegationRef(BaseModel):
    code: str
    name: str


class CheckinView(BaseModel):
    checked_in: Literal[True] = True
    first_today: bool = Field(
        description="False when the badge was already scanned here today (by another scan)."
    )
    replayed: bool = Field(
        default=False, description="This very scan (`scan_id`) was already recorded: a replay."
    )
    checkin_id: str
    point: str
    day: str
    participant_id: str
    given_name: str
    family_name: str
    organisation: str | None = None
    delegation: DelegationRef | None = None
    category: str
    badge_colour: str
    scanned_at: datetime = Field(description="When the scan was made (its `scanned_at`, or now).")


@router.get(
    "/checkins/points",
    summary="Check-in points",
    dependencies=[Depends(require(Permission.CHECKIN_SCAN))],
)
async def checkin_points(deps: Deps, settings: Settings) -> list[str]:
    return checkin.points(deps, settings.checkin_points)


@router.post(
    "/checkins",
    response_model=CheckinView,
    summary="Scan a badge at a check-in point",
    responses={
        201: {"description": "First check-in here today; `attendee.checked_in` is published."},
        **responses(401, 403, 503),
        422: {"description": "Unknown point, or a `scanned_at` in the future or over 24 h old."},
    },
    status_code=status.HTTP_201_CREATED,
    description="A forged, altered, foreign-forum or revoked badge is refused (403) with the reason; so is "
    "any scan outside the forum's days (venue time, give or take REGISTRATION_CHECKIN_MARGIN_HOURS). "
    "Scanning again at the same point on the same day answers 200 and publishes nothing. A scan "
    "queued offline carries `scanned_at` (its day counts) and `scan_id` (a replay is recognised).",
    dependencies=[Depends(require(Permission.CHECKIN_SCAN))],
)
async def scan(
    body: CheckinBody,
    response: Response,
    deps: Deps,
    settings: Settings,
) -> CheckinView:
    badge_secret(settings)
    try:
        result = await checkin.check_in(
            body.token,
            body.point,
            deps,
            settings.badge_verification_secrets(),
            settings.checkin_points,
            timedelta(hours=settings.checkin_margin_hours),
            scanned_at=body.scanned_at,
            scan_id=str(body.scan_id) if body.scan_id else None,
        )
    except checkin.CheckinRefused as refused:
        raise refusal(refused.problem, refused.status) from None
    if not result.first or result.replayed:
        response.status_code = status.HTTP_200_OK
    person = result.participant
    category = deps.pack.category(person["category"])
    return CheckinView(
        first_today=result.first,
        replayed=result.replayed,
        checkin_id=result.checkin_id,
        point=result.point,
        day=result.day,
        participant_id=person["_id"],
        given_name=person["given_name"],
        family_name=person["family_name"],
        organisation=person.get("organisation"),
        delegation=DelegationRef(**result.delegation) if result.delegation else None,
        category=person["category"],
        badge_colour=category.badge_colour if category else "#37474F",
        scanned_at=result.at,
    )

"""The secretariat's HTTP API for check-in: scanning badges at the forum's doors."""

from __future__ import annotations

from datetime import timedelta
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


class CheckinView(BaseModel):
    checked_in: Literal[True] = True
    first_today: bool = Field(description="False when the badge was already scanned here today.")
    checkin_id: str
    point: str
    day: str
    participant_id: str
    given_name: str
    family_name: str
    category: str
    badge_colour: str


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
    },
    status_code=status.HTTP_201_CREATED,
    description="A forged, altered, foreign-forum or revoked badge is refused (403) with the reason; so is "
    "any scan outside the forum's days (venue time, give or take REGISTRATION_CHECKIN_MARGIN_HOURS). "
    "Scanning again at the same point on the same day answers 200 and publishes nothing.",
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
        )
    except checkin.CheckinRefused as refused:
        raise refusal(refused.problem, refused.status) from None
    if not result.first:
        response.status_code = status.HTTP_200_OK
    person = result.participant
    category = deps.pack.category(person["category"])
    return CheckinView(
        first_today=result.first,
        checkin_id=result.checkin_id,
        point=result.point,
        day=result.day,
        participant_id=person["_id"],
        given_name=person["given_name"],
        family_name=person["family_name"],
        category=person["category"],
        badge_colour=category.badge_colour if category else "#37474F",
    )

"""The secretariat's HTTP API for badges: one participant's (PNG, printable PDF), sheets in bulk."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import SecretStr

from services.registration.badges import handlers as badges
from services.registration.deps import Deps, Registration, Settings
from services.registration.responses import PDF, PNG, refusal, responses, sheet_headers
from services.registration.settings import RegistrationSettings
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["accreditation", "badges", "consent", "erasure"])


def badge_secret(settings: RegistrationSettings) -> SecretStr:
    """The badges' signing secret; 503 while badges are not configured."""
    if settings.badge_secret is None or not settings.badge_secret.get_secret_value():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="badges are not configured")
    return settings.badge_secret


async def participant_badge(participant_id: uuid.UUID, deps: Registration) -> None:
    try:
        await badges.ensure_badge(str(participant_id), deps)
    except badges.BadgeRefused as refused:
        unknown = refused.problem.code == "unknown_participant"
        raise refusal(
            refused.problem, status.HTTP_404_NOT_FOUND if unknown else status.HTTP_409_CONFLICT
        ) from None


@router.get(
    "/participants/{participant_id}/badge.png",
    summary="A participant's badge (PNG)",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}, **responses(401, 404, 409, 503)},
    description="Only for a confirmed participant who is accredited when the category requires it; "
    "anyone else is refused (409) with the reason.",
    dependencies=[Depends(require(Permission.BADGES_PRINT))],
)
async def badge_png(participant_id: uuid.UUID, deps: Deps, settings: Settings) -> Response:
    secret = badge_secret(settings)
    await participant_badge(participant_id, deps)
    png = await badges.badge_png(str(participant_id), deps, secret)
    return Response(png, media_type=PNG, headers={"Cache-Control": "no-store"})


@router.get(
    "/participants/{participant_id}/badge.pdf",
    summary="A participant's badge (printable PDF)",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, **responses(401, 404, 409, 503)},
    dependencies=[Depends(require(Permission.BADGES_PRINT))],
)
async def badge_pdf(
    participant_id: uuid.UUID, deps: Deps, settings: Settings, layout: Literal["a6", "a4"] = "a6"
) -> Response:
    secret = badge_secret(settings)
    await participant_badge(participant_id, deps)
    pdf, _ = await badges.badge_sheet([str(participant_id)], deps, secret, layout)
    return Response(pdf, media_type=PDF, headers={"Cache-Control": "no-store"})


@router.get(
    "/badges/sheet.pdf",
    summary="Print badges in bulk (A4, four per page, or A6)",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, **responses(401, 503)},
    description="Confirmed participants of a category, or the ids given; sorted by family name.",
    dependencies=[Depends(require(Permission.BADGES_PRINT))],
)
async def badge_sheet(
    deps: Deps,
    settings: Settings,
    category: str | None = Query(None, max_length=50),
    participant_id: list[uuid.UUID] | None = Query(None),
    layout: Literal["a4", "a6"] = "a4",
    limit: int = Query(200, ge=1, le=500),
) -> Response:
    secret = badge_secret(settings)
    ids = [str(p) for p in participant_id] if participant_id else None
    holders = await deps.repository.badge_holders(
        deps.pack.forum.id, participant_ids=ids, category=category, limit=limit
    )
    pdf, skipped = await badges.badge_sheet([h["_id"] for h in holders], deps, secret, layout)
    return Response(pdf, media_type=PDF, headers=sheet_headers("badges.pdf", skipped))

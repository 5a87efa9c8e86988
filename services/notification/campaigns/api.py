"""Campaigns' routes (secretariat): send an information campaign to a segment; its progress."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notification.access import NotificationDeps, Runtime
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.notification import CampaignRequested, LocalizedText, Segment
from shared.messaging.publishers import publish_event

router = APIRouter(tags=["secretariat"])


Channel = Literal["email", "sms"]


def _email_only() -> list[Channel]:
    return ["email"]


class CampaignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    message_type: str = Field("info_campaign", pattern=r"^[a-z][a-z0-9_]{0,49}$")
    segment: Segment = Field(default_factory=Segment)
    channels: list[Channel] = Field(default_factory=_email_only, min_length=1)
    subject: LocalizedText
    body: LocalizedText
    essential: bool = False


class Accepted(BaseModel):
    accepted: bool = True
    event_id: uuid.UUID


@router.post(
    "/campaigns",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Send an information campaign to a segment",
    dependencies=[Depends(require(Permission.MESSAGES_SEND))],
)
async def request_campaign(
    body: CampaignBody, deps: NotificationDeps, runtime: Runtime
) -> Accepted:
    # A command taken at the edge, with no state to write first: published as it is.
    event = CampaignRequested(
        producer="notification-secretariat", forum_id=deps.pack.forum.id, **body.model_dump()
    )
    await publish_event(runtime.broker, runtime.topology, event)
    return Accepted(event_id=event.event_id)


class Audience(BaseModel):
    """Who a campaign to `segment` would reach if it were sent now."""

    segment: Segment
    contacts: int = Field(description="People in the segment with an e-mail address.")
    opted_out: int = Field(
        description="Of them, people who opted out of non-essential messages: a non-essential "
        "campaign records a suppressed message for them and sends nothing."
    )
    reached: int = Field(description="People a non-essential campaign would send to.")


@router.get(
    "/campaigns/audience",
    response_model=Audience,
    summary="Count a segment before sending a campaign to it (sends nothing)",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def campaign_audience(
    deps: NotificationDeps,
    categories: list[str] = Query(default_factory=list, max_length=50),
    countries: list[str] = Query(default_factory=list, max_length=100),
    languages: list[str] = Query(default_factory=list, max_length=2),
    statuses: list[str] = Query(default_factory=list, max_length=3),
) -> Audience:
    values: dict[str, Any] = {"categories": categories, "countries": countries}
    values["languages"] = languages
    if statuses:  # none given: the campaign's default (confirmed only)
        values["statuses"] = statuses
    try:
        segment = Segment.model_validate(values)
    except ValidationError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {"loc": ["query", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in error.errors(include_url=False)
            ],
        ) from None
    contacts, opted_out = await deps.repository.segment_size(segment.model_dump())
    return Audience(
        segment=segment, contacts=contacts, opted_out=opted_out, reached=contacts - opted_out
    )


@router.get(
    "/campaigns/{campaign_id}",
    summary="A campaign's progress",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def get_campaign(campaign_id: str, deps: NotificationDeps) -> dict[str, Any]:
    repo = deps.repository
    campaign = await repo.campaign(campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="campaign not found")
    return {
        "campaign_id": campaign["_id"],
        "status": campaign["status"],
        "segment": campaign["segment"],
        "message_type": campaign["message_type"],
        "created": campaign.get("counts", {}),
        "delivery": await repo.counts({"campaign_id": campaign_id}),
    }

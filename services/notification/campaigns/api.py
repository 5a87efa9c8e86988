"""Campaigns' routes (secretariat): send an information campaign to a segment; its progress."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

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

"""Notification's HTTP API for the secretariat: delivery status, replay, preferences, campaigns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.notification import handlers
from services.notification.repository import MessageFilter
from services.notification.settings import NotificationSettings
from shared.contracts.notification import CampaignRequested, LocalizedText, Segment
from shared.http import require_token
from shared.messaging.publishers import publish_event
from shared.messaging.topology import Topology

Status = Literal["queued", "sending", "retrying", "sent", "failed", "suppressed"]


class MessageView(BaseModel):
    """A message as the secretariat sees its delivery."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: str = Field(alias="_id")
    message_type: str
    channel: str
    person_id: str
    to: str | None = None
    language: str
    essential: bool
    status: Status
    suppressed_reason: str | None = None
    attempts: int
    replays: int = 0
    provider: str | None = None
    provider_message_id: str | None = None
    last_error: str | None = None
    source_event_id: str
    source_event_type: str
    campaign_id: str | None = None
    reminder_id: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    history: list[dict[str, Any]] = []


class ParkedView(BaseModel):
    """A trigger waiting for a person's contact (registration has not told notification about them
    yet); its messages are made as soon as the contact arrives. The event's body is not shown."""

    model_config = ConfigDict(populate_by_name=True)

    parked_id: str = Field(alias="_id")
    person_id: str
    event_id: str
    event_type: str
    parked_at: datetime | None = None


class ParkedPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ParkedView]


class MessagePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MessageView]


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["es", "en"] | None = None
    channels: list[Literal["email", "sms"]] | None = Field(None, min_length=1)
    opt_out_non_essential: bool | None = None


class CampaignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    message_type: str = Field("info_campaign", pattern=r"^[a-z][a-z0-9_]{0,49}$")
    segment: Segment = Field(default_factory=Segment)
    channels: list[Literal["email", "sms"]] = Field(default_factory=lambda: ["email"], min_length=1)
    subject: LocalizedText
    body: LocalizedText
    essential: bool = False


class Accepted(BaseModel):
    accepted: bool = True
    event_id: uuid.UUID


def build_routers(
    deps: handlers.Notification, settings: NotificationSettings, broker: Any, topology: Topology
) -> list[APIRouter]:
    secretariat = APIRouter(
        tags=["secretariat"], dependencies=[Depends(require_token(settings.api_tokens))]
    )
    repo = deps.repository

    @secretariat.get("/messages", response_model=MessagePage, summary="Delivery status of messages")
    async def list_messages(
        status_: Status | None = Query(None, alias="status"),
        person_id: str | None = Query(None, max_length=100),
        message_type: str | None = Query(None, pattern=r"^[a-z][a-z0-9_]{0,49}$"),
        channel: Literal["email", "sms"] | None = None,
        campaign_id: str | None = Query(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
        source_event_id: str | None = Query(None, max_length=200),
        offset: int = Query(0, ge=0, le=100_000),
        limit: int = Query(50, ge=1, le=200),
    ) -> MessagePage:
        where = MessageFilter(
            status_, person_id, message_type, channel, campaign_id, source_event_id
        )
        total, items = await repo.list(where, offset=offset, limit=limit)
        return MessagePage(
            total=total,
            offset=offset,
            limit=limit,
            items=[MessageView.model_validate(i) for i in items],
        )

    @secretariat.get(
        "/messages/summary", summary="Messages by status, and triggers parked for a contact"
    )
    async def summary(
        campaign_id: str | None = Query(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
    ) -> dict[str, int]:
        if campaign_id:
            return await repo.counts({"campaign_id": campaign_id})
        return {**await repo.counts(), "parked": await repo.waiting_count()}

    @secretariat.get(
        "/parked-triggers",
        response_model=ParkedPage,
        summary="Triggers waiting for a person's contact (no message yet)",
    )
    async def parked(
        person_id: str | None = Query(None, max_length=100),
        offset: int = Query(0, ge=0, le=100_000),
        limit: int = Query(50, ge=1, le=200),
    ) -> ParkedPage:
        total, items = await repo.list_parked(person_id, offset=offset, limit=limit)
        return ParkedPage(
            total=total,
            offset=offset,
            limit=limit,
            items=[ParkedView.model_validate(i) for i in items],
        )

    @secretariat.get("/messages/{message_id}", response_model=MessageView, summary="One message")
    async def get_message(message_id: uuid.UUID) -> MessageView:
        document = await repo.view(str(message_id))
        if document is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="message not found")
        return MessageView.model_validate(document)

    @secretariat.post(
        "/messages/{message_id}/replay",
        response_model=MessageView,
        summary="Send a failed message again",
    )
    async def replay_message(message_id: uuid.UUID) -> MessageView:
        document = await handlers.replay(str(message_id), deps)
        if document is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail="only failed (or suppressed, with an address) messages can be replayed",
            )
        return MessageView.model_validate(document)

    @secretariat.get(
        "/people/{person_id}/preferences", summary="A person's notification preferences"
    )
    async def get_preferences(person_id: uuid.UUID) -> dict[str, Any]:
        contact = await repo.contact(str(person_id))
        if contact is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail="person not known to notification"
            )
        return {
            "person_id": str(person_id),
            "language": contact.get("language"),
            **(contact.get("preferences") or {}),
        }

    @secretariat.put("/people/{person_id}/preferences", summary="Set language, channels or opt-out")
    async def set_preferences(person_id: uuid.UUID, body: PreferencesBody) -> dict[str, Any]:
        changes = body.model_dump(exclude_none=True)
        if not changes:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="body: nothing to change"
            )
        contact = await repo.set_preferences(str(person_id), changes)
        return {"person_id": str(person_id), **(contact.get("preferences") or {})}

    @secretariat.post(
        "/campaigns",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=Accepted,
        summary="Send an information campaign to a segment",
    )
    async def request_campaign(body: CampaignBody) -> Accepted:
        event = CampaignRequested(
            producer="notification-secretariat", forum_id=deps.pack.forum.id, **body.model_dump()
        )
        await publish_event(broker, topology, event)
        return Accepted(event_id=event.event_id)

    @secretariat.get("/campaigns/{campaign_id}", summary="A campaign's progress")
    async def get_campaign(campaign_id: str) -> dict[str, Any]:
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

    return [secretariat]

"""Messages' routes (secretariat): delivery status, and a failed message sent again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.notification.access import NotificationDeps
from services.notification.delivery.sweep import replay
from services.notification.repository import MessageFilter
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])

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


class MessagePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MessageView]


@router.get(
    "/messages",
    response_model=MessagePage,
    summary="Delivery status of messages",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def list_messages(
    deps: NotificationDeps,
    status_: Status | None = Query(None, alias="status"),
    person_id: str | None = Query(None, max_length=100),
    message_type: str | None = Query(None, pattern=r"^[a-z][a-z0-9_]{0,49}$"),
    channel: Literal["email", "sms"] | None = None,
    campaign_id: str | None = Query(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
    source_event_id: str | None = Query(None, max_length=200),
    offset: int = Query(0, ge=0, le=100_000),
    limit: int = Query(50, ge=1, le=200),
) -> MessagePage:
    where = MessageFilter(status_, person_id, message_type, channel, campaign_id, source_event_id)
    total, items = await deps.repository.page(where, offset=offset, limit=limit)
    return MessagePage(
        total=total,
        offset=offset,
        limit=limit,
        items=[MessageView.model_validate(i) for i in items],
    )


@router.get(
    "/messages/summary",
    summary="Messages by status, and triggers parked for a contact",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def summary(
    deps: NotificationDeps,
    campaign_id: str | None = Query(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
) -> dict[str, int]:
    repo = deps.repository
    if campaign_id:
        return await repo.counts({"campaign_id": campaign_id})
    return {**await repo.counts(), "parked": await repo.waiting_count()}


@router.get(
    "/messages/{message_id}",
    response_model=MessageView,
    summary="One message",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def get_message(message_id: uuid.UUID, deps: NotificationDeps) -> MessageView:
    document = await deps.repository.view(str(message_id))
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="message not found")
    return MessageView.model_validate(document)


@router.post(
    "/messages/{message_id}/replay",
    response_model=MessageView,
    summary="Send a failed message again",
    dependencies=[Depends(require(Permission.MESSAGES_SEND))],
)
async def replay_message(message_id: uuid.UUID, deps: NotificationDeps) -> MessageView:
    document = await replay(str(message_id), deps)
    if document is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="only failed (or suppressed, with an address) messages can be replayed",
        )
    return MessageView.model_validate(document)

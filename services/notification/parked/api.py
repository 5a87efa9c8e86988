"""Parked triggers' route (secretariat): who notification waits for."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.notification.access import NotificationDeps
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])


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


@router.get(
    "/parked-triggers",
    response_model=ParkedPage,
    summary="Triggers waiting for a person's contact (no message yet)",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def parked(
    deps: NotificationDeps,
    person_id: str | None = Query(None, max_length=100),
    offset: int = Query(0, ge=0, le=100_000),
    limit: int = Query(50, ge=1, le=200),
) -> ParkedPage:
    total, items = await deps.repository.list_parked(person_id, offset=offset, limit=limit)
    return ParkedPage(
        total=total, offset=offset, limit=limit, items=[ParkedView.model_validate(i) for i in items]
    )

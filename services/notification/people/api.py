"""People's routes (secretariat): a person's notification preferences."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from services.notification.access import NotificationDeps
from services.notification.people.handlers import set_preferences_of
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["es", "en"] | None = None
    channels: list[Literal["email", "sms"]] | None = Field(None, min_length=1)
    opt_out_non_essential: bool | None = None


@router.get(
    "/people/{person_id}/preferences",
    summary="A person's notification preferences",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def get_preferences(person_id: uuid.UUID, deps: NotificationDeps) -> dict[str, Any]:
    contact = await deps.repository.contact(str(person_id))
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="person not known to notification")
    return {
        "person_id": str(person_id),
        "language": contact.get("language"),
        **(contact.get("preferences") or {}),
    }


@router.put(
    "/people/{person_id}/preferences",
    summary="Set language, channels or opt-out",
    dependencies=[Depends(require(Permission.MESSAGES_SEND))],
)
async def set_preferences(
    person_id: uuid.UUID, body: PreferencesBody, deps: NotificationDeps
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="body: nothing to change")
    contact = await set_preferences_of(deps, str(person_id), changes)
    return {"person_id": str(person_id), **(contact.get("preferences") or {})}

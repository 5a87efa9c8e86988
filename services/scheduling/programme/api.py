"""The draft programme, for the secretariat (bearer token, under `/programme`): read it with its
conflicts, add, move, retitle, resize, cancel and restore sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.scheduling.conflicts.handlers import of_draft
from services.scheduling.deps import Deps, Refused, Scheduling
from services.scheduling.documents import CANCELLED, SCHEDULED
from services.scheduling.programme import handlers
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(prefix="/programme", tags=["secretariat"])

CODE = r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Text(Body):
    es: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class SessionEdit(Body):
    """Fields to change on a draft session. Times: ISO 8601; without an offset they are venue time."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,49}$")
    title: Text | None = None
    description: Text | None = None
    expected_audience: int | None = Field(None, ge=0, le=100_000)
    seats: int | None = Field(
        None, ge=0, le=100_000, description="Sign-up capacity; default the room's."
    )


class SessionNew(SessionEdit):
    code: str = Field(pattern=CODE, examples=["B2.7"])
    kind: Literal["inauguration", "expo_opening", "block", "session", "break", "closing"] = (
        "session"
    )
    parent: str | None = Field(None, pattern=CODE)
    starts_at: datetime
    ends_at: datetime
    title: Text

    @model_validator(mode="after")
    def _times(self) -> SessionNew:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


class CancelBody(Body):
    reason: str | None = Field(None, max_length=500)


def local(deps: Scheduling, moment: datetime) -> datetime:
    """A time without an offset is venue time."""
    return moment.replace(tzinfo=deps.pack.forum.tz) if moment.tzinfo is None else moment


@router.get(
    "/draft",
    summary="The draft programme with people, seats and conflicts",
    dependencies=[Depends(require(Permission.PROGRAMME_READ))],
)
async def draft(deps: Deps) -> dict[str, Any]:
    documents = await deps.repository.draft(deps.forum_id)
    return {"sessions": documents, "conflicts": [c.as_dict() for c in of_draft(deps, documents)]}


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Add a session to the draft",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def add_session(body: SessionNew, deps: Deps) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True)
    fields.update(
        starts_at=local(deps, body.starts_at),
        ends_at=local(deps, body.ends_at),
        parent=body.parent,
        description=body.description.model_dump() if body.description else None,
        topics=[],
        expected_audience=body.expected_audience or 0,
        seats=body.seats,
        room=body.room,
    )
    try:
        return await handlers.create_session(deps, fields)
    except Refused as error:
        raise error.as_http() from None


@router.patch(
    "/sessions/{code}",
    summary="Move, retitle or resize a draft session",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def patch_session(code: str, body: SessionEdit, deps: Deps) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for name in ("starts_at", "ends_at", "title", "expected_audience"):
        if name in fields and fields[name] is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{name}: may not be null"
            )
    for name in ("starts_at", "ends_at"):
        if name in fields:
            fields[name] = local(deps, fields[name])
    current = await deps.repository.session(deps.session_id(code))
    if current is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="code: no such session")
    if fields.get("starts_at", current["starts_at"]) >= fields.get("ends_at", current["ends_at"]):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="ends_at: must be after starts_at"
        )
    try:
        return await handlers.edit_session(deps, code, fields)
    except Refused as error:
        raise error.as_http() from None


@router.post(
    "/sessions/{code}/cancel",
    summary="Cancel a session in the draft",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def cancel_session(code: str, deps: Deps, body: CancelBody | None = None) -> dict[str, Any]:
    try:
        return await handlers.edit_session(
            deps, code, {"status": CANCELLED, "cancel_reason": body.reason if body else None}
        )
    except Refused as error:
        raise error.as_http() from None


@router.post(
    "/sessions/{code}/restore",
    summary="Undo a cancellation in the draft",
    dependencies=[Depends(require(Permission.PROGRAMME_EDIT))],
)
async def restore_session(code: str, deps: Deps) -> dict[str, Any]:
    try:
        return await handlers.edit_session(deps, code, {"status": SCHEDULED, "cancel_reason": None})
    except Refused as error:
        raise error.as_http() from None

"""B2B meetings' routes, for participants and exhibitors alike (`MeetingParty`)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from services.expo.access import ExpoDeps, MeetingParty
from services.expo.deps import calendar_id
from services.expo.meetings import handlers, rules
from services.expo.schemas import MeetingRequest

people = APIRouter(tags=["participants and exhibitors"])

VIEW = (
    "status",
    "requester",
    "invitee",
    "topic",
    "starts_at",
    "ends_at",
    "table",
    "explanation",
    "requested_at",
)


def meeting_view(document: dict[str, Any]) -> dict[str, Any]:
    return {"meeting_id": document["_id"], **{k: document.get(k) for k in VIEW}}


@people.post(
    "/meetings", status_code=status.HTTP_201_CREATED, summary="Ask someone for a B2B meeting"
)
async def request_meeting(
    body: MeetingRequest, party: MeetingParty, deps: ExpoDeps
) -> dict[str, Any]:
    return meeting_view(await handlers.request_meeting(deps, party, body))


@people.post("/meetings/{meeting_id}/accept", summary="Accept: the meeting gets a slot and a table")
async def accept(meeting_id: uuid.UUID, party: MeetingParty, deps: ExpoDeps) -> dict[str, Any]:
    return meeting_view(await handlers.accept_meeting(deps, str(meeting_id), party))


@people.post("/meetings/{meeting_id}/decline", summary="Decline a meeting request")
async def decline(meeting_id: uuid.UUID, party: MeetingParty, deps: ExpoDeps) -> dict[str, Any]:
    return meeting_view(
        await handlers.decline_meeting(deps, str(meeting_id), party, rules.DECLINED)
    )


@people.get("/meetings", summary="My meetings")
async def my_meetings(party: MeetingParty, deps: ExpoDeps) -> list[dict[str, Any]]:
    found = await deps.repository.meetings_of_party(calendar_id(party.kind, str(party.id)))
    return [meeting_view(m) for m in found]


ROUTERS = (people,)

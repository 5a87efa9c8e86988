"""B2B meetings' use cases: a request, its answer, and moving confirmed meetings off a session
one of the parties signed up for (sessions win).

Accepting touches several documents — the invitee's cap, both calendars, a table, the meeting —
each one idempotent single-document write, so a retried accept completes what a crash cut short
(`booking.place` first gives back the holds a failed attempt left).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import structlog

from services.expo.calendars import booking
from services.expo.calendars.rules import Slot, cap_explanation
from services.expo.common import Refused, refused
from services.expo.deps import Expo, calendar_id, on
from services.expo.documents import AttendeeDocument, ExhibitorDocument, MeetingDocument
from services.expo.meetings import rules
from services.expo.schemas import MeetingRequest
from shared.contracts.envelope import Event
from shared.contracts.expo import Explanation, Party

log = structlog.get_logger("foro.expo")


async def party_exists(deps: Expo, party: Party) -> bool:
    if party.kind == "exhibitor":
        exhibitor = ExhibitorDocument.read(await deps.repository.exhibitor(str(party.id)))
        return rules.may_meet(party, exhibitor, None)
    attendee = AttendeeDocument.read(await deps.repository.attendee(str(party.id)))
    return rules.may_meet(party, None, attendee)


async def request_meeting(deps: Expo, requester: Party, request: MeetingRequest) -> dict[str, Any]:
    invitee = request.invitee
    if requester == invitee:
        raise refused(
            422,
            "same_party",
            "No puede pedirse una reunión a sí mismo.",
            "You cannot meet yourself.",
        )
    if not await party_exists(deps, requester):
        raise refused(
            403,
            "not_confirmed",
            "Solo participantes confirmados y expositores aprobados piden reuniones.",
            "Only confirmed participants and approved exhibitors request meetings.",
        )
    if not await party_exists(deps, invitee):
        raise refused(
            404,
            "unknown_invitee",
            "La otra parte no es un participante confirmado ni un expositor aprobado.",
            "The other party is not a confirmed participant or an approved exhibitor.",
        )
    meeting_id = str(uuid.uuid4())
    if not await booking.take_cap(deps, requester, meeting_id):
        raise Refused(409, cap_explanation(deps.settings.meeting_cap))
    parties = [
        calendar_id(requester.kind, str(requester.id)),
        calendar_id(invitee.kind, str(invitee.id)),
    ]
    rule = partial(
        rules.requested,
        meeting_id=meeting_id,
        forum_id=deps.pack.forum.id,
        requester=requester,
        invitee=invitee,
        parties=parties,
        topic=request.topic,
        now=deps.clock(),
    )
    applied = await deps.repository.meetings.apply(meeting_id, None, on(MeetingDocument, rule))
    return applied.document or {}


async def _meeting_for(
    deps: Expo, meeting_id: str, actor: Party | None
) -> tuple[dict[str, Any], MeetingDocument]:
    """The meeting as stored (what the API shows) and its model."""
    stored = await deps.repository.meeting(meeting_id)
    meeting = MeetingDocument.read(stored)
    if stored is None or meeting is None:
        raise refused(404, "not_found", "Reunión desconocida.", "Unknown meeting.")
    if actor is not None and meeting.invitee != actor:
        raise refused(
            403,
            "not_invitee",
            "Solo la parte invitada responde a la solicitud.",
            "Only the invited party answers the request.",
        )
    return stored, meeting


async def decline_meeting(
    deps: Expo, meeting_id: str, actor: Party | None, explanation: Explanation
) -> dict[str, Any]:
    stored, meeting = await _meeting_for(deps, meeting_id, actor)
    applied = await deps.repository.meetings.apply(
        meeting_id, None, on(MeetingDocument, partial(rules.decline, explanation=explanation))
    )
    for side in (meeting.requester, meeting.invitee):
        await booking.give_back_cap(deps, side, meeting_id)
    return applied.document or stored


# A meeting's state as a refusal names it to the person (never the code).
STATE_NAMES: dict[str, dict[str, str]] = {
    "requested": {"es": "solicitada", "en": "requested"},
    "confirmed": {"es": "confirmada", "en": "confirmed"},
    "accepted": {"es": "aceptada", "en": "accepted"},
    "declined": {"es": "declinada", "en": "declined"},
    "held": {"es": "celebrada", "en": "held"},
}


async def accept_meeting(deps: Expo, meeting_id: str, actor: Party | None) -> dict[str, Any]:
    stored, meeting = await _meeting_for(deps, meeting_id, actor)
    if meeting.status == "confirmed":
        return stored
    if meeting.status != "requested":
        raise refused(
            409,
            "not_open",
            f"La reunión ya está {STATE_NAMES.get(meeting.status, {}).get('es', meeting.status)}.",
            f"The meeting is already {STATE_NAMES.get(meeting.status, {}).get('en', meeting.status)}.",
        )
    if not await booking.take_cap(deps, meeting.invitee, meeting_id):
        return await decline_meeting(
            deps, meeting_id, None, cap_explanation(deps.settings.meeting_cap)
        )
    placed = await booking.place(
        deps,
        f"meeting:{meeting_id}",
        meeting.parties,
        deps.settings.meeting_minutes,
        table=True,
        kind="meeting",
    )
    if placed is None:
        return await decline_meeting(deps, meeting_id, None, rules.NO_COMMON_SLOT)
    slot, table = placed
    applied = await deps.repository.meetings.apply(
        meeting_id, None, on(MeetingDocument, partial(rules.confirm, slot=slot, table=table))
    )
    log.info("meeting confirmed", meeting_id=meeting_id)
    return applied.document or {}


async def move_meetings_off(deps: Expo, party: str, slot: Slot, cause: Event) -> None:
    """Re-place every confirmed meeting of `party` overlapping `slot`. Read from the meetings
    themselves (not the holds), so a redelivered cause finishes a move a crash cut short."""
    for found in await deps.repository.confirmed_meetings_between(
        party, slot.starts_at, slot.ends_at
    ):
        await _reschedule(deps, MeetingDocument.model_validate(found), cause)


async def _reschedule(deps: Expo, meeting: MeetingDocument, cause: Event) -> None:
    hold_id, previous = f"meeting:{meeting.id}", meeting.starts_at
    assert previous is not None  # a confirmed meeting has its slot
    await booking.release_table(deps, previous, hold_id)
    placed = await booking.place(
        deps, hold_id, meeting.parties, deps.settings.meeting_minutes, table=True, kind="meeting"
    )
    rule = partial(rules.moved, previous=previous, placed=placed, cause_id=cause.event_id)
    await deps.repository.meetings.apply(meeting.id, None, on(MeetingDocument, rule))
    log.info("meeting moved off a session", meeting_id=meeting.id, placed=placed is not None)

"""B2B meetings' rules, free of I/O:

requested ─► confirmed (a common free slot and a table) ─► moved off a session
          └► declined (by the invitee, the cap, or no common slot left)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.expo.calendars.rules import Slot
from services.expo.common import explain, new_event
from services.expo.documents import AttendeeDocument, ExhibitorDocument, MeetingDocument
from shared.contracts.expo import (
    Explanation,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingRequested,
    Party,
)
from shared.decisions import Change

SESSION_CONFLICT = explain(
    "session_conflict",
    "Una de las partes se inscribió en una sesión a esa hora.",
    "One of the parties signed up for a session at that time.",
)
NO_COMMON_SLOT = explain(
    "no_common_slot",
    "No queda un horario libre común con mesa disponible durante la Expo.",
    "No common free slot with a free table is left during the Expo.",
)
DECLINED = explain("declined", "La otra parte declinó la reunión.", "The other party declined.")


def may_meet(
    party: Party, exhibitor: ExhibitorDocument | None, attendee: AttendeeDocument | None
) -> bool:
    """An approved exhibitor, or a confirmed participant whose data was not erased."""
    if party.kind == "exhibitor":
        return exhibitor is not None and exhibitor.status == "approved"
    return attendee is not None and attendee.status == "confirmed" and not attendee.erased


def _sides(document: MeetingDocument) -> dict[str, Any]:
    return {
        "forum_id": document.forum_id,
        "meeting_id": document.id,
        "requester": document.requester,
        "invitee": document.invitee,
    }


def requested(
    document: MeetingDocument | None,
    meeting_id: str,
    forum_id: str,
    requester: Party,
    invitee: Party,
    parties: list[str],
    topic: str,
    now: datetime,
) -> Change | None:
    """A new request, with `meeting.requested`."""
    if document is not None:
        return None
    event = new_event(
        MeetingRequested,
        meeting_id,
        forum_id=forum_id,
        meeting_id=meeting_id,
        requester=requester,
        invitee=invitee,
        topic=topic,
    )
    return Change(
        set={
            "forum_id": forum_id,
            "status": "requested",
            "requester": requester.model_dump(mode="json"),
            "invitee": invitee.model_dump(mode="json"),
            "parties": parties,
            "topic": topic,
            "requested_at": now,
        },
        events=[event],
    )


def decline(document: MeetingDocument | None, explanation: Explanation) -> Change | None:
    if document is None or document.status != "requested":
        return None
    event = new_event(MeetingDeclined, document.id, **_sides(document), explanation=explanation)
    return Change(
        set={"status": "declined", "explanation": explanation.model_dump()}, events=[event]
    )


def confirm(document: MeetingDocument | None, slot: Slot, table: int | None) -> Change | None:
    if document is None or document.status != "requested":
        return None
    event = new_event(
        MeetingConfirmed,
        document.id,
        **_sides(document),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        table=table,
    )
    return Change(
        set={
            "status": "confirmed",
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "table": table,
        },
        events=[event],
    )


def moved(
    document: MeetingDocument | None,
    previous: datetime | None,
    placed: tuple[Slot, int | None] | None,
    cause_id: object,
) -> Change | None:
    """A confirmed meeting moved off a session to `placed`, or declined when no slot is left."""
    if document is None or document.status != "confirmed" or document.starts_at != previous:
        return None
    if placed is None:
        explanation = explain(
            "no_common_slot",
            f"{SESSION_CONFLICT.es} No queda otro horario común.",
            f"{SESSION_CONFLICT.en} No other common slot is left.",
        )
        declined = new_event(
            MeetingDeclined, document.id, cause_id, **_sides(document), explanation=explanation
        )
        return Change(
            set={"status": "declined", "explanation": explanation.model_dump()}, events=[declined]
        )
    slot, table = placed
    confirmed = new_event(
        MeetingConfirmed,
        document.id,
        cause_id,
        **_sides(document),
        previous_starts_at=previous,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        table=table,
        explanation=SESSION_CONFLICT,
    )
    return Change(
        set={"starts_at": slot.starts_at, "ends_at": slot.ends_at, "table": table},
        events=[confirmed],
    )


def erased(document: MeetingDocument | None) -> Change | None:
    """The topic is free text the requester wrote; it may name the person."""
    return Change(set={"topic": None, "erased": True}) if document else None

"""Sign-ups: a session's seats and waitlist (on its `SessionDocument`), and the times a
participant holds (their `Attendance`), so nobody holds two overlapping sessions. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.scheduling.documents import (
    PRODUCER,
    SCHEDULED,
    SIGNUP_KINDS,
    Attendance,
    SessionDocument,
    dump_all,
)
from services.scheduling.releases.rules import slot, snapshot, title_of
from shared.contracts.envelope import Event
from shared.contracts.scheduling import (
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
    SessionSignupWaitlisted,
)
from shared.decisions import Change, Decision
from shared.pack import EventPack


@dataclass(frozen=True)
class SeatOutcome:
    status: Literal["confirmed", "waitlisted", "refused"]
    position: int = 0
    reason: str | None = None


def capacity_of(doc: SessionDocument, rooms: Mapping[str, int]) -> int | None:
    """Seats for sign-up: set by the secretariat, else the room's capacity; None = no limit."""
    if doc.seats is not None:
        return doc.seats
    return rooms.get(doc.room or "")


def refusal(doc: SessionDocument | None) -> str | None:
    """Why nobody can sign up for this session (None: they can)."""
    if doc is None:
        return "session: no such session"
    if doc.status != SCHEDULED:
        return "session: the session is cancelled"
    if doc.kind not in SIGNUP_KINDS:
        return f"session: a {doc.kind} takes no sign-ups"
    return None


def _signup_payload(doc: SessionDocument, participant_id: str, pack: EventPack) -> dict[str, Any]:
    return {
        "producer": PRODUCER,
        "forum_id": doc.forum_id,
        "session_code": doc.code,
        "participant_id": uuid.UUID(participant_id),
        "title": title_of(doc),
        "slot": slot(snapshot(doc), pack),
    }


def take_seat(
    doc: SessionDocument | None, participant_id: str, pack: EventPack, rooms: Mapping[str, int]
) -> Decision[SeatOutcome]:
    """A seat if one is free, else a waitlist place; asking twice changes nothing."""
    if doc is not None:
        if participant_id in doc.confirmed:
            return Decision(SeatOutcome("confirmed"))
        if participant_id in doc.waitlist:
            return Decision(SeatOutcome("waitlisted", doc.waitlist.index(participant_id) + 1))
    if (reason := refusal(doc)) is not None or doc is None:
        return Decision(SeatOutcome("refused", reason=reason))
    capacity = capacity_of(doc, rooms)
    payload = _signup_payload(doc, participant_id, pack)
    # Nobody jumps the queue: a free seat goes to the waitlist first (see `give_up_seat`).
    if (capacity is None or len(doc.confirmed) < capacity) and not doc.waitlist:
        return Decision(
            SeatOutcome("confirmed"),
            Change(
                set={"confirmed": [*doc.confirmed, participant_id]},
                events=[SessionSignupConfirmed(**payload)],
            ),
        )
    waitlist = [*doc.waitlist, participant_id]
    return Decision(
        SeatOutcome("waitlisted", len(waitlist)),
        Change(
            set={"waitlist": waitlist},
            events=[SessionSignupWaitlisted(**payload, position=len(waitlist))],
        ),
    )


def give_up_seat(
    doc: SessionDocument | None, participant_id: str, pack: EventPack, rooms: Mapping[str, int]
) -> Decision[list[str]]:
    """Free the participant's seat or waitlist place and promote the first waiting; idempotent.
    Returns who was promoted."""
    if doc is None:
        return Decision([])
    confirmed, waitlist = list(doc.confirmed), list(doc.waitlist)
    was: Literal["confirmed", "waitlisted"]
    if participant_id in confirmed:
        was = "confirmed"
        confirmed.remove(participant_id)
    elif participant_id in waitlist:
        was = "waitlisted"
        waitlist.remove(participant_id)
    else:
        return Decision([])
    events: list[Event] = [
        SessionSignupCancelled(**_signup_payload(doc, participant_id, pack), was=was)
    ]
    capacity = capacity_of(doc, rooms)
    promoted: list[str] = []
    while waitlist and (capacity is None or len(confirmed) < capacity):
        promoted.append(waitlist.pop(0))
        confirmed.append(promoted[-1])
        events.append(SessionSignupPromoted(**_signup_payload(doc, promoted[-1], pack)))
    return Decision(
        promoted, Change(set={"confirmed": confirmed, "waitlist": waitlist}, events=events)
    )


# --- a participant's time: the attendance document -------------------------------------------


def reserve_time(
    attendance: Attendance,
    participant_id: str,
    code: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Decision[str | None]:
    """Hold the session's time for the participant unless another held session overlaps it.

    The result is None (held, or held already) or the code of the overlapping session.
    """
    holds = attendance.holds
    if any(h.code == code for h in holds):
        return Decision(None)
    for hold in holds:
        if hold.starts_at < end and start < hold.ends_at:
            return Decision(hold.code)
    new = {"code": code, "starts_at": start, "ends_at": end, "held_at": now}
    return Decision(
        None, Change(set={"holds": [*dump_all(holds), new], "participant_id": participant_id})
    )


def release_time(attendance: Attendance, code: str) -> Change | None:
    kept = [h for h in attendance.holds if h.code != code]
    return Change(set={"holds": dump_all(kept)}) if len(kept) != len(attendance.holds) else None


def retime_hold(attendance: Attendance, code: str, start: datetime, end: datetime) -> Change | None:
    holds = attendance.holds
    updated = [
        (h.model_copy(update={"starts_at": start, "ends_at": end}) if h.code == code else h)
        for h in holds
    ]
    if all(
        (a.starts_at, a.ends_at) == (b.starts_at, b.ends_at)
        for a, b in zip(updated, holds, strict=True)
    ):
        return None
    return Change(set={"holds": dump_all(updated)})

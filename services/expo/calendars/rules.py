"""Busy calendars, free of I/O: the expo's opening hours as slots, holds that never overlap,
meeting tables per slot, the meeting cap, and session holds that come out the same whatever
order scheduling's events arrive in.

A calendar (`CalendarDocument`) belongs to a participant or an exhibitor. A hold is placed by
one conditional write on one calendar (`reserve`); a use case holding two calendars reserves
them one after the other and gives back what it took when a later one fails
(`booking.place`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.expo.common import explain
from services.expo.documents import CalendarDocument, Hold, TablesDocument, Tombstone
from shared.contracts.expo import Explanation
from shared.decisions import Change, Decision
from shared.pack import EventPack


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other_start: datetime, other_end: datetime) -> bool:
        return self.starts_at < other_end and other_start < self.ends_at


def expo_window(pack: EventPack, day: int) -> Slot | None:
    entry = next((d for d in pack.programme.days if d.index == day), None)
    if entry is None or entry.expo_hours is None:
        return None
    date, tz = pack.forum.dates[day], pack.forum.tz
    return Slot(
        datetime.combine(date, entry.expo_hours.opens_at, tz),
        datetime.combine(date, entry.expo_hours.closes_at, tz),
    )


def slot_grid(pack: EventPack, minutes: int) -> list[Slot]:
    """Every `minutes`-long slot of the expo's opening hours, in time order."""
    slots = []
    step = timedelta(minutes=minutes)
    for day in range(pack.forum.days):
        window = expo_window(pack, day)
        if window is None:
            continue
        start = window.starts_at
        while start + step <= window.ends_at:
            slots.append(Slot(start.astimezone(UTC), (start + step).astimezone(UTC)))
            start += step
    return slots


def free_in(holds: Iterable[Hold], slot: Slot, *, ignore: str | None = None) -> bool:
    return not any(h.id != ignore and slot.overlaps(h.starts_at, h.ends_at) for h in holds)


def common_free_slots(
    grid: Sequence[Slot],
    *calendars: Iterable[Hold],
    ignore: str | None = None,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Slots free in every calendar (holds of `ignore` do not count: they are this meeting's own)."""
    holds = [list(c) for c in calendars]
    return [
        slot
        for slot in grid
        if (not_before is None or slot.starts_at >= not_before)
        and all(free_in(h, slot, ignore=ignore) for h in holds)
    ]


def hold_entry(hold_id: str, kind: str, slot: Slot, as_of: datetime | None = None) -> Hold:
    return Hold(id=hold_id, kind=kind, starts_at=slot.starts_at, ends_at=slot.ends_at, as_of=as_of)


def _holds(holds: Iterable[Hold]) -> list[dict[str, object]]:
    return [h.stored() for h in holds]


def reserve(calendar: CalendarDocument | None, hold: Hold) -> Decision[bool]:
    """Add `hold` to a busy calendar unless it overlaps another hold; idempotent per hold id.

    The result says whether the calendar holds it now."""
    holds = calendar.holds if calendar else []
    if any(h.id == hold.id for h in holds):
        return Decision(True)
    if not free_in(holds, Slot(hold.starts_at, hold.ends_at)):
        return Decision(False)
    return Decision(True, Change(set={"holds": _holds([*holds, hold])}))


def release(calendar: CalendarDocument | None, hold_id: str) -> Change | None:
    holds = calendar.holds if calendar else []
    kept = [h for h in holds if h.id != hold_id]
    return Change(set={"holds": _holds(kept)}) if len(kept) != len(holds) else None


# --- the meeting cap and the tables --------------------------------------------------------------


def take_cap(calendar: CalendarDocument | None, meeting_id: str, cap: int) -> Decision[bool]:
    """Count the meeting against the party's cap; False when the cap is reached."""
    meetings = calendar.meetings if calendar else []
    if meeting_id in meetings:
        return Decision(True)
    if len(meetings) >= cap:
        return Decision(False)
    holds = calendar.holds if calendar else []
    return Decision(True, Change(set={"meetings": [*meetings, meeting_id], "holds": _holds(holds)}))


def give_back_cap(calendar: CalendarDocument | None, meeting_id: str) -> Change | None:
    meetings = calendar.meetings if calendar else []
    if meeting_id not in meetings:
        return None
    return Change(set={"meetings": [m for m in meetings if m != meeting_id]})


def cap_explanation(cap: int) -> Explanation:
    return explain(
        "meeting_cap_reached",
        f"Se alcanzó el máximo de {cap} reuniones por persona.",
        f"The limit of {cap} meetings per person has been reached.",
    )


def tables_id(starts_at: datetime) -> str:
    return f"tables:{starts_at.astimezone(UTC).isoformat()}"


def take_table(
    tables: TablesDocument | None, slot: Slot, hold_id: str, count: int
) -> Decision[int | None]:
    """A free table of the `count` during `slot` for `hold_id` (the one it has, if any)."""
    used = dict(tables.used) if tables else {}
    if hold_id in used.values():
        return Decision(next(int(n) for n, h in used.items() if h == hold_id))
    free = next((n for n in range(1, count + 1) if str(n) not in used), None)
    if free is None:
        return Decision(None)
    used[str(free)] = hold_id
    return Decision(free, Change(set={"used": used, "starts_at": slot.starts_at}))


def release_table(tables: TablesDocument | None, hold_id: str) -> Change | None:
    used = dict(tables.used) if tables else {}
    kept = {number: held for number, held in used.items() if held != hold_id}
    return Change(set={"used": kept}) if len(kept) != len(used) else None


# --- session holds: scheduling's events, in whatever order they arrive ------------------------
#
# A sign-up, its cancellation, the session's reschedule and its cancellation travel on separate
# queues and race. Each session hold is stamped with the `occurred_at` of the event that placed
# it, and a release leaves a tombstone (`released`: hold id and when) in the calendar, so the
# newest event wins whichever arrives last: a cancellation that overtook its sign-up keeps the
# late sign-up out, and an old sign-up does not move a rescheduled hold back.


def _millis(at: datetime) -> datetime:
    """The database keeps milliseconds: compare at that precision, so a redelivery matches its own stamp."""
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


def session_hold(
    calendar: CalendarDocument | None, hold_id: str, slot: Slot, at: datetime
) -> Change | None:
    """The participant sits in the session during `slot`, as of `at`; older news changes nothing."""
    at = _millis(at)
    released = calendar.released_at(hold_id) if calendar else None
    if released is not None and released >= at:
        return None  # given up (or the session cancelled) after this news: the release stands
    holds = calendar.holds if calendar else []
    current = calendar.hold(hold_id) if calendar else None
    if current is not None and current.as_of is not None and current.as_of >= at:
        return None  # a newer sign-up or reschedule already placed it
    hold = hold_entry(hold_id, "session", slot, as_of=at)
    if current == hold:
        return None
    return Change(set={"holds": _holds([*(h for h in holds if h.id != hold_id), hold])})


def session_release(calendar: CalendarDocument | None, hold_id: str, at: datetime) -> Change | None:
    """The participant no longer sits in the session, as of `at`: the hold goes and a tombstone
    stays, unless a newer sign-up placed the hold after this release."""
    at = _millis(at)
    holds = calendar.holds if calendar else []
    current = calendar.hold(hold_id) if calendar else None
    if current is not None and current.as_of is not None and current.as_of > at:
        return None
    released = calendar.released if calendar else []
    before = calendar.released_at(hold_id) if calendar else None
    if current is None and before is not None and before >= at:
        return None
    tombstones = [
        *(r for r in released if r.id != hold_id),
        Tombstone(id=hold_id, at=max(at, before or at)),
    ]
    return Change(
        set={
            "holds": _holds(h for h in holds if h.id != hold_id),
            "released": [t.model_dump() for t in tombstones],
        }
    )


def session_moved(
    calendar: CalendarDocument | None, hold_id: str, slot: Slot, at: datetime, *, attendee: bool
) -> Change | None:
    """A session rescheduled: the hold follows it, as of `at`. A speaker or a waitlisted person
    who does not sit in it gets no hold."""
    if not attendee and (calendar is None or calendar.hold(hold_id) is None):
        return None
    return session_hold(calendar, hold_id, slot, at)

"""Booking time in busy calendars: a slot free in every party's calendar (and a table, for a
meeting), the meeting cap, and giving either back. Used by meetings and the job fair.

Each reservation is one conditional write on one calendar (`rules.reserve`); when a later one
fails, the earlier ones are given back and the next slot is tried.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from services.expo.calendars import rules
from services.expo.calendars.rules import Slot
from services.expo.deps import Expo, calendar_id, on
from services.expo.documents import CalendarDocument, TablesDocument
from shared.contracts.expo import Party


async def place(
    deps: Expo, hold_id: str, parties: list[str], minutes: int, *, table: bool, kind: str
) -> tuple[Slot, int | None] | None:
    """The first slot free in every party's calendar (and with a free table), reserved in all of
    them; None when there is none."""
    calendars = deps.repository.calendars
    give_back = on(CalendarDocument, partial(rules.release, hold_id=hold_id))
    for calendar in parties:  # stale holds of an attempt that crashed midway
        await calendars.apply(calendar, None, give_back)
    grid = rules.slot_grid(deps.pack, minutes)
    busy = []
    for calendar in parties:
        found = CalendarDocument.read(await calendars.get(calendar))
        busy.append(found.holds if found else [])
    for slot in rules.common_free_slots(grid, *busy, ignore=hold_id):
        hold = rules.hold_entry(hold_id, kind, slot)
        held: list[str] = []
        for calendar in parties:
            reserved = await calendars.apply(
                calendar, None, on(CalendarDocument, partial(rules.reserve, hold=hold))
            )
            if not reserved.result:
                break
            held.append(calendar)
        if len(held) == len(parties):
            number = await take_table(deps, slot, hold_id) if table else None
            if not table or number is not None:
                return slot, number
        for calendar in held:
            await calendars.apply(calendar, None, give_back)
    return None


async def take_table(deps: Expo, slot: Slot, hold_id: str) -> int | None:
    applied = await deps.repository.tables.apply(
        rules.tables_id(slot.starts_at),
        None,
        on(
            TablesDocument,
            partial(
                rules.take_table, slot=slot, hold_id=hold_id, count=deps.settings.meeting_tables
            ),
        ),
    )
    number: int | None = applied.result
    return number


async def release_table(deps: Expo, starts_at: datetime, hold_id: str) -> None:
    await deps.repository.tables.apply(
        rules.tables_id(starts_at),
        None,
        on(TablesDocument, partial(rules.release_table, hold_id=hold_id)),
    )


async def take_cap(deps: Expo, party: Party, meeting_id: str) -> bool:
    """Count the meeting against the party's cap, atomically in its calendar document."""
    applied = await deps.repository.calendars.apply(
        calendar_id(party.kind, str(party.id)),
        None,
        on(
            CalendarDocument,
            partial(rules.take_cap, meeting_id=meeting_id, cap=deps.settings.meeting_cap),
        ),
    )
    return bool(applied.result)


async def give_back_cap(deps: Expo, party: Party, meeting_id: str) -> None:
    await deps.repository.calendars.apply(
        calendar_id(party.kind, str(party.id)),
        None,
        on(CalendarDocument, partial(rules.give_back_cap, meeting_id=meeting_id)),
    )

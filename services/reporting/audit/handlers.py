"""The audit trail's use cases: record the entries of a batch of events, honour erasures, read.

`record_entries` runs in the projections' fold (`projections/handlers.fold_events`), so a
batch of deliveries costs one `insert_many` into the trail; only a batch with participants
acting on their own reads `audit_erasures` too, and only an erasure updates entries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from services.reporting.audit.rules import (
    ERASED_ACTOR,
    Entry,
    actor_participants,
    entries_of,
    erased_participant,
    matches,
    participant_actor,
    query_of,
)
from services.reporting.deps import Reporting
from services.reporting.projections.views import EventView

PAGE = 100
MOST = 1000
EXPORT_CHUNK = 1000


def erasures_among(events: Sequence[EventView]) -> set[str]:
    return {p for p in map(erased_participant, events) if p is not None}


async def record_entries(deps: Reporting, events: Sequence[EventView]) -> None:
    """One entry per event (a redelivered one is already there and stays as it is)."""
    await deps.repository.audit.record(entries_of(events))
    await honour_erasures(deps, events)


async def honour_erasures(deps: Reporting, events: Sequence[EventView]) -> None:
    """After `events`' entries are written: record the erasures among them, and name the actor
    `erased` in every entry an erased participant caused. Checked after the write, so an erasure
    recorded at any moment (by another replica, by an earlier batch) is either seen here or,
    recorded later, replaces these entries' actor itself."""
    trail = deps.repository.audit
    erasing = erasures_among(events)
    if erasing:
        await trail.record_erasures(erasing)
    erased = erasing | await trail.erased_among(actor_participants(events) - erasing)
    await trail.replace_actors(map(participant_actor, erased), ERASED_ACTOR.dump())


async def rebuilt_entries(deps: Reporting, events: Sequence[EventView]) -> list[Entry]:
    """A rebuild's entries: every one of `events` as the rules make it now, with the erasures
    recorded so far and those among `events` applied (and `honour_erasures` once written)."""
    erased = await deps.repository.audit.erased()
    return entries_of(events, frozenset(erased | erasures_among(events)))


async def audit_page(
    deps: Reporting, filters: Mapping[str, str | None], *, offset: int, limit: int
) -> tuple[list[Entry], int | None]:
    """Entries matching `filters` in order, from the `offset`-th on; and the next page's offset
    (None at the end). One filter: the database pages; several: the first one's index finds
    the entries, the others are checked here."""
    query = query_of(filters)
    [(field, value), *others] = query.items()
    if not others:
        rows = await deps.repository.audit.page(field, value, skip=offset, limit=limit + 1)
    else:
        rows = []
        async for row in deps.repository.audit.every(field, value):
            if matches(row, query):
                rows.append(row)
                if len(rows) > offset + limit:
                    break
        rows = rows[offset:]
    more = len(rows) > limit
    return [shown(row) for row in rows[:limit]], offset + limit if more else None


async def audit_export(
    deps: Reporting, filters: Mapping[str, str | None]
) -> AsyncIterator[list[Entry]]:
    """Every entry matching `filters`, in order (one query, read a batch at a time), a chunk
    at a time."""
    query = query_of(filters)
    [(field, value), *_] = query.items()
    chunk: list[Entry] = []
    async for row in deps.repository.audit.every(field, value):
        if matches(row, query):
            chunk.append(row)
            if len(chunk) == EXPORT_CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def shown(row: Mapping[str, Any]) -> Entry:
    """An entry as the API shows it: the event id as `event_id`, without the sort key."""
    entry = {k: v for k, v in row.items() if k not in ("_id", "stamp")}
    return {"event_id": row["_id"], **entry}

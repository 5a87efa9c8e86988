"""Projections' use cases: fold other services' events — many per write — and count them.

The consumer hands every delivery to `LiveFold.project`; deliveries that arrive while a batch is
being written wait together and go as the next batch (`shared.persistence.batching.GroupCommit`:
no timer, so a lone event costs what it did before). A batch costs one `find` per projection it
targets, one `bulk_write` per projection, one `insert_many` into the audit trail and one into
the ledger, however many events it holds; each delivery is acked once the batch holding it is
written, and an event the rules refuse is dead-lettered alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.reporting.audit.handlers import record_entries
from services.reporting.budget.handlers import apply_entry
from services.reporting.budget.rules import budget_entry_from
from services.reporting.common import RuleViolation
from services.reporting.deps import Reporting
from services.reporting.projections.fold import Fold, Key, keys_of
from services.reporting.projections.statistics import statistics
from services.reporting.projections.views import EventView, read_event
from shared.errors import InvalidMessage
from shared.persistence.aggregates import ConcurrencyConflict
from shared.persistence.batching import GroupCommit

ATTEMPTS = 30


def event_view(body: Any) -> EventView:
    """The envelope of a consumed body, or `InvalidMessage` naming what is wrong with it."""
    try:
        return read_event(body)
    except RuleViolation as refused:
        raise InvalidMessage(str(refused)) from None


async def fold_events(
    deps: Reporting, events: Sequence[EventView], *, absent: bool = False
) -> list[InvalidMessage | None]:
    """Fold `events` into the projections, the budget and the ledger. Per event: None once
    folded (or found folded before), or the `InvalidMessage` it is refused with (nothing of it
    written). A transient failure raises, and nothing is acked: folding again changes nothing.

    `absent`: the projections are known empty (a rebuild's fresh collections), so nothing is read
    first; a document another writer created meanwhile is read and folded again."""
    refused: list[InvalidMessage | None] = [None] * len(events)
    todo = list(range(len(events)))
    only: set[Key] | None = None
    for attempt in range(ATTEMPTS):
        fold = Fold(deps.forum_id)
        if not absent or attempt:
            await _read(deps, fold, {k for i in todo for k in keys_of(events[i])}, only)
        for index in todo:
            try:
                fold.add(events[index], only=only)
            except RuleViolation as error:
                refused[index] = InvalidMessage(str(error))
        lost = await _write(deps, fold)
        if not lost:
            break
        # Another writer got to these documents first: fold their events again on what it wrote.
        only = lost
        todo = [i for i in todo if refused[i] is None and lost.intersection(keys_of(events[i]))]
    else:
        raise ConcurrencyConflict(f"projections: {len(only or ())} documents kept changing")

    for index, event in enumerate(events):
        entry = None if refused[index] else budget_entry_from(event)
        if entry is not None:
            try:
                await apply_entry(deps, entry)
            except RuleViolation as error:
                refused[index] = InvalidMessage(str(error))
    folded = [event for index, event in enumerate(events) if refused[index] is None]
    await record_entries(deps, folded)  # the audit trail: who did what, when
    # Last, so a crash before it leaves the events to be redelivered and counted then.
    await deps.repository.record_events(
        [
            {
                "_id": str(event.event_id),
                "type": event.event_type,
                "occurred_at": event.occurred_at,
                "forum_id": event.payload.get("forum_id"),
            }
            for event in folded
        ]
    )
    return refused


async def _read(deps: Reporting, fold: Fold, keys: set[Key], only: set[Key] | None) -> None:
    wanted = keys if only is None else keys & only
    for collection in sorted({c for c, _ in wanted}):
        ids = sorted(doc_id for c, doc_id in wanted if c == collection)
        stored = await deps.repository.projection_documents(collection, ids)
        for doc_id in ids:
            fold.read((collection, doc_id), stored.get(doc_id))


async def _write(deps: Reporting, fold: Fold) -> set[Key]:
    by_collection: dict[str, list[Any]] = {}
    for collection, write in fold.writes():
        by_collection.setdefault(collection, []).append(write)
    lost: set[Key] = set()
    for collection, writes in sorted(by_collection.items()):
        for doc_id in await deps.repository.write_projection(collection, writes):
            lost.add((collection, doc_id))
    return lost


async def project_event(body: Any, deps: Reporting) -> str:
    """Fold one event (what a script or a test does; the consumer uses `LiveFold`)."""
    event = event_view(body)
    [refused] = await fold_events(deps, [event])
    if refused is not None:
        raise refused
    return event.event_type


class LiveFold:
    """The consumer's fold: deliveries in flight together share one write per collection."""

    def __init__(self, deps: Reporting) -> None:
        self._deps = deps
        self._batches: GroupCommit[EventView, bool] = GroupCommit(
            self._fold, max_batch=deps.fold_batch
        )

    async def project(self, body: Any) -> str:
        """Fold one delivered event with whatever else is in flight; returns its type once the
        write holding it is done (so its delivery may be acked)."""
        event = event_view(body)
        await self._batches.submit(event)
        return event.event_type

    async def drain(self) -> None:
        await self._batches.drain()

    async def _fold(self, events: list[EventView]) -> list[bool | BaseException]:
        outcomes = await fold_events(self._deps, events)
        return [True if refused is None else refused for refused in outcomes]


async def current_statistics(deps: Reporting) -> dict[str, Any]:
    repo = deps.repository
    participants = await repo.participant_states(deps.forum_id)
    entities = await repo.entity_states(deps.forum_id)
    return statistics(deps.pack, participants, entities, await repo.event_counts())

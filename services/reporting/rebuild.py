"""Rebuild the projections from the whole event history (`foro rebuild`, shared/cli/reporting.py).

1. Empties `participants`, `entities` and `event_ledger` (emptied, not dropped: see
   `Repository.empty_projections`).
2. Finds where the event log ends: a marker appended to `<ns>.events.log`, its offset read back
   (`projections/log.py`), so the rebuild knows how many messages lie ahead and stops at the
   marker; then reads the log from its first message and folds every event in memory
   (`projections/fold.py`, the live consumer's rules): no database round trip per event.
3. Writes each document once (`insert`s, a thousand per round trip), then the audit trail's
   entries (replaced, a thousand per round trip: the trail is not dropped, it keeps the entries of
   events the bounded log no longer holds), then the ledger, then the budget entries events carry
   (one update per entry; a newer entry replaces an older one).

Conclusions, the action plan, budget records and generated documents are reporting's own records
and are kept. Running it while the service consumes is safe: a document the service writes
meanwhile is found by its unique id, read and folded again with the events that target it, and
an event folded twice changes nothing. A body that is not an event is skipped and counted.

`rebuild(settings, progress=...)` reports as it goes: `progress(step, done, total)` with step
`read` (messages read from the log; total None while unknown) then `write` (documents, audit
entries and ledger entries written).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aio_pika
import structlog

from services.reporting.audit.handlers import honour_erasures, rebuilt_entries
from services.reporting.bootstrap import build_deps
from services.reporting.budget.handlers import apply_entry
from services.reporting.budget.rules import budget_entry_from
from services.reporting.common import RuleViolation
from services.reporting.deps import Reporting
from services.reporting.projections.fold import Fold, Key, ProjectionWrite, keys_of
from services.reporting.projections.handlers import fold_events
from services.reporting.projections.log import EventLog
from services.reporting.projections.views import EventView, read_event
from services.reporting.settings import ReportingSettings
from shared.messaging.topology import Topology
from shared.persistence.mongo import create_mongo_client

log = structlog.get_logger("foro.reporting.rebuild")

WRITE_CHUNK = 1000


@dataclass
class RebuildResult:
    events: int = 0  # messages folded (a message published twice counts twice; it folds once)
    skipped: int = 0  # bodies that are not events, or events the rules refuse


ProgressCallback = Callable[[str, int, int | None], None]
"""`(step, done, total)`: step `read` or `write`; total None while it is not known."""

STEPS = {
    "read": "reading and folding the event log",
    "write": "writing documents, the audit trail and the ledger",
}


class Steps:
    """Counts per step, handed to the progress callback (nothing reported without one)."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.done: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}

    def start(self, name: str, total: int | None) -> None:
        self.done[name], self.totals[name] = 0, total
        self._report(name)

    def advance(self, name: str, steps: int = 1) -> None:
        self.done[name] += steps
        self._report(name)

    def total(self, name: str, total: int | None) -> None:
        self.totals[name] = total
        self._report(name)

    def _report(self, name: str) -> None:
        if self.progress is not None:
            self.progress(name, self.done[name], self.totals[name])


async def rebuild(
    settings: ReportingSettings, *, progress: ProgressCallback | None = None
) -> RebuildResult:
    steps = Steps(progress)
    result = RebuildResult()
    mongo = create_mongo_client(
        settings.mongo_url.get_secret_value(), app_name="foro-reporting-rebuild"
    )
    connection = await aio_pika.connect_robust(settings.broker_url.get_secret_value())
    try:
        deps = build_deps(settings, mongo)
        event_log = EventLog(connection, Topology(settings.namespace).event_log_name)
        if not await event_log.exists():
            log.warning("no event log to rebuild from", namespace=settings.namespace)
            return result
        # Emptied before the end is marked: an event the service folds before that was
        # published before the marker, so the rebuild folds it again; one it folds after lands
        # in the emptied collections, where the rebuild finds it.
        await deps.repository.empty_projections()
        await deps.repository.ensure_indexes()
        end = await event_log.mark_end()

        fold = Fold(deps.forum_id)
        events: list[EventView] = []
        steps.start("read", None)

        def on_start(first: int) -> None:
            steps.total("read", None if end.offset is None else end.offset - first)

        def on_message(body: bytes, offset: int) -> None:
            steps.advance("read")
            try:
                event = read_event(json.loads(body))
                fold.add(event)
            except (RuleViolation, json.JSONDecodeError, UnicodeDecodeError) as refused:
                result.skipped += 1
                log.warning("event skipped", reason=str(refused)[:200], offset=offset)
                return
            events.append(event)

        await event_log.read(end, on_message, on_start)
        result.events = len(events)
        await write_all(deps, fold, events, steps)
    finally:
        await connection.close()
        await mongo.close()
    log.info("projections rebuilt", events=result.events, skipped=result.skipped)
    return result


async def write_all(deps: Reporting, fold: Fold, events: Sequence[EventView], steps: Steps) -> None:
    """Every folded document, a thousand per write; then the ledger; then the budget entries."""
    repo = deps.repository
    by_collection: dict[str, list[ProjectionWrite]] = {}
    for collection, write in fold.writes():
        by_collection.setdefault(collection, []).append(write)
    ledger = {
        str(event.event_id): {
            "_id": str(event.event_id),
            "type": event.event_type,
            "occurred_at": event.occurred_at,
            "forum_id": event.payload.get("forum_id"),
        }
        for event in events
    }
    documents = sum(len(writes) for writes in by_collection.values())
    audit = await rebuilt_entries(deps, events)
    steps.start("write", documents + len(ledger) + len(audit))
    lost: set[Key] = set()
    for collection, writes in sorted(by_collection.items()):
        for start in range(0, len(writes), WRITE_CHUNK):
            chunk = writes[start : start + WRITE_CHUNK]
            lost.update(
                (collection, doc_id) for doc_id in await repo.write_projection(collection, chunk)
            )
            steps.advance("write", len(chunk))
    if lost:  # the service wrote these meanwhile: fold their events again, on what it wrote
        await fold_events(deps, [e for e in events if lost.intersection(keys_of(e))])
    # The audit trail is rewritten, not dropped: it keeps the entries of events the bounded log
    # no longer holds.
    for start in range(0, len(audit), WRITE_CHUNK):
        written = audit[start : start + WRITE_CHUNK]
        await repo.audit.rewrite(written)
        steps.advance("write", len(written))
    await honour_erasures(deps, events)
    entries = list(ledger.values())
    for start in range(0, len(entries), WRITE_CHUNK * 5):
        recorded = entries[start : start + WRITE_CHUNK * 5]
        await repo.record_events(recorded)
        steps.advance("write", len(recorded))
    for event in events:
        entry = budget_entry_from(event)
        if entry is not None:
            try:
                await apply_entry(deps, entry)
            except RuleViolation as refused:
                log.warning(
                    "budget entry skipped", reason=str(refused), event_id=str(event.event_id)
                )

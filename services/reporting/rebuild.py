"""Rebuild the projections from the whole event history: `python -m services.reporting.rebuild`.

1. Drops `participants`, `entities` and `event_ledger`.
2. Finds where the event log ends: a marker appended to `<ns>.events.log`, its offset read back
   (`projections/log.py`), so the rebuild knows how many messages lie ahead and stops at the
   marker; then reads the log from its first message and folds every event in memory
   (`projections/fold.py`, the live consumer's rules): no database round trip per event.
3. Writes each document once (`insert`s, a thousand per round trip), then the ledger, then the
   budget entries events carry (one update per entry; a newer entry replaces an older one).

Conclusions, the action plan, budget records and generated documents are reporting's own records
and are kept. Running it while the service consumes is safe: a document the service writes
meanwhile is found by its unique id, read and folded again with the events that target it, and
an event folded twice changes nothing. A body that is not an event is skipped and counted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

import aio_pika
import structlog
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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
from shared.logging import configure_logging
from shared.messaging.topology import Topology
from shared.persistence.mongo import create_mongo_client

log = structlog.get_logger("foro.reporting.rebuild")

WRITE_CHUNK = 1000


@dataclass
class RebuildResult:
    events: int = 0  # messages folded (a message published twice counts twice; it folds once)
    skipped: int = 0  # bodies that are not events, or events the rules refuse


class Steps:
    """The progress display's tasks (nothing shown without a `Progress`)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def start(self, name: str, description: str, total: float | None) -> None:
        if self.progress is not None:
            self.tasks[name] = self.progress.add_task(description, total=total)

    def advance(self, name: str, steps: float = 1) -> None:
        if self.progress is not None and name in self.tasks:
            self.progress.advance(self.tasks[name], steps)

    def total(self, name: str, total: float | None) -> None:
        if self.progress is not None and name in self.tasks:
            self.progress.update(self.tasks[name], total=total)


async def rebuild(
    settings: ReportingSettings, *, progress: Progress | None = None
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
        # Dropped before the end is marked: an event the service folds before the drop was
        # published before the marker, so the rebuild folds it again; one it folds after lands
        # in the new collections, where the rebuild finds it.
        await deps.repository.drop_projections()
        await deps.repository.ensure_indexes()
        end = await event_log.mark_end()

        fold = Fold(deps.forum_id)
        events: list[EventView] = []
        steps.start("read", "reading and folding the event log", None)

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
    steps.start("write", "writing documents and the ledger", documents + len(ledger))
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


def progress_display(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@app.command()
def main(
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
) -> None:
    """Rebuild reporting's projections from the event log (settings from REPORTING_*/FORO_*)."""
    settings = ReportingSettings()
    configure_logging("reporting-rebuild", settings.log_level, settings.log_format)
    display: Any = nullcontext(None) if quiet else progress_display(sys.stderr.isatty())
    with display as progress:
        outcome = asyncio.run(rebuild(settings, progress=progress))
    print(f"rebuilt from {outcome.events} events ({outcome.skipped} skipped)")


if __name__ == "__main__":
    app()

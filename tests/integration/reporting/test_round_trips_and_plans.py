"""What folding costs the database, and that every query reporting sends is answered from an index.

The live fold writes what the consumer has in flight together: a batch costs one `find` per
projection it targets, one write per projection and one ledger insert, however many events it
holds (issue 12: three round trips per event before). Counted on the wire; the queries recorded
there, and the statistics', Memoria's and secretariat's reads, are explained against the
service's own indexes over a few hundred participants.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from services.reporting.action_plan.handlers import check_follow_ups, create_action_item
from services.reporting.budget.handlers import budget_execution
from services.reporting.deps import Reporting
from services.reporting.projections.handlers import LiveFold, current_statistics
from services.reporting.publishing.handlers import generate_document, memoria_inputs
from services.reporting.repository import ReportingRepository
from services.reporting.settings import ReportingSettings
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting
from tests.support.wire import indexes_used, located_by, scans

PEOPLE = 150


class Recorder(CommandListener):
    """Every command sent, and the filter of every read and write, with its collection."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.filters: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

    def started(self, event: CommandStartedEvent) -> None:
        command, name = event.command, event.command_name
        target = command.get(name)
        if name in ("ping", "endSessions", "hello", "isMaster"):
            return
        self.commands[f"{name} {target}"] += 1
        if name == "find":
            self.filters.append((target, dict(command.get("filter", {})), command.get("sort")))
        elif name == "aggregate" and command.get("pipeline"):
            first = command["pipeline"][0]
            self.filters.append((target, dict(first.get("$match", {})), None))
        elif name == "update":
            self.filters.extend((target, dict(u["q"]), None) for u in command.get("updates", ()))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def forum(people: int) -> list[dict[str, Any]]:
    history = []
    for minute in range(people):
        who = ev.person()
        history += [
            ev.registration("registration.confirmed", who, minute % 500),
            ev.checked_in(who, 600 + minute % 200),
        ]
    return history


async def test_a_batch_of_events_costs_a_few_round_trips_whatever_its_size(
    reporting: RunningReporting, reporting_settings: ReportingSettings, mongo_url: str
) -> None:
    recorder = Recorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        deps = Reporting(
            pack=reporting.deps.pack,
            repository=ReportingRepository(client[reporting_settings.database]),
            clock=reporting.deps.clock,
        )
        await client.admin.command("ping")
        history = forum(PEOPLE)
        live = LiveFold(deps)
        recorder.commands.clear()
        # All in flight at once, as the consumer's prefetch hands them over; each one twice.
        await asyncio.gather(*(live.project(body) for body in [*history, *history]))

        sent = dict(recorder.commands)
        # The first delivery goes alone; everything that arrived meanwhile goes in the next batch.
        assert sum(sent.values()) <= 10, sent
        assert sum(sent.values()) / (2 * len(history)) < 0.02, sent
        stats = await current_statistics(deps)
        assert stats["participants"]["confirmed"] == PEOPLE
        assert stats["participants"]["check_in"]["checked_in"] == PEOPLE
        assert stats["events"]["total"] == len(history)
    finally:
        await client.close()


async def test_every_query_reporting_sends_is_answered_from_an_index(
    reporting: RunningReporting, reporting_settings: ReportingSettings, mongo_url: str
) -> None:
    await reporting.publish(*forum(PEOPLE))
    await reporting.settled()
    recorder = Recorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        database = client[reporting_settings.database]
        deps = Reporting(
            pack=reporting.deps.pack,
            repository=ReportingRepository(database),
            clock=reporting.deps.clock,
        )
        # What the live fold sends for known and new documents, and every read of the service.
        who = ev.person()
        await LiveFold(deps).project(ev.registration("registration.confirmed", who, 1))
        await LiveFold(deps).project(ev.checked_in(who, 2))
        await LiveFold(deps).project(
            ev.session("session.signup_confirmed", 3, "B2.1", participant_id=who["participant_id"])
        )
        await create_action_item(
            deps, {"es": "Fondo"}, {"kind": "country", "code": "SV", "name": "SV"}, "2004-12-01", []
        )
        await check_follow_ups(deps)
        await budget_execution(deps)
        await memoria_inputs(deps)
        await generate_document(deps, "memoria", "es")
        repo = deps.repository
        await repo.public_participants(deps.forum_id)
        await repo.list_conclusions(deps.forum_id, "approved")
        await repo.list_reports(deps.forum_id)
        await repo.has_final(deps.forum_id, "memoria", "es")

        issued = list(recorder.filters)
        # The outbox relay's sweep over every collection holding an outbox.
        issued += [(name, {"outbox_pending": True}, None) for name in repo.stores.collections]
        # Reads of everything by design: counting the ledger by type, and "any event at all?"
        # (a `find_one` that stops at the first document).
        by_design = [("event_ledger", {}, None)]
        plans = []
        for name, query, sort in issued:
            if (name, query, sort) in by_design:
                continue
            cursor = database[name].find(located_by(query))
            if sort:
                cursor = cursor.sort(list(dict(sort).items()))
            plans.append((name, query, await cursor.explain()))
        scanned = [(name, query) for name, query, plan in plans if scans(plan)]
        assert not scanned, f"collection scans: {scanned}"
        used = set().union(*(indexes_used(plan) for _, _, plan in plans))
        for name in (
            "participants",
            "entities",
            "conclusions",
            "action_items",
            "budget_lines",
            "reports",
        ):
            defined = set(await database[name].index_information()) - {"_id_"}
            assert defined <= used, f"{name}: indexes no query uses: {sorted(defined - used)}"
        assert set(await database["event_ledger"].index_information()) == {"_id_"}
    finally:
        await client.close()

"""The rebuild reads the event log to the end it marked first, folds in memory and writes each
document once — ending with the documents the live fold wrote, also while the service consumes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika

from services.reporting.projections.handlers import current_statistics
from services.reporting.rebuild import rebuild
from services.reporting.settings import ReportingSettings
from shared.persistence.mongo import create_mongo_client
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting
from tests.integration.reporting.test_projections import fresh_statistics, recorded_history
from tests.support.bus import handled_at_least


async def projection_contents(settings: ReportingSettings) -> dict[str, Any]:
    """Every projection document, without the store's bookkeeping (`version`, the order of
    `processed`), and the ledger's event ids."""
    mongo = create_mongo_client(settings.mongo_url.get_secret_value())
    try:
        database = mongo[settings.database]
        contents: dict[str, Any] = {}
        for name in ("participants", "entities"):
            contents[name] = {
                doc["_id"]: {
                    **{k: v for k, v in doc.items() if k not in ("version", "processed")},
                    "processed": sorted(doc["processed"]),
                }
                async for doc in database[name].find({})
            }
        contents["event_ledger"] = sorted(
            [doc["_id"] async for doc in database["event_ledger"].find({}, {"_id": 1})]
        )
        return contents
    finally:
        await mongo.close()


async def publish_raw(reporting: RunningReporting, body: bytes) -> None:
    """A message on the events exchange that is not an event (dead-lettered live; in the log)."""
    channel = await reporting.amqp.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(reporting.runtime.topology.events.name)
    await exchange.publish(
        aio_pika.Message(body, content_type="application/json"), routing_key="vendor.garbled"
    )
    await channel.close()


async def test_a_rebuild_writes_the_documents_the_live_fold_wrote(
    reporting: RunningReporting, reporting_settings: ReportingSettings, databases: list[str]
) -> None:
    history = recorded_history()
    await reporting.publish(*history)
    await reporting.publish(*history)  # every event delivered twice
    await publish_raw(reporting, b'{"event_type": "vendor.garbled"}')
    await reporting.settled()
    await handled_at_least(reporting.queue, 1, outcome="dead_lettered")

    fresh = reporting_settings.model_copy(
        update={"database": f"{reporting_settings.database}_rebuilt"}
    )
    databases.append(fresh.database)
    outcome = await rebuild(fresh)

    assert (outcome.events, outcome.skipped) == (2 * len(history), 1)
    assert await projection_contents(fresh) == await projection_contents(reporting_settings)
    assert await fresh_statistics(fresh) == await current_statistics(reporting.deps)


async def test_a_rebuild_while_the_service_consumes_loses_nothing_and_counts_nothing_twice(
    reporting: RunningReporting, reporting_settings: ReportingSettings, databases: list[str]
) -> None:
    before = [ev.registration("registration.confirmed", ev.person(), m) for m in range(60)]
    await reporting.publish(*before)
    await reporting.settled()

    during = []
    for minute in range(60):
        who = ev.person(category="media")
        during += [
            ev.registration("registration.confirmed", who, minute),
            ev.checked_in(who, 100 + minute),
        ]

    async def keep_publishing() -> None:
        for start in range(0, len(during), 10):
            await reporting.publish(*during[start : start + 10])
            await asyncio.sleep(0)

    # The rebuild drops and refills the very collections the service is writing to.
    await asyncio.gather(rebuild(reporting_settings), keep_publishing())
    await reporting.settled()

    stats = await current_statistics(reporting.deps)
    assert stats["participants"]["confirmed"] == 120
    assert stats["participants"]["by_category"]["media"] == 60
    assert stats["participants"]["check_in"]["checked_in"] == 60
    assert stats["events"]["total"] == len(before) + len(during)

    fresh = reporting_settings.model_copy(
        update={"database": f"{reporting_settings.database}_after"}
    )
    databases.append(fresh.database)
    await rebuild(fresh)
    assert await projection_contents(fresh) == await projection_contents(reporting_settings)


async def test_a_rebuild_without_an_event_log_says_so_and_writes_nothing(
    reporting_settings: ReportingSettings, databases: list[str]
) -> None:
    lonely = reporting_settings.model_copy(update={"namespace": f"nolog{uuid.uuid4().hex[:8]}"})
    outcome = await rebuild(lonely)
    assert (outcome.events, outcome.skipped) == (0, 0)

"""The outbox relay keeps every entry until the broker confirmed it, whatever the connection does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from shared.persistence.outbox import FAILED
from shared.settings import ServiceSettings
from tests.integration.messaging.test_connections import Probe, build_probe, probe_settings
from tests.support.bus import EventTap, delete_topology, eventually
from tests.support.tcp_proxy import TcpProxy

EVENT_TYPE = "probe.noted"


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    async with TcpProxy.for_url(amqp_url) as started:
        yield started


@pytest.fixture
async def settings(
    namespace: str, mongo_url: str, proxy: TcpProxy, amqp_url: str
) -> ServiceSettings:
    # A long sweep interval: a failed publish must bring the next sweep forward by itself.
    return probe_settings(namespace, mongo_url, proxy, amqp_url, outbox_sweep_seconds=30.0)


@pytest.fixture
async def probe(settings: ServiceSettings, proxy: TcpProxy, amqp) -> AsyncIterator[Probe]:
    probe = build_probe(settings, proxy)
    probe.runtime.attach_outbox({"notes": probe.runtime.database["notes"]})
    try:
        async with probe.runtime.running():
            try:
                yield probe
            finally:
                proxy.pass_through()
    finally:
        await delete_topology(amqp, probe.runtime.topology, probe.runtime.queue_names)
        cleanup = probe.runtime.mongo.__class__(settings.mongo_url.get_secret_value())
        await cleanup.drop_database(settings.database)
        await cleanup.close()


def entry(namespace: str) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    body = {
        "event_id": event_id,
        "event_type": EVENT_TYPE,
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "probe",
        "correlation_id": event_id,
        "causation_id": None,
    }
    return {
        "id": event_id,
        "type": EVENT_TYPE,
        "exchange": "events",
        "body": body,
        "added_at": datetime.now(UTC),
    }


async def write(
    probe: Probe, collection: AsyncCollection, doc_id: str, entries: list[dict[str, Any]]
) -> None:
    """What `AggregateStore` does: the entries in the document write, then the relay told."""
    await collection.update_one(
        {"_id": doc_id},
        {"$push": {"outbox": {"$each": entries}}, "$set": {"outbox_pending": True}},
        upsert=True,
    )
    probe.runtime.notify_outbox(collection.name, doc_id, entries)


async def pending(collection: AsyncCollection) -> int:
    return await collection.count_documents({"outbox_pending": True})


async def outbox_emptied(collection: AsyncCollection) -> bool:
    return (
        await pending(collection) == 0
        and await collection.count_documents({"outbox.0": {"$exists": True}}) == 0
    )


async def failures_beyond(count: float) -> bool:
    return FAILED._value.get() > count


@pytest.mark.parametrize("outage", ["drop", "blackhole"])
async def test_entries_written_while_the_broker_is_unreachable_are_all_published_once_it_is_back(
    probe: Probe, proxy: TcpProxy, amqp, outage: str
) -> None:
    topology = probe.runtime.topology
    tap = await EventTap.open(amqp, topology, EVENT_TYPE)
    notes = probe.runtime.database["notes"]
    written: list[str] = []
    failed_before = FAILED._value.get()

    getattr(proxy, outage)()
    for n in range(6):
        entries = [entry(topology.namespace) for _ in range(n % 3 + 1)]
        await write(probe, notes, f"doc-{n}", entries)
        written += [item["id"] for item in entries]

    # The fast path fails (at once when dropped, at the publish timeout in a blackhole), then a
    # sweep retries within a second or two — not after the 30 s interval — and fails as well...
    await eventually(
        lambda: failures_beyond(failed_before + 6), 15, "the fast path and a sweep failed"
    )
    # ...and nothing left a document unconfirmed.
    assert await pending(notes) == 6
    assert await notes.count_documents({"outbox": {"$size": 0}}) == 0

    proxy.pass_through()
    await eventually(
        lambda: outbox_emptied(notes), 30, "every outbox emptied"
    )  # well before the 30 s sweep
    await tap.wait_for(EVENT_TYPE, len(set(written)))
    assert {body["event_id"] for body in tap.of_type(EVENT_TYPE)} == set(written)
    await tap.channel.close()

"""`foro_outbox_lag_seconds` and the queue gauges, against the real broker and database, with
the broker taken away (a TCP proxy drops the connection) and given back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from prometheus_client import REGISTRY

from shared.settings import ServiceSettings
from tests.integration.messaging.test_connections import Probe, build_probe, probe_settings
from tests.integration.messaging.test_outbox_connections import entry, outbox_emptied, write
from tests.support.bus import delete_topology, eventually
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    async with TcpProxy.for_url(amqp_url) as started:
        yield started


@pytest.fixture
async def probe(
    namespace: str, mongo_url: str, proxy: TcpProxy, amqp_url: str, amqp
) -> AsyncIterator[Probe]:
    settings: ServiceSettings = probe_settings(
        namespace, mongo_url, proxy, amqp_url, outbox_sweep_seconds=0.5
    )
    probe = build_probe(settings, proxy)
    probe.runtime.attach_outbox({"notes": probe.runtime.database["notes"]})
    probe.runtime.queue_metrics.interval = 0.2  # FORO_QUEUE_METRICS_SECONDS, 15 s by default
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


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_outbox_lag_is_the_age_of_the_oldest_unpublished_event_and_zero_once_published(
    probe: Probe, proxy: TcpProxy
) -> None:
    relay = probe.runtime.relay
    assert relay is not None
    notes = probe.runtime.database["notes"]
    await eventually(lambda: _is(relay.lag_seconds() == 0.0), 10, "nothing pending at first")
    assert gauge("foro_outbox_lag_seconds") == 0.0

    proxy.drop()
    await write(probe, notes, "fresh", [entry(probe.runtime.topology.namespace)])
    # A document a crash left behind, two minutes ago, that nobody handed the relay: the sweep
    # finds it and its age counts from its entry's `added_at`.
    old = entry(probe.runtime.topology.namespace)
    old["added_at"] = datetime.now(UTC) - timedelta(minutes=2)
    await notes.insert_one({"_id": "left-behind", "outbox": [old], "outbox_pending": True})

    await eventually(lambda: _is(relay.lag_seconds() >= 119), 10, "the sweep found the old one")
    assert (gauge("foro_outbox_lag_seconds") or 0) >= 119

    proxy.pass_through()
    await eventually(lambda: outbox_emptied(notes), 30, "every outbox emptied")
    await eventually(lambda: _is(relay.lag_seconds() == 0.0), 10, "no lag once published")
    assert gauge("foro_outbox_lag_seconds") == 0.0


async def test_queue_gauges_show_depth_consumers_and_dead_letters_and_survive_a_broker_outage(
    probe: Probe, proxy: TcpProxy, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    queue = probe.queue
    dlq = probe.runtime.topology.dead_letter_queue_name(queue)
    channel = await amqp.channel()
    for n in range(3):  # three dead letters, put straight into the dead-letter queue
        await channel.default_exchange.publish(aio_pika.Message(f'{{"n": {n}}}'.encode()), dlq)
    await channel.close()

    async def read() -> bool:
        return (
            gauge("foro_dead_letter_messages", queue=queue) == 3
            and gauge("foro_queue_consumers", queue=queue) == 1
            and gauge("foro_queue_messages_ready", queue=queue) == 0
        )

    await eventually(read, 10, "the gauges read from the broker")
    # Labelled with the consumer queue, never the .dlq or a retry queue.
    assert gauge("foro_dead_letter_messages", queue=dlq) is None

    proxy.drop()
    ticks = probe.runtime.queue_metrics.ticks
    await eventually(
        lambda: _is(probe.runtime.queue_metrics.ticks >= ticks + 3), 20, "passes while away"
    )
    assert gauge("foro_dead_letter_messages", queue=queue) == 3  # the last value, kept

    proxy.pass_through()
    await eventually(probe.ready, 30, "the broker back")
    await eventually(read, 10, "the gauges read again")


async def _is(value: bool) -> bool:
    return value

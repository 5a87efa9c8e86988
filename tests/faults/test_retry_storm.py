"""Scenario 9, a retry storm, on a probe consumer built like every service's (create_broker and
the shared consume middleware): many messages failing transiently at once, each retried through
the broker's retry queues, must each have exactly one effect; a message failing forever must be
dead-lettered after the retry limit, with the reason, and nothing else."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import aio_pika
import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from shared.errors import RetryLater
from shared.messaging.broker import create_broker
from shared.messaging.topology import ATTEMPT_HEADER, DEAD_LETTER_REASON_HEADER, Topology
from shared.settings import ServiceSettings
from tests.support.bus import eventually
from tests.support.faults import Accounting

pytestmark = pytest.mark.faults

ATTEMPTS = 4
STORM = 40  # messages failing at the same time


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    n: int
    fail_times: int = 0  # transient failures before it succeeds; -1: forever
    wait_times: int = 0  # RetryLater (a rate limit): never counts against the budget


class Probe:
    def __init__(self, topology: Topology, queue: str) -> None:
        self.topology, self.queue = topology, queue
        self.deliveries: Counter[int] = Counter()
        self.effects: Counter[int] = Counter()  # the state change a handler makes once it succeeds


@pytest.fixture
async def probe(fault_broker, fault_namespace: str) -> AsyncIterator[Probe]:
    settings = ServiceSettings(
        namespace=fault_namespace,
        database="unused",
        broker_url=SecretStr(fault_broker.url),
        retry_attempts=ATTEMPTS,
        retry_base_seconds=0.05,
        retry_max_seconds=0.4,
        prefetch=16,
    )
    broker, topology = create_broker(settings)
    queue = topology.queue("probe", "storm", "probe.job")
    state = Probe(topology, queue.name)

    @broker.subscriber(queue, topology.intake)
    async def on_job(body: Job) -> None:
        state.deliveries[body.n] += 1
        seen = state.deliveries[body.n]
        if seen <= body.wait_times:
            raise RetryLater(0.05, reason="rate limited", counts_as_attempt=False)
        if body.fail_times < 0 or seen - body.wait_times <= body.fail_times:
            raise ConnectionError("database unreachable")
        state.effects[body.n] += 1

    await broker.connect()
    await topology.declare(broker, [queue.name])
    await broker.start()
    yield state
    await broker.stop()


async def publish(url: str, topology: Topology, bodies: list[dict]) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(topology.intake.name)
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        json.dumps(body).encode(),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="probe.job",
                    mandatory=True,
                )
                for body in bodies
            )
        )


async def drain(url: str, name: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        found = []
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            found.append(message)
        return found


async def test_a_retry_storm_has_exactly_one_effect_per_message_and_the_hopeless_one_is_dead_lettered(
    probe: Probe, fault_broker, report: Callable[[Accounting], None]
) -> None:
    k = ATTEMPTS - 1  # fails on every attempt but the last one
    storm = [{"n": n, "fail_times": k, "wait_times": n % 3} for n in range(STORM)]
    hopeless = {"n": -1, "fail_times": -1}
    started = time.monotonic()
    await publish(fault_broker.url, probe.topology, [*storm, hopeless])

    async def settled() -> bool:
        return len(probe.effects) == STORM and probe.deliveries[-1] >= ATTEMPTS

    try:
        await eventually(
            settled, 60, f"{STORM} effects and {ATTEMPTS} attempts at the hopeless job"
        )
    finally:
        depths = (
            await fault_broker.admin.queue_depths(probe.topology.namespace, fault_broker.url)
            if fault_broker.admin.node
            else {}
        )
    elapsed = time.monotonic() - started

    async def dead_lettered() -> bool:
        return bool(await _depth(fault_broker.url, Topology.dead_letter_queue_name(probe.queue)))

    await eventually(dead_lettered, 20, "the hopeless job in the dead-letter queue")
    dead = await drain(fault_broker.url, Topology.dead_letter_queue_name(probe.queue))
    accounting = Accounting(
        "9 retry storm",
        sent=STORM + 1,
        emails=sum(probe.effects.values()),
        emails_by_type={
            "effects": sum(probe.effects.values()),
            "deliveries": sum(probe.deliveries.values()),
        },
        lost=[f"job {n}" for n in range(STORM) if probe.effects[n] == 0],
        duplicated=[f"job {n} ×{c}" for n, c in probe.effects.items() if c > 1],
        duplicate_copies=sum(c - 1 for c in probe.effects.values() if c > 1),
        dlq={Topology.dead_letter_queue_name(probe.queue): len(dead)},
        dlq_reasons=[
            f"{m.headers.get(DEAD_LETTER_REASON_HEADER)} (attempt header {m.headers.get(ATTEMPT_HEADER)})"
            for m in dead
        ],
        recover_s=elapsed,
    )
    accounting.notes.append(
        f"queue depths while settling: { {k: v for k, v in depths.items() if v} }"
    )
    report(accounting)
    assert not accounting.lost and not accounting.duplicated, accounting.explain()
    assert all(probe.deliveries[n] == k + 1 + n % 3 for n in range(STORM)), dict(probe.deliveries)
    assert probe.effects[-1] == 0 and probe.deliveries[-1] == ATTEMPTS, accounting.explain()
    assert len(dead) == 1, accounting.explain()
    assert json.loads(dead[0].body)["n"] == -1
    assert (
        dead[0].headers[DEAD_LETTER_REASON_HEADER]
        == f"gave up after {ATTEMPTS} attempts: ConnectionError"
    )
    for name in [*probe.topology.retry_queue_names(probe.queue), probe.queue]:
        assert await _depth(fault_broker.url, name) == 0, f"{name} not empty after the storm"


async def _depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return queue.declaration_result.message_count

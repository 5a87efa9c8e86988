"""The consume path every service shares, on the real broker: retries, dead letters, reasons."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from faststream.rabbit import RabbitBroker
from pydantic import BaseModel, ConfigDict, SecretStr

from shared.messaging.broker import create_broker
from shared.messaging.consumer import InvalidMessage
from shared.messaging.topology import ATTEMPT_HEADER, DEAD_LETTER_REASON_HEADER, Topology
from shared.settings import ServiceSettings
from tests.support.bus import dead_letters, handled, handled_at_least, publish_json


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    n: int
    fail_times: int = 0


class Harness:
    def __init__(self, broker: RabbitBroker, topology: Topology, queue: str) -> None:
        self.broker, self.topology, self.queue = broker, topology, queue
        self.attempts: dict[int, list[int]] = {}


@pytest.fixture
async def harness(namespace: str, amqp_url: str) -> AsyncIterator[Harness]:
    settings = ServiceSettings(
        namespace=namespace, database="unused", broker_url=SecretStr(amqp_url),
        retry_attempts=3, retry_base_seconds=0.05, retry_max_seconds=0.2,
    )
    broker, topology = create_broker(settings)
    queue = topology.queue("probe", "pings", "probe.ping")
    harness = Harness(broker, topology, queue.name)

    @broker.subscriber(queue, topology.intake)
    async def on_ping(body: Ping) -> None:
        seen = harness.attempts.setdefault(body.n, [])
        seen.append(len(seen) + 1)
        if body.n < 0:
            raise InvalidMessage("n: must not be negative")
        if len(seen) <= body.fail_times:
            raise ConnectionError("database unreachable")

    await broker.connect()
    await topology.declare(broker, [queue.name])
    await broker.start()
    yield harness
    await broker.stop()


async def send(amqp, harness: Harness, payload: bytes) -> None:
    await publish_json(amqp, harness.topology.intake.name, "probe.ping", payload)


async def test_transient_failure_is_retried_through_the_broker_until_it_succeeds(harness: Harness, amqp) -> None:
    await send(amqp, harness, json.dumps({"n": 1, "fail_times": 2}).encode())
    await handled_at_least(harness.queue, 1)
    assert harness.attempts[1] == [1, 2, 3]
    assert handled(harness.queue, "retry") == 2
    assert await dead_letters(amqp, harness.queue) == []


async def test_still_failing_after_the_last_attempt_is_dead_lettered_with_the_reason(harness: Harness, amqp) -> None:
    await send(amqp, harness, json.dumps({"n": 2, "fail_times": 99}).encode())
    await handled_at_least(harness.queue, 1, outcome="dead_lettered")
    [kept] = await dead_letters(amqp, harness.queue)
    assert kept.headers[DEAD_LETTER_REASON_HEADER] == "gave up after 3 attempts: ConnectionError"
    assert kept.headers[ATTEMPT_HEADER] == 2
    assert json.loads(kept.body)["n"] == 2  # the message itself is kept for replay
    assert harness.attempts[2] == [1, 2, 3]


async def test_permanent_failures_are_dead_lettered_at_once_and_the_next_message_flows(harness: Harness, amqp) -> None:
    await send(amqp, harness, b"\xff\xfe not json")
    await send(amqp, harness, json.dumps({"n": "three"}).encode())
    await send(amqp, harness, json.dumps({"n": -1}).encode())
    await send(amqp, harness, json.dumps({"n": 4}).encode())
    await handled_at_least(harness.queue, 1)
    await handled_at_least(harness.queue, 3, outcome="dead_lettered")

    reasons = sorted(m.headers[DEAD_LETTER_REASON_HEADER] for m in await dead_letters(amqp, harness.queue))
    assert any(reason.startswith("body: not valid JSON") for reason in reasons)
    assert "n: Input should be a valid integer" in reasons
    assert "n: must not be negative" in reasons
    assert harness.attempts[-1] == [1]  # no retry for what no retry can fix
    assert harness.attempts[4] == [1]


async def test_unroutable_publish_is_an_error(harness: Harness) -> None:
    with pytest.raises(Exception, match="(?i)unroutable|returned|NO_ROUTE|DeliveryError"):
        await harness.broker.publish(b"{}", exchange=harness.topology.intake, routing_key="nobody.listens", mandatory=True)


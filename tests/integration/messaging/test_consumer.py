"""The consume path every service shares, on the real broker: retries, dead letters, reasons."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from pydantic import BaseModel, ConfigDict, SecretStr

from shared.errors import InvalidMessage, RetryLater
from shared.messaging.broker import create_broker
from shared.messaging.consumer import original_route
from shared.messaging.topology import (
    ATTEMPT_HEADER,
    DEAD_LETTER_REASON_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    RetryPolicy,
    Topology,
)
from shared.settings import ServiceSettings
from tests.support.bus import dead_letters, handled, handled_at_least, publish_json


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    n: int
    fail_times: int = 0
    wait_times: int = (
        0  # RetryLater that is nobody's failure (a rate limit): never exhausts the budget
    )


class Harness:
    def __init__(self, broker: RabbitBroker, topology: Topology, queue: str) -> None:
        self.broker, self.topology, self.queue = broker, topology, queue
        self.attempts: dict[int, list[int]] = {}
        self.routes: dict[int, list[tuple[str, str]]] = {}


@pytest.fixture
async def harness(namespace: str, amqp_url: str) -> AsyncIterator[Harness]:
    settings = ServiceSettings(
        namespace=namespace,
        database="unused",
        broker_url=SecretStr(amqp_url),
        retry_attempts=3,
        retry_base_seconds=0.05,
        retry_max_seconds=0.2,
    )
    broker, topology = create_broker(settings)
    queue = topology.queue("probe", "pings", "probe.ping")
    harness = Harness(broker, topology, queue.name)

    @broker.subscriber(queue, topology.intake)
    async def on_ping(body: Ping, message: RabbitMessage) -> None:
        seen = harness.attempts.setdefault(body.n, [])
        seen.append(len(seen) + 1)
        harness.routes.setdefault(body.n, []).append(original_route(message.raw_message))
        if body.n < 0:
            raise InvalidMessage("n: must not be negative")
        if len(seen) <= body.wait_times:
            raise RetryLater(0.05, reason="rate limited", counts_as_attempt=False)
        if len(seen) <= body.fail_times:
            raise ConnectionError("database unreachable")

    await broker.connect()
    await topology.declare(broker, [queue.name])
    await broker.start()
    yield harness
    await broker.stop()


async def send(amqp, harness: Harness, payload: bytes) -> None:
    await publish_json(amqp, harness.topology.intake.name, "probe.ping", payload)


async def test_transient_failure_is_retried_through_the_broker_until_it_succeeds(
    harness: Harness, amqp
) -> None:
    await send(amqp, harness, json.dumps({"n": 1, "fail_times": 2}).encode())
    await handled_at_least(harness.queue, 1)
    assert harness.attempts[1] == [1, 2, 3]
    assert handled(harness.queue, "retry") == 2
    assert await dead_letters(amqp, harness.queue) == []


async def test_still_failing_after_the_last_attempt_is_dead_lettered_with_the_reason(
    harness: Harness, amqp
) -> None:
    await send(amqp, harness, json.dumps({"n": 2, "fail_times": 99}).encode())
    await handled_at_least(harness.queue, 1, outcome="dead_lettered")
    [kept] = await dead_letters(amqp, harness.queue)
    assert kept.headers[DEAD_LETTER_REASON_HEADER] == "gave up after 3 attempts: ConnectionError"
    assert kept.headers[ATTEMPT_HEADER] == 2
    assert json.loads(kept.body)["n"] == 2  # the message itself is kept for replay
    assert harness.attempts[2] == [1, 2, 3]


async def test_permanent_failures_are_dead_lettered_at_once_and_the_next_message_flows(
    harness: Harness, amqp
) -> None:
    await send(amqp, harness, b"\xff\xfe not json")
    await send(amqp, harness, json.dumps({"n": "three"}).encode())
    await send(amqp, harness, json.dumps({"n": -1}).encode())
    await send(amqp, harness, json.dumps({"n": 4}).encode())
    await handled_at_least(harness.queue, 1)
    await handled_at_least(harness.queue, 3, outcome="dead_lettered")

    reasons = sorted(
        m.headers[DEAD_LETTER_REASON_HEADER] for m in await dead_letters(amqp, harness.queue)
    )
    assert any(reason.startswith("body: not valid JSON") for reason in reasons)
    assert "n: Input should be a valid integer" in reasons
    assert "n: must not be negative" in reasons
    assert harness.attempts[-1] == [1]  # no retry for what no retry can fix
    assert harness.attempts[4] == [1]


async def test_unroutable_publish_is_an_error(harness: Harness) -> None:
    with pytest.raises(Exception, match=r"(?i)unroutable|returned|NO_ROUTE|DeliveryError"):
        await harness.broker.publish(
            b"{}", exchange=harness.topology.intake, routing_key="nobody.listens", mandatory=True
        )


async def test_a_retried_message_keeps_its_original_exchange_and_routing_key(
    harness: Harness, amqp
) -> None:
    await send(amqp, harness, json.dumps({"n": 5, "fail_times": 2}).encode())
    await handled_at_least(harness.queue, 1)
    intake = harness.topology.intake.name
    # The copies came back through the default exchange, named after the queue; what the handler
    # sees is where the message was first published.
    assert harness.routes[5] == [(intake, "probe.ping")] * 3


async def test_a_dead_letter_names_where_the_original_was_published_even_after_retries(
    harness: Harness, amqp
) -> None:
    await send(amqp, harness, json.dumps({"n": 6, "fail_times": 99}).encode())
    await handled_at_least(harness.queue, 1, outcome="dead_lettered")
    [kept] = await dead_letters(amqp, harness.queue)
    assert kept.headers[ORIGINAL_EXCHANGE_HEADER] == harness.topology.intake.name
    assert kept.headers[ORIGINAL_ROUTING_KEY_HEADER] == "probe.ping"
    assert kept.headers["event_type"] == "probe.ping"


async def test_waits_that_are_nobodys_failure_do_not_exhaust_the_retry_budget(
    harness: Harness, amqp
) -> None:
    # Five waits with a budget of three attempts: all are taken, then the message is handled.
    await send(amqp, harness, json.dumps({"n": 7, "wait_times": 5}).encode())
    await handled_at_least(harness.queue, 1)
    assert harness.attempts[7] == [1, 2, 3, 4, 5, 6]
    assert await dead_letters(amqp, harness.queue) == []


async def test_an_oversize_intake_body_is_dead_lettered_before_it_is_parsed(
    harness: Harness, amqp
) -> None:
    limit = harness.topology.max_intake_bytes
    padded = json.dumps({"n": 8}).encode() + b" " * limit
    await send(amqp, harness, padded)
    await send(amqp, harness, json.dumps({"n": 9}).encode())
    await handled_at_least(harness.queue, 1)
    await handled_at_least(harness.queue, 1, outcome="dead_lettered")
    [kept] = await dead_letters(amqp, harness.queue)
    assert (
        kept.headers[DEAD_LETTER_REASON_HEADER]
        == f"body: larger than {limit} bytes ({len(padded)} bytes)"
    )
    assert 8 not in harness.attempts  # never reached the handler
    assert harness.attempts[9] == [1]


async def test_a_wrong_content_type_is_named_in_the_reason(harness: Harness, amqp) -> None:
    await publish_json(
        amqp, harness.topology.intake.name, "probe.ping", json.dumps({"n": 10}).encode()
    )
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(harness.topology.intake.name)
    await exchange.publish(
        aio_pika.Message(json.dumps({"n": 11}).encode(), content_type="application/xml"),
        "probe.ping",
        mandatory=True,
    )
    await channel.close()
    await handled_at_least(harness.queue, 1, outcome="dead_lettered")
    [kept] = await dead_letters(amqp, harness.queue)
    assert kept.headers[DEAD_LETTER_REASON_HEADER] == (
        "content_type: 'application/xml' is not accepted; send the body as application/json"
    )
    assert 11 not in harness.attempts


def test_a_delay_goes_to_the_first_retry_tier_that_covers_it() -> None:
    policy = RetryPolicy(attempts=5, base_seconds=0.5, max_seconds=60)
    assert [policy.tier_for(d) for d in (0, 0.5, 0.6, 1.0, 2.0, 3.9, 600)] == [1, 1, 2, 2, 3, 4, 4]
    for attempt in range(1, 5):  # the backoff of attempt n never needs a tier above n
        assert policy.tier_for(policy.delay(attempt, 0.999)) <= attempt


def test_text_no_database_can_store_is_a_permanent_failure() -> None:
    from bson import encode
    from bson.errors import InvalidDocument

    from shared.messaging.consumer import permanent_reason

    try:
        encode({"name": "\ud800"})
    except (UnicodeEncodeError, InvalidDocument) as error:
        assert (
            permanent_reason(error)
            == f"body: a text field cannot be stored ({type(error).__name__})"
        )
    else:
        raise AssertionError("bson stored a lone surrogate")

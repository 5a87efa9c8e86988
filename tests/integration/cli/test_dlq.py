"""`foro dlq` against the real broker: a message dead-lettered for a transient cause, the cause
fixed, replayed once; reading, filtering, dry runs and purges that leave everything else alone;
a DLQ read 100 times that loses nothing; a replay killed before its ack that loses nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from pydantic import BaseModel, SecretStr

from shared.messaging.broker import create_broker
from shared.messaging.dead_letters import (
    PASS_HEADER,
    REPLAYED_AT_HEADER,
    REPLAYED_BY_HEADER,
    DeadLetterQueues,
    Selection,
)
from shared.messaging.topology import (
    ATTEMPT_HEADER,
    DEAD_LETTER_QUEUE_HEADER,
    DEAD_LETTER_REASON_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    Topology,
)
from shared.settings import ServiceSettings
from tests.integration.cli.foro_command import foro
from tests.support.bus import (
    delete_topology,
    eventually,
    handled_at_least,
    publish_json,
    queue_depth,
)


class Ping(BaseModel):
    n: int


@dataclass
class Probe:
    """A consumer on the project's own machinery whose handler fails while `broken`."""

    broker: RabbitBroker
    topology: Topology
    queue: str
    namespace: str
    broken: bool = True
    handled: list[int] = field(default_factory=list)  # n of each message handled successfully
    headers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dlq(self) -> str:
        return Topology.dead_letter_queue_name(self.queue)

    def args(self, *more: str) -> list[str]:
        return ["--namespace", self.namespace, "--queue", "probe.pings", *more]


@pytest.fixture
async def probe(namespace: str, amqp_url: str, amqp) -> AsyncIterator[Probe]:
    settings = ServiceSettings(
        namespace=namespace,
        database="unused",
        broker_url=SecretStr(amqp_url),
        retry_attempts=2,
        retry_base_seconds=0.05,
        retry_max_seconds=0.1,
    )
    broker, topology = create_broker(settings)
    queue = topology.queue("probe", "pings", "probe.ping")
    probe = Probe(broker, topology, queue.name, namespace)

    @broker.subscriber(queue, topology.intake)
    async def on_ping(body: Ping, message: RabbitMessage) -> None:
        if probe.broken:
            raise ConnectionError("database unreachable")
        probe.handled.append(body.n)
        probe.headers.append(dict(message.raw_message.headers or {}))

    await broker.connect()
    await topology.declare(broker, [queue.name])
    await broker.start()
    yield probe
    await broker.stop()
    await delete_topology(amqp, topology, [queue.name])


async def send(amqp, probe: Probe, n: int, routing_key: str = "probe.ping") -> str:
    message_id = f"m-{n}-{uuid.uuid4().hex[:6]}"
    await publish_json(
        amqp,
        probe.topology.intake.name,
        routing_key,
        json.dumps({"n": n}).encode(),
        message_id=message_id,
    )
    return message_id


async def plant(
    amqp, probe: Probe, n: int, reason: str, age: timedelta, routing_key: str = "probe.ping"
) -> str:
    """A dead letter as the consume middleware writes one, dead-lettered `age` ago."""
    message_id = f"d-{n}-{uuid.uuid4().hex[:6]}"
    channel = await amqp.channel(publisher_confirms=True)
    dlx = await channel.get_exchange(probe.topology.dead_letters.name)
    await dlx.publish(
        aio_pika.Message(
            json.dumps({"n": n}).encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            timestamp=datetime.now(UTC) - age,
            headers={
                DEAD_LETTER_REASON_HEADER: reason,
                DEAD_LETTER_QUEUE_HEADER: probe.queue,
                ORIGINAL_EXCHANGE_HEADER: probe.topology.intake.name,
                ORIGINAL_ROUTING_KEY_HEADER: routing_key,
                ATTEMPT_HEADER: 2,
                "event_type": routing_key,
            },
        ),
        routing_key=probe.queue,
        mandatory=True,
    )
    await channel.close()
    return message_id


async def ids_in_dlq(amqp, probe: Probe) -> list[str]:
    outcome = await DeadLetterQueues(amqp, [probe.queue]).browse(Selection())
    return [letter.key for letter in outcome.matched]


async def show(probe: Probe, *more: str) -> dict[str, Any]:
    run = await foro("dlq", "show", *probe.args("--json", *more))
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def audit_lines(stderr: str) -> list[dict[str, Any]]:
    return [
        line
        for line in (json.loads(text) for text in stderr.splitlines() if text.startswith("{"))
        if line.get("logger") == "foro.dlq" and not line["event"].endswith(" done")
    ]


async def test_a_transient_dead_letter_is_replayed_once_the_cause_is_fixed(
    probe: Probe, amqp
) -> None:
    message_id = await send(amqp, probe, 1)
    await handled_at_least(probe.queue, 1, "dead_lettered")
    assert probe.handled == []

    listed = await foro("dlq", "list", *probe.args("--json"))
    assert listed.code == 0, listed.stderr
    assert json.loads(listed.stdout)["queues"] == [
        {"queue": probe.queue, "dead_letter_queue": probe.dlq, "service": None, "messages": 1}
    ]
    [letter] = (await show(probe))["messages"]
    assert letter["message_id"] == message_id
    assert letter["reason"] == "gave up after 2 attempts: ConnectionError"
    assert (letter["original_exchange"], letter["original_routing_key"]) == (
        probe.topology.intake.name,
        "probe.ping",
    )

    probe.broken = False  # the database is back
    replayed = await foro("dlq", "replay", *probe.args("--actor", "ops-anna"))
    assert replayed.code == 0, replayed.stderr
    assert "1 replayed, 0 kept" in replayed.stdout

    await eventually(lambda: _async(probe.handled == [1]), 20, "the replayed message handled")
    assert await queue_depth(amqp, probe.dlq) == 0
    await eventually(lambda: _depth_is(amqp, probe.queue, 0), 10, "the consumer queue drained")
    assert probe.handled == [1]  # exactly once
    [headers] = probe.headers
    assert headers[REPLAYED_BY_HEADER] == "ops-anna"
    assert datetime.fromisoformat(headers[REPLAYED_AT_HEADER]) <= datetime.now(UTC)
    for gone in (DEAD_LETTER_REASON_HEADER, DEAD_LETTER_QUEUE_HEADER, ATTEMPT_HEADER, PASS_HEADER):
        assert gone not in headers
    [audit] = audit_lines(replayed.stderr)
    assert audit["event"] == "dead letters replayed"
    assert audit["actor"] == "ops-anna"
    assert audit["message_ids"] == [message_id]
    assert (audit["queue"], audit["replayed"], audit["dry_run"]) == (probe.queue, 1, False)
    [done] = [
        json.loads(text)
        for text in replayed.stderr.splitlines()
        if "dead letter replay done" in text
    ]
    assert (done["actor"], done["matched"], done["replayed"]) == ("ops-anna", 1, 1)


async def _async(value: bool) -> bool:
    return value


async def _depth_is(amqp, name: str, depth: int) -> bool:
    return await queue_depth(amqp, name) == depth


async def test_show_filters_by_reason_age_and_id_and_limits(probe: Probe, amqp) -> None:
    old = await plant(
        amqp, probe, 10, "gave up after 5 attempts: ConnectionError", timedelta(hours=3)
    )
    new = await plant(amqp, probe, 11, "email: not a valid address", timedelta(minutes=5))
    newest = await plant(amqp, probe, 12, "gave up after 5 attempts: TimeoutError", timedelta(0))

    def ids(document: dict[str, Any]) -> list[str]:
        return [m["message_id"] for m in document["messages"]]

    assert ids(await show(probe)) == [old, new, newest]
    assert ids(await show(probe, "--reason", "GAVE UP")) == [old, newest]
    assert ids(await show(probe, "--reason-regex", r"^email: .* address$")) == [new]
    assert ids(await show(probe, "--older-than", "2h")) == [old]
    assert ids(await show(probe, "--older-than", "1m", "--newer-than", "1h")) == [new]
    assert ids(await show(probe, "--message-id", newest, "--body")) == [newest]
    limited = await show(probe, "--limit", "1")
    assert (ids(limited), limited["more"]) == ([old], 2)
    table = await foro("dlq", "show", *probe.args())
    assert table.code == 0 and new in table.stdout and "not a valid address" in table.stdout
    # Reading changed nothing, order included.
    assert await ids_in_dlq(amqp, probe) == [old, new, newest]

    for bad, needle in (
        (["--older-than", "2 hours"], "--older-than"),
        (["--reason-regex", "("], "--reason-regex"),
    ):
        run = await foro("dlq", "show", *probe.args(*bad))
        assert run.code == 2 and needle in run.stderr
    unknown = await foro("dlq", "show", "--namespace", probe.namespace, "--queue", "nope.nothing")
    assert unknown.code == 2 and "nope.nothing" in unknown.stderr
    unreachable = await foro(
        "dlq", "list", *probe.args("--broker-url", "amqp://guest:guest@127.0.0.1:1/")
    )
    assert unreachable.code == 3 and "cannot reach the broker" in unreachable.stderr
    assert "guest:guest" not in unreachable.stderr


async def test_reading_a_dlq_100_times_loses_nothing_and_never_requeues(probe: Probe, amqp) -> None:
    """RabbitMQ 4.x drops a quorum queue's message after 20 returns; nothing here returns one."""
    planted = [
        await plant(amqp, probe, 20 + i, f"reason {i}", timedelta(minutes=i)) for i in range(3)
    ]
    dlqs = DeadLetterQueues(amqp, [probe.queue])
    for _ in range(100):
        outcome = await dlqs.browse(Selection(reason="reason 1"))
        assert [letter.key for letter in outcome.matched] == [planted[1]]
    channel = await amqp.channel()
    dlq = await channel.declare_queue(probe.dlq, passive=True)
    seen = []
    while (message := await dlq.get(no_ack=True, fail=False)) is not None:
        # A fresh copy every time: never redelivered, no delivery count for a limit to reach
        # (RabbitMQ 3.10 shows a first delivery from a quorum queue as x-delivery-count 0).
        assert not message.redelivered
        assert message.headers.get("x-delivery-count", 0) == 0
        assert message.headers.get("x-acquired-count", 0) == 0
        assert message.headers[DEAD_LETTER_REASON_HEADER].startswith("reason")
        seen.append(message.message_id)
    await channel.close()
    assert seen == planted


async def test_replay_and_purge_dry_runs_change_nothing_and_purge_takes_only_matches(
    probe: Probe, amqp
) -> None:
    probe.broken = False
    keep = await plant(
        amqp, probe, 30, "gave up after 5 attempts: ConnectionError", timedelta(hours=1)
    )
    bad = await plant(amqp, probe, 31, "email: not a valid address", timedelta(hours=1))
    other = await plant(amqp, probe, 32, "phone: not a number", timedelta(hours=1))

    dry = await foro("dlq", "replay", *probe.args("--reason", "gave up", "--dry-run"))
    assert dry.code == 0 and keep in dry.stdout and "would be replayed" in dry.stdout
    [audit] = audit_lines(dry.stderr)
    assert audit["dry_run"] is True and audit["message_ids"] == [keep]
    dry = await foro("dlq", "purge", *probe.args("--reason", "email", "--dry-run"))
    assert dry.code == 0 and bad in dry.stdout
    assert await ids_in_dlq(amqp, probe) == [keep, bad, other]
    assert probe.handled == []

    nothing_named = await foro("dlq", "purge", *probe.args("--yes"))
    assert nothing_named.code == 2 and "--all" in nothing_named.stderr
    unconfirmed = await foro("dlq", "purge", *probe.args("--reason", "email"))
    assert unconfirmed.code == 4 and "nothing purged" in unconfirmed.stderr
    assert await ids_in_dlq(amqp, probe) == [keep, bad, other]

    purged = await foro("dlq", "purge", *probe.args("--reason", "email", "--yes", "--actor", "ops"))
    assert purged.code == 0, purged.stderr
    assert "1 purged" in purged.stdout
    [audit] = audit_lines(purged.stderr)
    assert (audit["event"], audit["actor"], audit["message_ids"]) == (
        "dead letters purged",
        "ops",
        [bad],
    )
    assert await ids_in_dlq(amqp, probe) == [keep, other]

    everything = await foro("dlq", "purge", *probe.args("--all", "--yes"))
    assert everything.code == 0 and "2 purged" in everything.stdout
    assert await queue_depth(amqp, probe.dlq) == 0
    assert probe.handled == []


async def test_an_unroutable_replay_stays_in_the_dlq_and_direct_reaches_the_queue(
    probe: Probe, amqp
) -> None:
    probe.broken = False
    lost_route = await plant(amqp, probe, 40, "gave up", timedelta(0), routing_key="nobody.listens")
    await plant(amqp, probe, 41, "gave up", timedelta(0))

    run = await foro("dlq", "replay", *probe.args())
    assert run.code == 1
    assert lost_route in run.stderr and "could not be replayed" in run.stderr
    await eventually(lambda: _async(probe.handled == [41]), 20, "the routable one handled")
    assert await ids_in_dlq(amqp, probe) == [lost_route]

    direct = await foro("dlq", "replay", *probe.args("--direct"))
    assert direct.code == 0, direct.stderr
    await eventually(lambda: _async(sorted(probe.handled) == [40, 41]), 20, "the direct replay")
    assert await queue_depth(amqp, probe.dlq) == 0
    # Handled as the original: the route it was first published with travels in the headers.
    assert probe.headers[-1][ORIGINAL_ROUTING_KEY_HEADER] == "nobody.listens"


async def test_a_replay_killed_before_its_ack_leaves_the_message_in_the_dlq(
    probe: Probe, amqp
) -> None:
    probe.broken = False
    message_id = await plant(amqp, probe, 50, "gave up", timedelta(0))

    killed = await foro("dlq", "replay", *probe.args(), env={"FORO_DLQ_FAULT": "exit_before_ack"})
    assert killed.code == 86, killed.stderr
    # The replay was confirmed before the process died, so the consumer gets it …
    await eventually(lambda: _async(probe.handled == [50]), 20, "the confirmed replay handled")
    # … and the unacked original went back to the DLQ: duplicated, never lost.
    await eventually(lambda: _depth_is(amqp, probe.dlq, 1), 20, "the original back in the DLQ")
    assert await ids_in_dlq(amqp, probe) == [message_id]

    again = await foro("dlq", "replay", *probe.args())
    assert again.code == 0, again.stderr
    await eventually(lambda: _async(probe.handled == [50, 50]), 20, "the second replay")
    assert await queue_depth(amqp, probe.dlq) == 0

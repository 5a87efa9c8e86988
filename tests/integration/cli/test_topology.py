"""`foro topology declare|delete` against the real broker: a throwaway namespace declared as the
services would declare it, then deleted until nothing of it is left."""

from __future__ import annotations

import json

import aio_pika
import pytest
from aiormq.exceptions import ChannelNotFoundEntity

from shared.messaging.namespace import build_plan
from tests.integration.cli.foro_command import foro
from tests.support.bus import queue_depth


async def _exists(connection, name: str, kind: str) -> bool:
    channel = await connection.channel()
    try:
        if kind == "queue":
            await channel.declare_queue(name, passive=True)
        else:
            await channel.declare_exchange(name, passive=True)
    except ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def test_declare_then_delete_leaves_nothing(namespace: str, amqp) -> None:
    plan = build_plan(namespace)
    await plan.close()
    queues, exchanges = plan.queue_names, plan.exchange_names
    # every service's consumer queues, among them two revocation queues per service
    assert len(plan.consumer_queues) == 36

    declared = await foro("topology", "declare", "--namespace", namespace)
    assert declared.code == 0, declared.stderr
    for name in queues:
        assert await _exists(amqp, name, "queue"), name
    for name in exchanges:
        assert await _exists(amqp, name, "exchange"), name

    # Bindings as the services make them: a confirmed registration reaches scheduling and expo;
    # every trigger of notification's templates reaches its triggers queue (one binding each).
    [notification] = [service for service in plan.services if service.service == "notification"]
    trigger_keys = sorted({b.routing_key for b in notification.bindings if "triggers" in b.queue})
    assert len(trigger_keys) > 1
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    events = await channel.get_exchange(f"{namespace}.events")
    for key in sorted({"registration.confirmed", *trigger_keys}):
        await events.publish(
            aio_pika.Message(json.dumps({"n": 1}).encode(), delivery_mode=2),
            routing_key=key,
            mandatory=True,
        )
    await channel.close()
    for name in ("scheduling.registration-confirmed", "expo.registration-confirmed"):
        assert await queue_depth(amqp, f"{namespace}.{name}") == 1
    triggered = await queue_depth(amqp, f"{namespace}.notification.triggers")
    assert triggered == len(trigger_keys)

    # Queues holding messages are refused, and then nothing at all is deleted.
    refused = await foro("topology", "delete", "--namespace", namespace, "--yes")
    assert refused.code == 1
    assert "hold messages" in refused.stderr and "nothing deleted" in refused.stderr
    # The event log is a stream (its declare-ok counts 0): it is read to know it holds events.
    assert f"{namespace}.events.log" in refused.stdout
    assert f"{namespace}.expo.registration-confirmed " in refused.stdout
    assert await _exists(amqp, f"{namespace}.events", "exchange")
    dry = await foro("topology", "delete", "--namespace", namespace, "--dry-run", "--force")
    assert dry.code == 0 and "would delete" in dry.stdout
    unconfirmed = await foro("topology", "delete", "--namespace", namespace, "--force")
    assert unconfirmed.code == 4
    assert all([await _exists(amqp, name, "queue") for name in queues])

    deleted = await foro("topology", "delete", "--namespace", namespace, "--force", "--yes")
    assert deleted.code == 0, deleted.stderr
    for name in queues:
        assert not await _exists(amqp, name, "queue"), name
    for name in exchanges:
        assert not await _exists(amqp, name, "exchange"), name


@pytest.mark.parametrize("extra", [[], ["--yes"], ["--yes", "--force"]])
async def test_the_platform_namespace_is_not_deleted_without_i_mean_it(extra: list[str]) -> None:
    # An unreachable broker too: even a broken guard could not delete anything here.
    unreachable = "amqp://guest:guest@127.0.0.1:1/"
    run = await foro(
        "topology", "delete", "--namespace", "foro", "--broker-url", unreachable, *extra
    )
    assert run.code == 2
    assert "--i-mean-it" in run.stderr

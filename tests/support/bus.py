"""Watching the bus the way another service or a form vendor would: plain aio-pika."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika

from shared.messaging.topology import Topology


class EventTap:
    """A private queue bound to the domain-events exchange, read with basic.get.

    Reading with basic.get lets a test count *exactly*: once every publish it waits for has
    been confirmed, everything routed is already in the queue.
    """

    def __init__(
        self, channel: aio_pika.abc.AbstractChannel, queue: aio_pika.abc.AbstractQueue
    ) -> None:
        self.channel = channel
        self.queue = queue
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    async def open(
        cls, connection: aio_pika.abc.AbstractConnection, topology: Topology, *keys: str
    ) -> EventTap:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            topology.events.name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in keys or ("#",):
            await queue.bind(exchange, routing_key=key)
        return cls(channel, queue)

    async def drain(self) -> list[tuple[str, dict[str, Any]]]:
        while (message := await self.queue.get(fail=False, no_ack=True)) is not None:
            self.seen.append((message.routing_key, json.loads(message.body)))
        return self.seen

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [body for key, body in self.seen if key == event_type]

    async def wait_for(
        self, event_type: str, count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Wait until `count` events of the type have arrived (they are pushed by the broker)."""
        await eventually(lambda: self._has(event_type, count), timeout, f"{count}× {event_type}")
        return self.of_type(event_type)

    async def _has(self, event_type: str, count: int) -> bool:
        await self.drain()
        return len(self.of_type(event_type)) >= count


async def eventually(
    condition: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
) -> None:
    """Poll an asynchronous condition until it holds (no fixed sleeps: it returns at once)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


async def publish_json(
    connection: aio_pika.abc.AbstractConnection,
    exchange_name: str,
    routing_key: str,
    body: bytes,
    **properties: Any,
) -> None:
    """Publish like a form vendor: persistent, confirmed, mandatory."""
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(exchange_name)
    await exchange.publish(
        aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            **properties,
        ),
        routing_key=routing_key,
        mandatory=True,
    )
    await channel.close()


async def queue_depth(connection: aio_pika.abc.AbstractConnection, name: str) -> int:
    channel = await connection.channel()
    queue = await channel.declare_queue(name, passive=True)
    depth = queue.declaration_result.message_count
    await channel.close()
    return depth


async def delete_topology(
    connection: aio_pika.abc.AbstractConnection, topology: Topology, queue_names: list[str]
) -> None:
    """Remove what a test's namespace declared, so the broker does not collect test queues."""
    channel = await connection.channel()
    companions = [
        name
        for q in queue_names
        for name in (topology.dead_letter_queue_name(q), *topology.retry_queue_names(q))
    ]
    for name in [*queue_names, *companions, topology.event_log_name]:
        await channel.queue_delete(name)
    for exchange in (topology.events, topology.intake, topology.dead_letters):
        await channel.exchange_delete(exchange.name)
    await channel.close()


async def tap_exchange(connection: aio_pika.abc.AbstractConnection, exchange_name: str) -> EventTap:
    """A tap on any topic exchange (the intake one, say), counting with basic.get."""
    channel = await connection.channel()
    exchange = await channel.get_exchange(exchange_name)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="#")
    return EventTap(channel, queue)


async def dead_letters(
    connection: aio_pika.abc.AbstractConnection, queue_name: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    channel = await connection.channel()
    dlq = await channel.declare_queue(Topology.dead_letter_queue_name(queue_name), passive=True)
    found = []
    while (message := await dlq.get(fail=False, no_ack=True)) is not None:
        found.append(message)
    await channel.close()
    return found


def handled(queue: str, outcome: str = "ok") -> int:
    """Messages this process's consumers finished on `queue` (in-process services only)."""
    from prometheus_client import REGISTRY

    return int(
        REGISTRY.get_sample_value(
            "foro_messages_handled_total", {"queue": queue, "outcome": outcome}
        )
        or 0
    )


async def handled_at_least(
    queue: str, count: int, outcome: str = "ok", timeout: float = 20.0
) -> None:
    async def done() -> bool:
        return handled(queue, outcome) >= count

    await eventually(done, timeout, f"{count} messages {outcome} on {queue}")


def broker_names(kind: str) -> list[str]:
    """Queue or exchange names on the local broker (`rabbitmqctl`, root only); [] if unavailable."""
    import shutil
    import subprocess

    if shutil.which("rabbitmqctl") is None:
        return []
    result = subprocess.run(
        ["rabbitmqctl", "-q", f"list_{kind}", "name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (
        [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]
        if result.returncode == 0
        else []
    )


async def delete_namespaces(url: str, namespaces: list[str]) -> None:
    """Delete every queue and exchange a test namespace left behind, whoever declared it."""
    prefixes = tuple(f"{namespace}." for namespace in namespaces)
    queues = [name for name in broker_names("queues") if name.startswith(prefixes)]
    exchanges = [name for name in broker_names("exchanges") if name.startswith(prefixes)]
    if not queues and not exchanges:
        return
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for name in queues:
            await channel.queue_delete(name)
        for name in exchanges:
            await channel.exchange_delete(name)

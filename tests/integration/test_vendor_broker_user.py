"""A form vendor's broker user (`foro vendors add`) on the real broker: it publishes sign-ups and
cancellations to the intake exchange, confirmed, and nothing else — another routing key, another
exchange, consuming, declaring are each refused with 403 ACCESS_REFUSED; `foro vendors remove`
closes its connection and it can no longer sign in.

The command runs as an operator runs it (a subprocess): with rabbitmqctl on this host (root), or
with the management API when FORO_TEST_RABBITMQ_MANAGEMENT_URL names one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.exceptions import ProbableAuthenticationError
from aiormq.exceptions import ChannelAccessRefused

from shared.messaging.namespace import redacted_url
from tests.integration.cli.foro_command import foro
from tests.support.bus import EventTap, eventually, tap_exchange


def command_env() -> dict[str, str]:
    """How the command reaches the broker's users here; skips when it cannot."""
    if url := os.environ.get("FORO_TEST_RABBITMQ_MANAGEMENT_URL"):
        return {"FORO_RABBITMQ_MANAGEMENT_URL": url}
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("no rabbitmqctl here and no FORO_TEST_RABBITMQ_MANAGEMENT_URL")
    probe = subprocess.run(
        ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the broker (not root?)")
    return {"FORO_RABBITMQ_MANAGEMENT_URL": ""}


@dataclass
class Vendor:
    name: str
    user: str
    amqp_url: str
    printed: dict[str, str]


@pytest.fixture
async def vendor(namespace: str, amqp_url: str) -> AsyncIterator[Vendor]:
    env = command_env()
    name = "t" + uuid.uuid4().hex[:10]
    added = await foro(
        "vendors", "add", name, "--namespace", namespace,
        "--public-url", redacted_url(amqp_url),
        env=env,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    printed = dict(line.split(": ", 1) for line in added.stdout.splitlines() if ": " in line)
    try:
        yield Vendor(name, f"vendor-{name}", printed["amqp_url"], printed)
    finally:
        removed = await foro("vendors", "remove", name, env=env)
        assert removed.code in (0, 1), removed.stderr  # 1: the test removed it already


@pytest.fixture
async def intake(
    amqp: aio_pika.abc.AbstractRobustConnection, namespace: str
) -> AsyncIterator[EventTap]:
    """The namespace's intake and events exchanges (declared as guest, as the services would),
    with a tap counting what reaches the intake."""
    channel = await amqp.channel()
    for name in (f"{namespace}.intake", f"{namespace}.events"):
        await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    # A queue anyone but an exclusive owner could read: only permissions can refuse the vendor.
    await channel.declare_queue(f"{namespace}.shared", durable=True)
    tap = await tap_exchange(amqp, f"{namespace}.intake")
    yield tap
    await tap.channel.close()
    await channel.queue_delete(f"{namespace}.shared")
    for name in (f"{namespace}.intake", f"{namespace}.events"):
        await channel.exchange_delete(name)
    await channel.close()


async def publish(
    connection: aio_pika.abc.AbstractConnection, exchange: str, routing_key: str, body: bytes
) -> None:
    """As the vendor kit (docs/vendors.md) says: the exchange checked to exist (a passive declare,
    which needs no permission), persistent, JSON, mandatory, awaited until confirmed."""
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    target = await channel.get_exchange(exchange)
    async with asyncio.timeout(10):
        await target.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
            mandatory=True,
        )
    await channel.close()


async def refused(
    connection: aio_pika.abc.AbstractConnection,
    attempt: Callable[[aio_pika.abc.AbstractChannel], Awaitable[object]],
) -> str:
    """Run `attempt` on a fresh channel; the broker must close that channel with 403."""
    channel = await connection.channel(publisher_confirms=True)
    with pytest.raises(ChannelAccessRefused) as raised:
        async with asyncio.timeout(10):
            await attempt(channel)
            # A refused basic.publish is answered asynchronously: a round trip surfaces it
            # (basic.qos, which needs no permission, so that it cannot be what is refused).
            await channel.set_qos(prefetch_count=1)
    assert not connection.is_closed  # one channel closed, the connection goes on
    return str(raised.value)


async def test_the_vendor_user_publishes_to_the_intake_and_nothing_else(
    vendor: Vendor, intake: EventTap, namespace: str
) -> None:
    assert vendor.printed["exchange"] == f"{namespace}.intake"
    assert vendor.printed["routing_keys"] == "registration.submitted registration.cancel_requested"
    connection = await aio_pika.connect(vendor.amqp_url, timeout=10)
    async with connection:
        await publish(connection, f"{namespace}.intake", "registration.submitted", b"{}")
        await publish(connection, f"{namespace}.intake", "registration.cancel_requested", b"{}")

        async def both_arrived() -> bool:
            return len(await intake.drain()) >= 2

        await eventually(both_arrived, 10, "the vendor's two messages on the intake")
        assert [key for key, _ in intake.seen] == [
            "registration.submitted",
            "registration.cancel_requested",
        ]

        async def erasure(channel: aio_pika.abc.AbstractChannel) -> None:
            exchange = await channel.get_exchange(f"{namespace}.intake", ensure=False)
            await exchange.publish(aio_pika.Message(b"{}"), "participant.erasure_requested")

        assert "participant.erasure_requested" in await refused(connection, erasure)

        async def other_exchange(channel: aio_pika.abc.AbstractChannel) -> None:
            exchange = await channel.get_exchange(f"{namespace}.events", ensure=False)
            await exchange.publish(aio_pika.Message(b"{}"), "registration.submitted")

        assert f"{namespace}.events" in await refused(connection, other_exchange)

        async def default_exchange(channel: aio_pika.abc.AbstractChannel) -> None:
            await channel.default_exchange.publish(aio_pika.Message(b"{}"), intake.queue.name)

        await refused(connection, default_exchange)

        async def consume(channel: aio_pika.abc.AbstractChannel) -> None:
            queue = await channel.get_queue(f"{namespace}.shared", ensure=False)
            await queue.consume(ignore)

        assert f"{namespace}.shared" in await refused(connection, consume)

        async def get(channel: aio_pika.abc.AbstractChannel) -> None:
            queue = await channel.get_queue(f"{namespace}.shared", ensure=False)
            await queue.get(fail=False)

        assert f"{namespace}.shared" in await refused(connection, get)

        async def declare_queue(channel: aio_pika.abc.AbstractChannel) -> None:
            await channel.declare_queue(f"{namespace}.vendor-queue", durable=True)

        assert f"{namespace}.vendor-queue" in await refused(connection, declare_queue)

        async def declare_server_named_queue(channel: aio_pika.abc.AbstractChannel) -> None:
            await channel.declare_queue(exclusive=True)

        await refused(connection, declare_server_named_queue)

        async def declare_exchange(channel: aio_pika.abc.AbstractChannel) -> None:
            await channel.declare_exchange(f"{namespace}.vendor-exchange")

        assert f"{namespace}.vendor-exchange" in await refused(connection, declare_exchange)

        # Still allowed after all those refusals; nothing but the two sign-ups reached the intake.
        await publish(connection, f"{namespace}.intake", "registration.submitted", b"{}")
        await eventually(lambda: _count_at_least(intake, 3), 10, "the third message")
        assert len(intake.seen) == 3


async def ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    pass


async def _count_at_least(tap: EventTap, count: int) -> bool:
    return len(await tap.drain()) >= count


async def test_listed_as_write_only_and_removed_with_its_connections(
    vendor: Vendor, intake: EventTap, namespace: str
) -> None:
    env = command_env()
    listed = await foro("vendors", "list", env=env)
    assert listed.code == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if vendor.user in line)
    assert "yes" in row.split()

    connection = await aio_pika.connect(vendor.amqp_url, timeout=10)
    closed = asyncio.get_running_loop().create_future()
    connection.close_callbacks.add(lambda *_: closed.done() or closed.set_result(True))
    removed = await foro("vendors", "remove", vendor.name, env=env)
    assert removed.code == 0, removed.stderr
    assert f"{vendor.user}: connections closed, user removed" in removed.stdout
    async with asyncio.timeout(10):
        await closed
    with pytest.raises(ProbableAuthenticationError):
        await aio_pika.connect(vendor.amqp_url, timeout=10)

    again = await foro("vendors", "remove", vendor.name, env=env)
    assert again.code == 1
    assert "no such user" in again.stderr


async def test_the_printed_url_names_the_test_broker(vendor: Vendor, amqp_url: str) -> None:
    """The URL is the broker given (--public-url) with the vendor's own credentials."""
    assert redacted_url(vendor.amqp_url).rstrip("/") == redacted_url(amqp_url).rstrip("/")
    assert vendor.amqp_url.startswith(f"amqp://{vendor.user}:")

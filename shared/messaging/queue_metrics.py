"""Gauges of a service's own consumer queues, read from the broker every few seconds.

For each consumer queue: messages waiting (`foro_queue_messages_ready`, the consumer lag),
consumers attached (`foro_queue_consumers`: 0 means nobody handles it), and messages in its
dead-letter queue (`foro_dead_letter_messages`, labelled with the consumer queue's name).

Read with passive declares (they only report; nothing is created) on a channel of the service's
own broker connection, opened for one pass and closed after it: a queue that does not exist
closes that channel, never the one the consumers use. While the broker is away a pass does
nothing but say so in the log; the gauges keep their last values and the service runs on.

A pass is never cancelled half-way through an AMQP call (a channel cancelled while it opens or
closes leaves the connection out of step with the broker, which then closes it — consumers
included): stopping waits for the pass in flight, and only a pass stuck past its bound (a
broker that stopped answering) is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import aio_pika
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from aiormq.exceptions import ChannelNotFoundEntity
from faststream.rabbit import RabbitBroker
from prometheus_client import Gauge

from shared.messaging.topology import Topology
from shared.periodic import Periodic

log = structlog.get_logger("foro.queue_metrics")

DEAD_LETTERS = Gauge(
    "foro_dead_letter_messages",
    "Messages waiting in a consumer queue's dead-letter queue (<queue>.dlq), by consumer queue",
    ["queue"],
)
READY = Gauge(
    "foro_queue_messages_ready", "Messages waiting in a consumer queue (consumer lag)", ["queue"]
)
CONSUMERS = Gauge("foro_queue_consumers", "Consumers attached to a consumer queue", ["queue"])

PASS_TIMEOUT_SECONDS = 30.0
"""The longest one pass may take: only a broker that stopped answering makes it that long."""


class QueueMetrics(Periodic):
    """Refreshes the gauges of `queue_names()` every `interval` seconds, while started."""

    name = "queue-metrics"

    def __init__(
        self,
        broker: RabbitBroker,
        topology: Topology,
        queue_names: Callable[[], Sequence[str]],
        *,
        interval: float,
        timeout: float,
    ) -> None:
        super().__init__(interval)
        self._broker = broker
        self._topology = topology
        self._queue_names = queue_names
        self._timeout = timeout  # how long stopping waits for a pass in flight
        self._unreachable = False  # logged once per outage, not every pass
        self._pass: asyncio.Future[None] | None = None

    async def stop(self) -> None:
        await super().stop()
        if self._pass is not None and not self._pass.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._pass), self._timeout)
            except TimeoutError:
                self._pass.cancel()
            with contextlib.suppress(BaseException):
                await self._pass
        self._pass = None

    async def tick(self) -> None:
        # Shielded: stopping the loop does not cancel a pass in the middle of an AMQP call.
        self._pass = asyncio.ensure_future(self._read())
        await asyncio.shield(self._pass)

    async def _read(self) -> None:
        # FastStream keeps its connection private (see shared.messaging.broker.close_broker);
        # asking `broker.connect()` for it would open a new one while the service is stopping.
        connection: AbstractRobustConnection | None = self._broker._connection
        if connection is None or connection.is_closed or not connection.connected.is_set():
            self._broker_away(ConnectionError("not connected"))
            return
        try:
            async with asyncio.timeout(PASS_TIMEOUT_SECONDS):
                await self._refresh(connection)
        except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as error:
            self._broker_away(error)
            return
        if self._unreachable:
            log.info("queue metrics read again")
        self._unreachable = False

    def _broker_away(self, error: BaseException) -> None:
        if not self._unreachable:
            log.warning(
                "queue metrics not read: broker unreachable; the gauges keep their last values",
                error=f"{type(error).__name__}: {error}" if str(error) else type(error).__name__,
            )
        self._unreachable = True

    async def _refresh(self, connection: AbstractRobustConnection) -> None:
        channel = await connection.channel(publisher_confirms=False)
        try:
            for name in self._queue_names():
                ready, consumers, channel = await self._inspect(connection, channel, name)
                if ready is not None:
                    READY.labels(name).set(ready)
                    CONSUMERS.labels(name).set(consumers or 0)
                dead, _, channel = await self._inspect(
                    connection, channel, self._topology.dead_letter_queue_name(name)
                )
                if dead is not None:
                    DEAD_LETTERS.labels(name).set(dead)
        finally:
            if not channel.is_closed:
                await channel.close()

    @staticmethod
    async def _inspect(
        connection: AbstractRobustConnection, channel: AbstractRobustChannel, name: str
    ) -> tuple[int | None, int | None, AbstractRobustChannel]:
        """(messages ready, consumers) of queue `name` — (None, None) if it does not exist —
        and the channel to go on with (a missing queue closed the one given)."""
        try:
            queue = await channel.declare_queue(name, passive=True, robust=False)
        except ChannelNotFoundEntity:
            log.debug("queue not found", queue=name)
            return None, None, await connection.channel(publisher_confirms=False)
        result = queue.declaration_result
        return result.message_count, result.consumer_count, channel

"""The event log (`<ns>.events.log`, a RabbitMQ stream) read from its first message to its end.

A stream never says it has ended, and over AMQP it tells no length. So before reading, the
reader appends a *marker* — a message of its own, straight into the stream through the default
exchange (no queue bound to the events exchange sees it), confirmed by the broker — and reads
its offset back from the stream's last chunk (`x-stream-offset: last`). Everything before the
marker is the history to read: the reader stops when the marker arrives, knowing how many
messages lay ahead (the marker's offset less the first one's), not after a quiet second.
Markers carry the header `x-foro-log-marker`; readers pass over every marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import ChannelNotFoundEntity

MARKER_HEADER = "x-foro-log-marker"
OFFSET_HEADER = "x-stream-offset"
PREFETCH = 1000
ACK_EVERY = 250
FIND_MARKER_SECONDS = 5.0

type OnMessage = Callable[[bytes, int], None]


@dataclass(frozen=True)
class LogEnd:
    marker_id: str
    offset: int | None  # the marker's offset; None if newer messages hid it from `last`


def is_marker(message: AbstractIncomingMessage) -> bool:
    return bool((message.headers or {}).get(MARKER_HEADER))


class EventLog:
    def __init__(self, connection: AbstractConnection, name: str) -> None:
        self.connection = connection
        self.name = name

    async def exists(self) -> bool:
        channel = await self.connection.channel()
        try:
            await channel.declare_queue(self.name, passive=True)
        except ChannelNotFoundEntity:
            return False
        with contextlib.suppress(Exception):
            await channel.close()
        return True

    async def mark_end(self) -> LogEnd:
        """Append a marker and find its offset: the log's end as of now."""
        marker_id = f"log-marker-{uuid.uuid4()}"
        channel = await self.connection.channel(publisher_confirms=True)
        try:
            await channel.default_exchange.publish(
                aio_pika.Message(
                    json.dumps({"log_marker": marker_id}).encode(),
                    content_type="application/json",
                    message_id=marker_id,
                    headers={MARKER_HEADER: True},
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=self.name,
                mandatory=True,
            )
        finally:
            await channel.close()
        return LogEnd(marker_id, await self._offset_of(marker_id))

    async def _offset_of(self, marker_id: str) -> int | None:
        """The marker's offset, read from the stream's last chunk (where it is, unless newer
        events were appended after it in chunks of their own)."""
        channel = await self.connection.channel()
        found: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

        async def on_message(message: AbstractIncomingMessage) -> None:
            offset = (message.headers or {}).get(OFFSET_HEADER)
            if message.message_id == marker_id and not found.done():
                found.set_result(int(offset) if isinstance(offset, int) else None)
            await message.ack()

        try:
            await channel.set_qos(prefetch_count=PREFETCH)
            stream = await channel.declare_queue(self.name, passive=True)
            await stream.consume(on_message, arguments={OFFSET_HEADER: "last"})
            try:
                return await asyncio.wait_for(found, FIND_MARKER_SECONDS)
            except TimeoutError:
                return None
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

    async def read(
        self, end: LogEnd, on_message: OnMessage, on_start: Callable[[int], None] | None = None
    ) -> None:
        """Every message from the first offset up to `end`, markers passed over, in log order:
        `on_message(body, offset)`; `on_start(first offset)` before the first one."""
        channel: AbstractChannel = await self.connection.channel()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        seen = 0
        started = False

        async def on_delivery(message: AbstractIncomingMessage) -> None:
            nonlocal seen, started
            if done.done():
                return
            offset = (message.headers or {}).get(OFFSET_HEADER)
            position = int(offset) if isinstance(offset, int) else seen
            if not started:
                started = True
                if on_start is not None:
                    on_start(position)
            seen += 1
            last = message.message_id == end.marker_id
            try:
                if not is_marker(message):
                    on_message(message.body, position)
                if last or seen % ACK_EVERY == 0:
                    await message.ack(multiple=True)  # a stream consumer's credit
            except Exception as error:  # the reader's own failure: stop reading, raise it
                done.set_exception(error)
                return
            if last:
                done.set_result(None)

        try:
            await channel.set_qos(prefetch_count=PREFETCH)
            stream = await channel.declare_queue(self.name, passive=True)
            await stream.consume(on_delivery, arguments={OFFSET_HEADER: "first"})
            await done
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

"""The outbox relay: publishes what `AggregateStore` wrote, with confirms, then marks it sent.

Fast path: a write hands the relay the entries it just stored, which are published at once
without reading them back, several documents at a time (`concurrency`), one document's batches
always in the order they were written. Safety net: at start-up and every `sweep_seconds` the relay publishes
whatever any document still holds — what a crash between the write and the publish left behind. Publishing twice is possible (crash after the confirm,
before the mark); consumers are idempotent on `event_id`, so it is harmless.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import structlog
from faststream.rabbit import RabbitBroker
from prometheus_client import Counter, Gauge
from pymongo.asynchronous.collection import AsyncCollection

from shared.messaging.publishers import publish_body
from shared.messaging.topology import Topology

log = structlog.get_logger("foro.outbox")

PUBLISHED = Counter("foro_outbox_published_total", "Events published by the outbox relay", ["type"])
PENDING = Gauge("foro_outbox_pending_documents", "Documents found holding unpublished events")

CRASH_BEFORE_PUBLISH = "crash_before_publish"


class OutboxRelay:
    def __init__(
        self,
        broker: RabbitBroker,
        topology: Topology,
        collections: Mapping[str, AsyncCollection],
        *,
        sweep_seconds: float = 2.0,
        fault: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self._broker = broker
        self._topology = topology
        self._collections = dict(collections)
        self._sweep_seconds = sweep_seconds
        self._fault = fault
        self._queue: asyncio.Queue[tuple[str, Any, list[dict[str, Any]]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        # The last publishing task of each document: the next batch of that document waits for it.
        self._tails: dict[tuple[str, Any], asyncio.Task[None]] = {}

    def notify(self, collection: str, doc_id: Any, entries: list[dict[str, Any]]) -> None:
        """Called right after a write that stored `entries` in the document's outbox (no I/O)."""
        self._queue.put_nowait((collection, doc_id, entries))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Publish what is queued, then stop: a graceful shutdown leaves nothing for the sweep."""
        if self._task is None:
            return
        await self.flush()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def flush(self) -> None:
        if self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)
        while not self._queue.empty():
            await self._publish(*self._queue.get_nowait())

    async def sweep(self) -> int:
        """Publish every event still in an outbox; returns how many documents held some."""
        found = 0
        for name, collection in self._collections.items():
            async for document in collection.find({"outbox_pending": True}, {"outbox": 1}):
                found += 1
                await self._publish(name, document["_id"], document.get("outbox") or [])
        PENDING.set(found)
        return found

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
                while True:
                    try:
                        item = await asyncio.wait_for(self._queue.get(), timeout=self._sweep_seconds)
                    except TimeoutError:
                        break
                    await self._dispatch(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - broker or database down: the sweep retries later
                log.exception("outbox relay failed; retrying after the sweep interval")
                await asyncio.sleep(self._sweep_seconds)

    async def _dispatch(self, item: tuple[str, Any, list[dict[str, Any]]]) -> None:
        await self._slots.acquire()
        key = (item[0], item[1])
        task = asyncio.create_task(self._publish_after(self._tails.get(key), item))
        self._tails[key] = task
        task.add_done_callback(lambda done: self._tails.pop(key, None) if self._tails.get(key) is done else None)

    async def _publish_after(self, previous: asyncio.Task[None] | None, item: tuple[str, Any, list[dict[str, Any]]]) -> None:
        try:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self._publish(*item)
        except Exception:  # noqa: BLE001 - broker or database down: the sweep republishes it
            log.warning("outbox publish failed; the sweep will retry", exc_info=True)
        finally:
            self._slots.release()

    async def _publish(self, collection_name: str, doc_id: Any, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        if self._fault == CRASH_BEFORE_PUBLISH:
            # Fault injection for the crash test: the write is durable, the publish never happens.
            log.warning("fault injected: exiting between the database write and the publish")
            os._exit(86)
        for entry in entries:
            await self.publish_entry(entry)
        sent = [entry["id"] for entry in entries]
        # One write removes what was sent and recomputes the flag: events added meanwhile stay.
        await self._collections[collection_name].update_one(
            {"_id": doc_id},
            [
                {"$set": {"outbox": {"$filter": {"input": "$outbox", "cond": {"$not": [{"$in": ["$$this.id", sent]}]}}}}},
                {"$set": {"outbox_pending": {"$gt": [{"$size": "$outbox"}, 0]}}},
            ],
        )

    async def publish_entry(self, entry: Mapping[str, Any]) -> None:
        exchange = self._topology.exchange_named(entry.get("exchange", "events"))
        await publish_body(self._broker, exchange, entry["type"], entry["body"], event_id=entry["id"])
        PUBLISHED.labels(entry["type"]).inc()

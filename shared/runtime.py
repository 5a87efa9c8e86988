"""The life of a service process: what starts, in which order, and how it stops.

Start: database indexes → broker connection → topology (exchanges, event log, dead-letter
queues) → consumers → outbox relay. Stop: consumers stop taking messages and finish the ones
in flight (graceful timeout) → the relay publishes what they wrote → connections close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared.messaging.topology import Topology
from shared.messaging.broker import create_broker
from shared.persistence.mongo import create_mongo_client, ping
from shared.persistence.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = structlog.get_logger("foro.runtime")


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    broker: RabbitBroker
    topology: Topology
    mongo: AsyncMongoClient
    queue_names: list[str] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    relay: OutboxRelay | None = None
    started: bool = False

    @classmethod
    def create(cls, service: str, settings: ServiceSettings, *, description: str) -> ServiceRuntime:
        """Broker and database client for `service`; nothing connects until `running()`."""
        broker, topology = create_broker(settings, description=description)
        mongo = create_mongo_client(settings.mongo_url.get_secret_value(), app_name=f"foro-{service}")
        return cls(service, settings, broker, topology, mongo)

    @property
    def database(self) -> AsyncDatabase:
        return self.mongo[self.settings.database]

    def attach_outbox(self, collections: Mapping[str, AsyncCollection], *, fault: str | None = None) -> OutboxRelay:
        self.relay = OutboxRelay(
            self.broker,
            self.topology,
            collections,
            sweep_seconds=self.settings.outbox_sweep_seconds,
            fault=fault,
            concurrency=self.settings.outbox_concurrency,
        )
        return self.relay

    def notify_outbox(self, collection: str, doc_id: Any, entries: list[dict[str, Any]]) -> None:
        if self.relay is not None:
            self.relay.notify(collection, doc_id, entries)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        for hook in self.on_start:
            await hook()
        await self.broker.connect()
        await self.topology.declare(self.broker, self.queue_names)
        await self.broker.start()
        if self.relay is not None:
            await self.relay.start()
        self.started = True
        log.info("service started", queues=self.queue_names)
        try:
            yield self
        finally:
            self.started = False
            for subscriber in self.broker.subscribers:
                await subscriber.stop()  # takes no more messages; waits for those in flight
            if self.relay is not None:
                await self.relay.stop()  # publishes what they wrote, while the connection is open
            await self.broker.stop()
            for hook in self.on_stop:
                await hook()
            await self.mongo.close()
            log.info("service stopped")

    async def readiness(self) -> dict[str, bool]:
        broker_ok = self.started and await self.broker.ping(timeout=2.0)
        return {"broker": bool(broker_ok), "database": await ping(self.mongo)}

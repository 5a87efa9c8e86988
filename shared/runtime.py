"""The life of a service process: what starts, in which order, and how it stops.

Start: broker connection → the sweep's index on every store's collection → start-up hooks
(database indexes, extra declarations) → topology (exchanges, event log, dead-letter queues) →
consumers → outbox relay, which covers every `AggregateStore` built with `runtime.stores` → queue
gauges (`shared.messaging.queue_metrics`, every `FORO_QUEUE_METRICS_SECONDS`). While
the broker or the database cannot be reached, start-up is retried with backoff (half a second, doubling up to
`start_retry_max_seconds`), one log line per attempt; every attempt is bounded in time (see
`shared.messaging.broker` and `shared.persistence.mongo`). Once started, a lost broker connection
is re-established by the broker client itself, consumers included; readiness says "not ready"
meanwhile. Stop: queue gauges stop being read → consumers stop taking messages and finish the
ones in flight (graceful timeout) → the relay publishes what they wrote → connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiormq.exceptions import ChannelInvalidStateError
from faststream.rabbit import RabbitBroker, RabbitQueue
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from shared.auth.dependencies import Authenticator
from shared.messaging.broker import close_broker, create_broker
from shared.messaging.queue_metrics import QueueMetrics
from shared.messaging.topology import Topology
from shared.persistence.aggregates import StoreRegistry
from shared.persistence.mongo import create_mongo_client, ping
from shared.persistence.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = structlog.get_logger("foro.runtime")

# What an unreachable broker or database raises; anything else is a fault start-up does not retry.
# OSError covers refused and reset sockets, timeouts (TimeoutError) and AMQP connection errors.
UNREACHABLE = (OSError, ChannelInvalidStateError, ConnectionFailure)

FIRST_RETRY_SECONDS = 0.5


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    broker: RabbitBroker
    topology: Topology
    mongo: AsyncMongoClient
    queue_names: list[str] = field(default_factory=list)
    # Routing keys bound to a consumer queue beyond the one its subscriber binds (a FastStream
    # queue binds one key): (queue, key) pairs on the events exchange, declared at start and read
    # by `foro topology` (shared/messaging/namespace.py).
    extra_bindings: list[tuple[RabbitQueue, str]] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    relay: OutboxRelay | None = None
    started: bool = False
    start_attempts: int = 0
    stores: StoreRegistry = field(init=False)
    queue_metrics: QueueMetrics = field(init=False)
    # Who a request's token names: one verifier and one set of revoked tokens per process.
    authenticator: Authenticator = field(init=False)

    def __post_init__(self) -> None:
        # Repositories build their stores with this registry; the relay sweeps what it holds.
        self.stores = StoreRegistry(on_outbox=self.notify_outbox)
        self.authenticator = Authenticator.from_settings(self.settings)
        # Depth, consumers and dead letters of this service's queues, while it runs.
        self.queue_metrics = QueueMetrics(
            self.broker,
            self.topology,
            lambda: self.queue_names,
            interval=self.settings.queue_metrics_seconds,
            timeout=self.settings.broker_connect_timeout,
        )

    @classmethod
    def create(cls, service: str, settings: ServiceSettings, *, description: str) -> ServiceRuntime:
        """Broker and database client for `service`; nothing connects until `running()`."""
        broker, topology = create_broker(settings, description=description, name=f"foro-{service}")
        mongo = create_mongo_client(
            settings.mongo_url.get_secret_value(),
            app_name=f"foro-{service}",
            connect_timeout=settings.mongo_connect_timeout,
            server_selection_timeout=settings.mongo_server_selection_timeout,
            socket_timeout=settings.mongo_socket_timeout,
        )
        return cls(service, settings, broker, topology, mongo)

    @property
    def database(self) -> AsyncDatabase:
        return self.mongo[self.settings.database]

    def attach_outbox(
        self, collections: Mapping[str, AsyncCollection] | None = None, *, fault: str | None = None
    ) -> OutboxRelay:
        """The relay over every registered store's collection (`collections`: a test's own)."""
        self.relay = OutboxRelay(
            self.broker,
            self.topology,
            self.stores.collections if collections is None else collections,
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
        """Started on entry — after as many attempts as the broker and database need — and
        stopped on exit. A fault other than unreachability is raised at once. Cancelling
        start-up leaves no connection behind. The HTTP app enters this in the background
        (`shared.http.create_http_app`), so the process answers liveness meanwhile."""
        await self._start()
        try:
            yield self
        finally:
            await self._stop()

    async def _start(self) -> None:
        delay = FIRST_RETRY_SECONDS
        while True:
            self.start_attempts += 1
            try:
                await self._start_once()
                break
            except UNREACHABLE as error:
                log.warning(
                    "start-up failed: broker or database unreachable; retrying",
                    attempt=self.start_attempts,
                    retry_in=round(delay, 2),
                    error=f"{type(error).__name__}: {error}"
                    if str(error)
                    else type(error).__name__,
                )
                await self._abandon_start()
            except BaseException:
                await self._abandon_start()
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.start_retry_max_seconds)
        self.started = True
        await self.queue_metrics.start()
        log.info("service started", queues=self.queue_names, attempts=self.start_attempts)

    async def _start_once(self) -> None:
        log.info("connecting to the broker", attempt=self.start_attempts)
        await self._connect_broker()
        if self.relay is None and self.stores:
            self.attach_outbox()  # a service that did not attach one still gets its stores swept
        await self.stores.ensure_indexes()
        for hook in self.on_start:
            await hook()
        await self.topology.declare(self.broker, self.queue_names)
        await self._bind_extra()
        await self.broker.start()
        if self.relay is not None:
            await self.relay.start()

    async def _bind_extra(self) -> None:
        if not self.extra_bindings:
            return
        exchange = await self.broker.declare_exchange(self.topology.events)
        for queue, key in self.extra_bindings:
            declared = await self.broker.declare_queue(queue)
            await declared.bind(exchange, routing_key=key)

    async def _connect_broker(self) -> None:
        """`broker.connect()`, bounded by the connect timeout, and never abandoned half-way:
        an aio-pika connection cancelled while connecting keeps reconnecting on its own."""
        connecting = asyncio.ensure_future(self.broker.connect())
        try:
            await asyncio.shield(connecting)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await connecting  # ends within the connect timeout; closed by _abandon_start
            raise

    async def _abandon_start(self) -> None:
        """Undo a partial start, so the next attempt begins from nothing."""
        if self.relay is not None:
            await self.relay.stop(timeout=0)
        await close_broker(self.broker, timeout=self.settings.broker_connect_timeout)

    async def _stop(self) -> None:
        self.started = False
        await self.queue_metrics.stop()
        grace = self.settings.graceful_timeout
        for subscriber in self.broker.subscribers:
            try:  # takes no more messages; waits for those in flight
                async with asyncio.timeout(grace + self.settings.broker_connect_timeout):
                    await subscriber.stop()
            except Exception as error:
                log.warning("consumer did not stop cleanly", error=repr(error))
        if self.relay is not None:
            await self.relay.stop(
                timeout=grace
            )  # publishes what they wrote, while the connection is open
        await close_broker(self.broker, timeout=self.settings.broker_connect_timeout)
        for hook in self.on_stop:
            await hook()
        await self.mongo.close()
        log.info("service stopped")

    async def readiness(self) -> dict[str, bool]:
        """Started, the broker connection up now (not merely once), and the database answering."""
        broker_ok = self.started and await self.broker.ping(timeout=0.1)
        return {"broker": bool(broker_ok), "database": await ping(self.mongo, timeout=2.0)}

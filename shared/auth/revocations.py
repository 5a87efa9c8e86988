"""Revoked access tokens, one by one.

Registration publishes `access.revoked` (token id, expiry) through its outbox; every service
consumes it into its own collection `revoked_tokens` (a TTL index drops an entry once the token
has expired anyway), and each replica's verifier holds the ids in memory (`RevocationSet`),
refreshed from that collection every `REFRESH_SECONDS`: a revocation takes effect within seconds
on every replica — the replica whose consumer took the event at once — and no request waits on
the database. A failed refresh keeps the last set and is retried at the next one.

Every service's bootstrap wires it with one call: `install_revocations(runtime, router, topology)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from faststream.rabbit import RabbitRouter
from pymongo.asynchronous.database import AsyncDatabase

from shared.contracts.registration import AccessRevoked
from shared.messaging.topology import Topology
from shared.periodic import Periodic

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.auth.revocations")

REVOKED_TOKENS = "revoked_tokens"
REFRESH_SECONDS = 5.0
QUEUE_PURPOSE = "access-revoked"


def _now() -> datetime:
    return datetime.now(UTC)


class RevocationSet:
    """The revoked token ids a verifier refuses (`token_id in revoked`)."""

    def __init__(self, token_ids: Iterable[str] = ()) -> None:
        self._ids: frozenset[str] = frozenset(token_ids)
        self.refreshes = 0  # completed refreshes; tests wait on it instead of sleeping

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def replace(self, token_ids: Iterable[str]) -> None:
        """Swap in a new set at once (readers never see a half-built one)."""
        self._ids = frozenset(token_ids)
        self.refreshes += 1

    def add(self, token_id: str) -> None:
        """Refuse `token_id` from now on in this process, before the next refresh."""
        self._ids = self._ids | {token_id}


class RevocationStore:
    """A service's own record of revoked tokens: `revoked_tokens`, `_id` = token id."""

    def __init__(
        self,
        database: AsyncDatabase,
        *,
        collection: str = REVOKED_TOKENS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.collection = database[collection]
        self.clock = clock

    async def ensure_indexes(self) -> None:
        # The database forgets a revocation once the token would have expired anyway.
        await self.collection.create_index(
            "expires_at", expireAfterSeconds=0, name="revocation_expires"
        )

    async def record(self, event: AccessRevoked) -> bool:
        """Keep the revocation; idempotent by token id. True the first time."""
        result = await self.collection.update_one(
            {"_id": event.token_id},
            {
                "$setOnInsert": {
                    "expires_at": event.expires_at,
                    "revoked_at": event.occurred_at,
                    "event_id": str(event.event_id),
                }
            },
            upsert=True,
        )
        return result.upserted_id is not None

    async def revoked_ids(self) -> list[str]:
        """The ids of revoked tokens not yet expired (the TTL monitor deletes lazily)."""
        cursor = self.collection.find({"expires_at": {"$gt": self.clock()}}, {"_id": 1})
        return [str(document["_id"]) async for document in cursor]


class RevocationRefresher(Periodic):
    """Reloads a replica's `RevocationSet` from its service's store every few seconds."""

    name = "revocations-refresh"

    def __init__(
        self, store: RevocationStore, revoked: RevocationSet, interval: float = REFRESH_SECONDS
    ) -> None:
        super().__init__(interval)
        self.store = store
        self.revoked = revoked

    async def tick(self) -> None:
        self.revoked.replace(await self.store.revoked_ids())

    async def start(self) -> None:
        # A start-up retried after a failed attempt calls its hooks again: one task only.
        if self._task is None or self._task.done():
            await super().start()


async def revoke(store: RevocationStore, revoked: RevocationSet, event: AccessRevoked) -> None:
    """Use case of `access.revoked`: keep it, and refuse the token here at once."""
    first = await store.record(event)
    revoked.add(event.token_id)
    log.info("access token revoked", token_id=event.token_id, first=first)


def install_revocations(
    runtime: ServiceRuntime, router: RabbitRouter, topology: Topology
) -> list[str]:
    """Wire revocations into a service: the `access.revoked` consumer (queue
    `<ns>.<service>.access-revoked`), its store's index, and the refresh of the set the
    runtime's verifier consults, started and stopped with the runtime. Call it after
    `runtime.queue_names` is set: it appends its queue, and returns it too."""
    from shared.auth.dependencies import authenticator_for  # it imports this module

    revoked = authenticator_for(runtime).revoked
    store = RevocationStore(runtime.database)
    refresher = RevocationRefresher(store, revoked)
    queue = topology.queue(runtime.name, QUEUE_PURPOSE, AccessRevoked.type_name())

    @router.subscriber(
        queue,
        topology.events,
        title=f"{runtime.name}:{AccessRevoked.type_name()}",
        description="Revoked access tokens: kept in this service's revoked_tokens until they "
        "expire; every replica refuses them within seconds.",
    )
    async def on_access_revoked(body: AccessRevoked) -> None:
        structlog.contextvars.bind_contextvars(event_id=str(body.event_id))
        await revoke(store, revoked, body)

    async def start() -> None:
        await store.ensure_indexes()
        async with asyncio.timeout(runtime.settings.mongo_server_selection_timeout):
            revoked.replace(await store.revoked_ids())  # refused from the first request
        await refresher.start()

    runtime.on_start.append(start)
    runtime.on_stop.insert(0, refresher.stop)
    runtime.queue_names.append(queue.name)
    return [queue.name]

"""Revoked access tokens, one by one — by token id, or every token of one party issued before
a time (a party's links were e-mailed, not stored: `access.subject_revoked`).

Registration publishes `access.revoked` (token id, expiry) and `access.subject_revoked` (subject,
issued before, expiry) through its outbox; every service consumes them into its own collection `revoked_tokens` (a TTL index drops an entry once the token
has expired anyway), and each replica's verifier holds the ids in memory (`RevocationSet`),
refreshed from that collection every `REFRESH_SECONDS`: a revocation takes effect within seconds
on every replica — the replica whose consumer took the event at once — and no request waits on
the database. A failed refresh keeps the last set and is retried at the next one.

Every service's bootstrap wires it with one call: `install_revocations(runtime, router, topology)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from faststream.rabbit import RabbitRouter
from pymongo.asynchronous.database import AsyncDatabase

from shared.auth.principal import Principal
from shared.contracts.registration import AccessRevoked, AccessSubjectRevoked
from shared.messaging.topology import Topology
from shared.periodic import Periodic

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.auth.revocations")

REVOKED_TOKENS = "revoked_tokens"
REFRESH_SECONDS = 5.0
QUEUE_PURPOSE = "access-revoked"
SUBJECT_QUEUE_PURPOSE = "access-subject-revoked"
SUBJECT_PREFIX = "subject:"


def _now() -> datetime:
    return datetime.now(UTC)


class RevocationSet:
    """The revoked tokens a verifier refuses: token ids, and per party subject the time before
    which its tokens are revoked (`revokes(principal)`)."""

    def __init__(
        self, token_ids: Iterable[str] = (), subjects: Mapping[str, datetime] | None = None
    ) -> None:
        self._ids: frozenset[str] = frozenset(token_ids)
        self._subjects: Mapping[str, datetime] = dict(subjects or {})
        self.refreshes = 0  # completed refreshes; tests wait on it instead of sleeping

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids

    def __len__(self) -> int:
        return len(self._ids) + len(self._subjects)

    def revokes(self, principal: Principal) -> bool:
        if principal.token_id in self._ids:
            return True
        before = self._subjects.get(principal.subject)
        return (
            before is not None and principal.issued_at is not None and principal.issued_at <= before
        )

    def replace(
        self, token_ids: Iterable[str], subjects: Mapping[str, datetime] | None = None
    ) -> None:
        """Swap in a new set at once (readers never see a half-built one)."""
        self._ids, self._subjects = frozenset(token_ids), dict(subjects or {})
        self.refreshes += 1

    def add(self, token_id: str) -> None:
        """Refuse `token_id` from now on in this process, before the next refresh."""
        self._ids = self._ids | {token_id}

    def add_subject(self, subject: str, issued_before: datetime) -> None:
        """Refuse `subject`'s tokens issued up to `issued_before`, in this process at once."""
        subjects = dict(self._subjects)
        if (held := subjects.get(subject)) is None or held < issued_before:
            subjects[subject] = issued_before
        self._subjects = subjects


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

    async def record_subject(
        self, subject: str, issued_before: datetime, expires_at: datetime, event_id: str
    ) -> None:
        """Keep a subject's revocation (`_id` `subject:<subject>`); the latest time wins, so a
        redelivered or older event changes nothing."""
        await self.collection.update_one(
            {"_id": SUBJECT_PREFIX + subject},
            {
                "$max": {"issued_before": issued_before, "expires_at": expires_at},
                "$setOnInsert": {"subject": subject, "event_id": event_id},
            },
            upsert=True,
        )

    async def revoked(self) -> tuple[list[str], dict[str, datetime]]:
        """The revoked token ids and subjects not yet expired (the TTL monitor deletes lazily)."""
        ids: list[str] = []
        subjects: dict[str, datetime] = {}
        cursor = self.collection.find(
            {"expires_at": {"$gt": self.clock()}}, {"_id": 1, "subject": 1, "issued_before": 1}
        )
        async for document in cursor:
            if "subject" in document:
                before = document["issued_before"]
                subjects[document["subject"]] = (
                    before if before.tzinfo else before.replace(tzinfo=UTC)
                )
            else:
                ids.append(str(document["_id"]))
        return ids, subjects

    async def revoked_ids(self) -> list[str]:
        """The ids of revoked tokens not yet expired."""
        return (await self.revoked())[0]


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
        self.revoked.replace(*await self.store.revoked())

    async def start(self) -> None:
        # A start-up retried after a failed attempt calls its hooks again: one task only.
        if self._task is None or self._task.done():
            await super().start()


async def revoke(store: RevocationStore, revoked: RevocationSet, event: AccessRevoked) -> None:
    """Use case of `access.revoked`: keep it, and refuse the token here at once."""
    first = await store.record(event)
    revoked.add(event.token_id)
    log.info("access token revoked", token_id=event.token_id, first=first)


async def revoke_subject(
    store: RevocationStore, revoked: RevocationSet, event: AccessSubjectRevoked
) -> None:
    """Use case of `access.subject_revoked`: keep it, and refuse the subject's older tokens here
    at once."""
    await store.record_subject(
        event.subject, event.issued_before, event.expires_at, str(event.event_id)
    )
    revoked.add_subject(event.subject, event.issued_before)
    log.info("party access revoked", subject_kind=event.subject.partition(":")[0])


async def revoke_subject_here(
    runtime: ServiceRuntime, subject: str, issued_before: datetime, expires_at: datetime
) -> None:
    """Revoke a party's tokens that only this service accepts (an exhibitor's access at expo,
    a focal point's at registration) without an event: kept in this service's revoked_tokens,
    refused by this replica at once and by the others within the refresh. Idempotent. A
    participant's links, which every service accepts, are revoked by `access.subject_revoked`."""
    from shared.auth.dependencies import authenticator_for  # it imports this module

    await RevocationStore(runtime.database).record_subject(
        subject, issued_before, expires_at, event_id="local"
    )
    authenticator_for(runtime).revoked.add_subject(subject, issued_before)
    log.info("party access revoked", subject_kind=subject.partition(":")[0], local=True)


def install_revocations(
    runtime: ServiceRuntime, router: RabbitRouter, topology: Topology
) -> list[str]:
    """Wire revocations into a service: the `access.revoked` and `access.subject_revoked`
    consumers (queues `<ns>.<service>.access-revoked`, `….access-subject-revoked`), its store's
    index, and the refresh of the set the
    runtime's verifier consults, started and stopped with the runtime. Call it after
    `runtime.queue_names` is set: it appends its queues, and returns them too."""
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

    subject_queue = topology.queue(
        runtime.name, SUBJECT_QUEUE_PURPOSE, AccessSubjectRevoked.type_name()
    )

    @router.subscriber(
        subject_queue,
        topology.events,
        title=f"{runtime.name}:{AccessSubjectRevoked.type_name()}",
        description="A party's revoked links (every token of the subject issued before a time): "
        "kept in this service's revoked_tokens until they expire; every replica refuses them "
        "within seconds.",
    )
    async def on_subject_revoked(body: AccessSubjectRevoked) -> None:
        structlog.contextvars.bind_contextvars(event_id=str(body.event_id))
        await revoke_subject(store, revoked, body)

    async def start() -> None:
        await store.ensure_indexes()
        async with asyncio.timeout(runtime.settings.mongo_server_selection_timeout):
            revoked.replace(*await store.revoked())  # refused from the first request
        await refresher.start()

    runtime.on_start.append(start)
    runtime.on_stop.insert(0, refresher.stop)
    runtime.queue_names.extend([queue.name, subject_queue.name])
    return [queue.name, subject_queue.name]

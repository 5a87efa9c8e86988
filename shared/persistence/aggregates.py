"""Idempotent, single-document state changes with their outbox.

A consumer handles an event by *deciding* (a pure function of the current document) what
changes and which events follow; `AggregateStore.apply` then writes, in ONE document update:
the new state, the consumed event's id (`processed`) and the events to publish (`outbox`).
A redelivered event finds its id in `processed` and changes nothing. Concurrent writers are
serialised by an optimistic `version` check. This needs only single-document atomicity, so it
holds on a standalone MongoDB, a replica set and SecantusDB alike.

Every store built with a `StoreRegistry` (the one its service's runtime owns) registers its
collection there, so the outbox relay hands on and sweeps every collection a store can write an
outbox to: no hand-kept list to forget one in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from shared.contracts.envelope import Event
from shared.decisions import Change, Decision
from shared.persistence.batching import GroupCommit

Collection = AsyncCollection[dict[str, Any]]

CREATE_BATCH = 256
DUPLICATE_KEY = 11000

PROCESSED_KEPT = 200
"""Consumed event ids kept per document; far more than one document ever sees redelivered."""


class ConcurrencyConflict(Exception):
    """Too many concurrent writers on one document: transient, the message is redelivered."""


@dataclass
class Applied:
    document: dict[str, Any] | None
    change: Change | None
    duplicate: bool = False
    result: Any = None  # what the rule decided (`Decision.result`); None for a duplicate

    @property
    def events(self) -> Sequence[Event]:
        return self.change.events if self.change else ()


def outbox_entry(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "exchange": event.exchange,
        "body": event.model_dump(mode="json"),
        "added_at": datetime.now(UTC),
    }


def _new_document(
    doc_id: Any, cause_id: str | None, fields: dict[str, Any], entries: list[dict[str, Any]]
) -> dict[str, Any]:
    new = {
        **fields,
        "_id": doc_id,
        "version": 1,
        "processed": [cause_id] if cause_id else [],
        "outbox": entries,
    }
    if entries:
        new["outbox_pending"] = True
    return new


Decide = Callable[[dict[str, Any] | None], Change | Decision[Any] | None]
OnOutbox = Callable[[str, Any, list[dict[str, Any]]], None]
UNREAD: Any = object()
"""`apply(current=UNREAD)`: the caller has not read the document; `apply` reads it."""


class StoreRegistry:
    """The collections of every `AggregateStore` of one service: what its outbox relay sweeps.

    A store registers itself when it is built; a write that stored outbox entries goes through
    `notify`, which tells the relay (once the runtime has attached one) without any I/O.
    """

    def __init__(self, on_outbox: OnOutbox | None = None) -> None:
        self._collections: dict[str, Collection] = {}
        self._on_outbox = on_outbox

    def register(self, store: AggregateStore) -> None:
        collection = store.collection
        known = self._collections.get(collection.name)
        if known is not None and known.full_name != collection.full_name:
            raise ValueError(
                f"{collection.full_name}: a store of {known.full_name} is registered under that name"
            )
        self._collections[collection.name] = collection

    @property
    def collections(self) -> Mapping[str, Collection]:
        """Live: a store registered later is swept too."""
        return self._collections

    def __len__(self) -> int:
        return len(self._collections)

    def notify(self, collection: str, doc_id: Any, entries: list[dict[str, Any]]) -> None:
        if self._on_outbox is not None:
            self._on_outbox(collection, doc_id, entries)

    async def ensure_indexes(self) -> None:
        """The index the relay's sweep reads, on every registered collection."""
        for collection in self._collections.values():
            await collection.create_index("outbox_pending", sparse=True)


class AggregateStore:
    """Loads, decides and writes one document at a time; the only writer of `outbox`."""

    def __init__(
        self,
        collection: Collection,
        *,
        stores: StoreRegistry | None = None,
        attempts: int = 30,
    ) -> None:
        """`stores`: the runtime's registry, so the relay publishes and sweeps this collection;
        None only where no relay runs (a CLI, a test), and what is written waits for the sweep."""
        self.collection = collection
        self._on_outbox: OnOutbox | None = None
        self._attempts = attempts
        if stores is not None:
            stores.register(self)
            self._on_outbox = stores.notify
        self._creates = GroupCommit(self._insert_new, max_batch=CREATE_BATCH)

    async def _insert_new(self, documents: list[dict[str, Any]]) -> list[bool | BaseException]:
        """Insert each document if none of its unique keys exists: True, or False when one does."""
        try:
            await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if error.details.get("writeConcernErrors"):
                raise
            outcomes: list[bool | BaseException] = [True] * len(documents)
            for failure in error.details.get("writeErrors", ()):
                outcomes[failure["index"]] = (
                    False
                    if failure.get("code") == DUPLICATE_KEY
                    else OperationFailure(failure.get("errmsg", ""), failure.get("code"), failure)
                )
            return outcomes
        return [True] * len(documents)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("outbox_pending", sparse=True)

    async def get(self, doc_id: Any) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": doc_id})

    async def create(self, doc_id: Any, cause_id: str | None, change: Change) -> Applied | None:
        """Write `change` as a new document `doc_id` in ONE round trip, or None when a document
        with that id, or with any other unique key of it, exists already.

        The fast path of a use case that can tell, before any read, what a new document holds:
        a None sends it to `apply` (read, decide, write), which handles the existing document.
        Concurrent creates go to the server together, one `insert` of many documents (group
        commit, see `batching.py`): each still succeeds or fails on its own keys.
        """
        entries = [outbox_entry(event) for event in change.events]
        new = _new_document(doc_id, cause_id, change.set, entries)
        if not await self._creates.submit(new):
            return None
        if entries and self._on_outbox is not None:
            self._on_outbox(self.collection.name, doc_id, entries)
        return Applied(new, change)

    async def apply(
        self,
        doc_id: Any,
        cause_id: str | None,
        decide: Decide,
        *,
        current: dict[str, Any] | None = UNREAD,
    ) -> Applied:
        """Apply `decide` to the document `doc_id` exactly once per `cause_id`.

        `decide` receives the current document (None if absent) and returns a `Change`, a
        `Decision` (its `result` comes back as `Applied.result`), or None for "nothing to do". It may run several times under contention, so it must be pure.
        `current`, when the caller has just read or written the document, saves the first read;
        a stale one costs nothing but a retry, because the write checks `version`.
        """
        for _ in range(self._attempts):
            if current is not UNREAD:
                document, current = current, UNREAD
            else:
                document = await self.collection.find_one({"_id": doc_id})
            if (
                document is not None
                and cause_id is not None
                and cause_id in document.get("processed", ())
            ):
                return Applied(document, None, duplicate=True)
            decided = decide(document)
            result = decided.result if isinstance(decided, Decision) else None
            change = decided.change if isinstance(decided, Decision) else decided
            if change is None and (document is None or cause_id is None):
                return Applied(document, None, result=result)
            change = change or Change()
            entries = [outbox_entry(event) for event in change.events]
            if document is None:
                new = _new_document(doc_id, cause_id, change.set, entries)
                try:
                    await self.collection.insert_one(new)
                except DuplicateKeyError as error:
                    if set((error.details or {}).get("keyPattern", {})) != {"_id"}:
                        raise  # another unique key: the caller's identity resolution must retry
                    continue  # created meanwhile by another writer: decide again on it
                stored = new
            else:
                update: dict[str, Any] = {"$inc": {"version": 1}}
                to_set = dict(change.set)
                if entries:
                    to_set["outbox_pending"] = True
                if to_set:
                    update["$set"] = to_set
                push: dict[str, Any] = {}
                if cause_id is not None:
                    push["processed"] = {"$each": [cause_id], "$slice": -PROCESSED_KEPT}
                if entries:
                    push["outbox"] = {"$each": entries}
                if push:
                    update["$push"] = push
                written = await self.collection.update_one(
                    {"_id": doc_id, "version": document["version"]}, update
                )
                if written.matched_count == 0:
                    continue
                stored = {**document, **to_set, "version": document["version"] + 1}
            if entries and self._on_outbox is not None:
                self._on_outbox(self.collection.name, doc_id, entries)
            return Applied(stored, change, result=result)
        raise ConcurrencyConflict(f"{self.collection.name}/{doc_id}: too many concurrent writers")

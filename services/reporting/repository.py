"""The only code that touches reporting's database (the documents: `documents.py`).

Projections — `participants`, `entities`, `event_ledger` — are written many documents at a time:
one `find` per collection for what a batch of events targets, one `bulk_write` per collection for
what they changed (`write_projection`), one `insert_many` into the ledger. They hold no outbox,
so they are plain collections, not `AggregateStore`s. Reporting's own records — `conclusions`,
`action_items`, `budget_lines`, `reports` — change one document at a time through
`AggregateStore.apply` with their outbox; `report_files` holds generated files by SHA-256. The
audit trail — `audit`, `audit_erasures` — is written a batch at a time too (`AuditTrail`).

Every index serves a query of this module or the outbox relay's sweep; the statistics read whole
documents (SecantusDB reads whole documents twice as fast as projected ones).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.reporting.audit.subjects import KINDS
from services.reporting.projections.fold import ProjectionWrite
from shared.i18n import sort_key
from shared.persistence.aggregates import PROCESSED_KEPT, AggregateStore, StoreRegistry
from shared.persistence.mongo import drop_indexes

PROJECTIONS = ("participants", "entities", "event_ledger")
INTERNAL = {"processed": 0, "outbox": 0, "outbox_pending": 0, "version": 0}
DUPLICATE_KEY = 11000
# Indexes earlier releases made that no query uses any more (each costs every write).
RETIRED_INDEXES = {
    "participants": ("outbox_pending_1",),  # projections hold no outbox
    "entities": ("outbox_pending_1",),
    "event_ledger": ("type_1",),  # counts are a $group over the ledger, not an index walk
    "action_items": ("status_1_deadline_1",),
    "conclusions": ("forum_id_1_session_code_1",),
}

type Document = dict[str, Any]


def public_list(rows: Iterable[Document]) -> list[Document]:
    """The published participant list: confirmed, consenting, not erased, by family name."""
    listed = [
        r
        for r in rows
        if r.get("status") == "confirmed"
        and r.get("listed_publicly")
        and not r.get("erased")
        and r.get("family_name")
    ]
    return sorted(
        listed,
        key=lambda r: (
            sort_key(r["family_name"]),
            sort_key(r.get("given_name") or ""),
            r["_id"],
        ),
    )


class ReportingRepository:
    def __init__(
        self, database: AsyncDatabase[Document], *, stores: StoreRegistry | None = None
    ) -> None:
        # Each store registers itself: the runtime's relay sweeps every one of them.
        self.stores = stores if stores is not None else StoreRegistry()
        self.database = database
        self.ledger = database["event_ledger"]
        self.files = database["report_files"]
        self.reports = AggregateStore(database["reports"], stores=self.stores)
        self.conclusions = AggregateStore(database["conclusions"], stores=self.stores)
        self.action_items = AggregateStore(database["action_items"], stores=self.stores)
        self.budget = AggregateStore(database["budget_lines"], stores=self.stores)
        self.audit = AuditTrail(database)

    async def ensure_indexes(self) -> None:
        await self.audit.ensure_indexes()
        for store in (self.reports, self.conclusions, self.action_items, self.budget):
            await store.ensure_indexes()
        db = self.database
        await db["participants"].create_index([("forum_id", ASCENDING), ("status", ASCENDING)])
        await db["entities"].create_index([("forum_id", ASCENDING), ("kind", ASCENDING)])
        await self.conclusions.collection.create_index(
            [("forum_id", ASCENDING), ("status", ASCENDING)]
        )
        await self.action_items.collection.create_index(
            [("forum_id", ASCENDING), ("deadline", ASCENDING)]
        )
        await self.budget.collection.create_index([("forum_id", ASCENDING)])
        await self.reports.collection.create_index(
            [("forum_id", ASCENDING), ("generated_at", DESCENDING)]
        )
        for name, retired in RETIRED_INDEXES.items():
            await drop_indexes(db[name], retired)

    async def empty_projections(self) -> None:
        """Empty the projections and the ledger. Emptied, not dropped: the live consumer may be
        inserting into them meanwhile, and an insert racing a `drop` can land in a collection
        recreated without its unique `_id` index (SecantusDB; seen as one event counted twice).
        A `delete_many` keeps the collection and its indexes; an insert it races is kept or
        deleted whole, and the rebuild folds that event again either way."""
        for name in PROJECTIONS:
            await self.database[name].delete_many({})

    # -- projections: many documents per round trip --

    async def projection_documents(
        self, collection: str, ids: Sequence[str]
    ) -> dict[str, Document]:
        """The stored documents among `ids`, by id, in one `find`."""
        if not ids:
            return {}
        found = self.database[collection].find({"_id": {"$in": list(ids)}})
        return {document["_id"]: document async for document in found}

    async def write_projection(
        self, collection: str, writes: Sequence[ProjectionWrite]
    ) -> set[str]:
        """Every write in one `bulk_write`; returns the ids of documents another writer got to
        first (created meanwhile, or a version other than the one read): none of their write
        happened, so they are to be read and folded again."""
        if not writes:
            return set()
        operations: list[InsertOne[Document] | UpdateOne] = []
        for write in writes:
            if write.version is None:
                operations.append(
                    InsertOne(
                        {
                            "_id": write.doc_id,
                            **write.fields,
                            "version": 1,
                            "processed": list(write.causes[-PROCESSED_KEPT:]),
                        }
                    )
                )
            else:
                update: Document = {
                    "$inc": {"version": 1},
                    "$push": {
                        "processed": {"$each": list(write.causes), "$slice": -PROCESSED_KEPT}
                    },
                }
                if write.fields:
                    update["$set"] = write.fields
                operations.append(
                    UpdateOne({"_id": write.doc_id, "version": write.version}, update)
                )
        target = self.database[collection]
        lost: set[str] = set()
        try:
            result = await target.bulk_write(operations, ordered=False)
            matched = result.matched_count
        except BulkWriteError as error:
            for failure in error.details.get("writeErrors", []):
                if failure.get("code") != DUPLICATE_KEY:
                    raise
                lost.add(writes[failure["index"]].doc_id)
            matched = error.details.get("nMatched", 0)
        updates = [write for write in writes if write.version is not None]
        if matched < len(updates):  # rare: find which updates found another version
            current = await self.projection_documents(collection, [w.doc_id for w in updates])
            for write in updates:
                processed = set((current.get(write.doc_id) or {}).get("processed") or ())
                if not set(write.causes) <= processed:
                    lost.add(write.doc_id)
        return lost

    async def record_events(self, entries: Sequence[Document]) -> None:
        """One ledger document per consumed event, keyed by its id: a duplicate is a no-op."""
        if not entries:
            return
        try:
            await self.ledger.insert_many(list(entries), ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise

    async def has_events(self) -> bool:
        return await self.ledger.find_one({}, {"_id": 1}) is not None

    async def event_counts(self) -> dict[str, int]:
        pipeline: list[Document] = [{"$group": {"_id": "$type", "n": {"$sum": 1}}}]
        return {row["_id"]: row["n"] async for row in await self.ledger.aggregate(pipeline)}

    # -- projections, read whole for statistics (names only in `public_participants`' output) --

    async def participant_states(self, forum_id: str) -> list[Document]:
        return await self.database["participants"].find({"forum_id": forum_id}).to_list()

    async def entity_states(self, forum_id: str) -> list[Document]:
        return await self.database["entities"].find({"forum_id": forum_id}).to_list()

    async def public_participants(self, forum_id: str) -> list[Document]:
        """Confirmed people who agreed to be listed, not erased, by family name. The index
        finds the confirmed; the rest is filtered here (`$ne` would scan the collection)."""
        query = {"forum_id": forum_id, "status": "confirmed"}
        return public_list(await self.database["participants"].find(query).to_list())

    # -- reporting's own records --

    async def list_conclusions(
        self, forum_id: str, status: str | None = None, sessions: list[str] | None = None
    ) -> list[Document]:
        """The forum's conclusions, of one status and of `sessions` only when given."""
        query: Document = {"forum_id": forum_id}
        if status:
            query["status"] = status
        if sessions is not None:
            query["session_code"] = {"$in": sessions}
        rows = await self.conclusions.collection.find(query, INTERNAL).to_list()
        return sorted(
            rows, key=lambda r: (r["session_code"], r.get("created_at") or datetime.min, r["_id"])
        )

    async def conclusion_ids(self, forum_id: str) -> set[str]:
        rows = self.conclusions.collection.find({"forum_id": forum_id}, {"_id": 1})
        return {row["_id"] async for row in rows}

    async def get_conclusion(self, conclusion_id: str) -> Document | None:
        return await self.conclusions.collection.find_one({"_id": conclusion_id}, INTERNAL)

    async def list_action_items(self, forum_id: str) -> list[Document]:
        query = {"forum_id": forum_id}
        rows = await self.action_items.collection.find(query, INTERNAL).sort("deadline").to_list()
        return sorted(rows, key=lambda r: (r["deadline"], r["_id"]))

    async def get_action_item(self, item_id: str) -> Document | None:
        return await self.action_items.collection.find_one({"_id": item_id}, INTERNAL)

    async def open_action_item_ids(self, forum_id: str, before: str) -> list[str]:
        """Open items with a deadline before `before` (ISO date), or still flagged overdue. The
        forum's items by the index, chosen here (an `$or` would scan the collection)."""
        fields = {"status": 1, "deadline": 1, "overdue": 1}
        rows = self.action_items.collection.find({"forum_id": forum_id}, fields)
        return [
            row["_id"]
            async for row in rows
            if row.get("overdue")
            or (row.get("status") in ("planned", "in_progress") and row["deadline"] < before)
        ]

    async def budget_lines(self, forum_id: str) -> list[Document]:
        return await self.budget.collection.find({"forum_id": forum_id}, INTERNAL).to_list()

    async def store_file(self, sha256: str, content: bytes, media_type: str) -> None:
        try:
            await self.files.insert_one(
                {
                    "_id": sha256,
                    "content": Binary(content),
                    "media_type": media_type,
                    "size": len(content),
                }
            )
        except DuplicateKeyError:
            pass  # same content, already stored

    async def file(self, sha256: str) -> Document | None:
        return await self.files.find_one({"_id": sha256})

    async def get_report(self, report_id: str) -> Document | None:
        return await self.reports.collection.find_one({"_id": report_id}, INTERNAL)

    async def has_final(self, forum_id: str, kind: str, language: str) -> bool:
        """The forum's versions by the index, the final one looked for here (a forum has a few
        dozen versions; an index for this question would cost every write)."""
        fields = {"kind": 1, "language": 1, "final": 1}
        rows = self.reports.collection.find({"forum_id": forum_id}, fields)
        return any(
            [
                row
                async for row in rows
                if row.get("final") and row.get("kind") == kind and row.get("language") == language
            ]
        )

    async def list_reports(self, forum_id: str) -> list[Document]:
        query = {"forum_id": forum_id}
        rows = self.reports.collection.find(query, INTERNAL).sort("generated_at", DESCENDING)
        return await rows.to_list()


class AuditTrail:
    """The audit trail (`audit/`): `audit`, one entry per event keyed by its id, and
    `audit_erasures`, the erased participants' ids (so an entry they caused that arrives after
    their erasure is written without them). Not dropped by a rebuild: the event log is bounded,
    and the trail keeps what it no longer holds.

    Indexes: one sparse single-field index per subject kind (an entry holds a few kinds) and one
    on the actor's subject — each the index of a filter of `GET /audit`."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.entries = database["audit"]
        self.erasures = database["audit_erasures"]

    async def ensure_indexes(self) -> None:
        for kind in KINDS:
            await self.entries.create_index([(kind, ASCENDING)], sparse=True)
        await self.entries.create_index([("actor.subject", ASCENDING)])

    async def record(self, entries: Sequence[Document]) -> None:
        """Entries not yet recorded, in one `insert_many`: an entry already there is kept."""
        await _insert_new(self.entries, entries)

    async def rewrite(self, entries: Sequence[Document]) -> None:
        """Entries as the rules make them now (a rebuild), in one `bulk_write`."""
        if entries:
            operations = [ReplaceOne({"_id": e["_id"]}, e, upsert=True) for e in entries]
            await self.entries.bulk_write(operations, ordered=False)

    async def record_erasures(self, participant_ids: Iterable[str]) -> None:
        await _insert_new(self.erasures, [{"_id": p} for p in sorted(set(participant_ids))])

    async def erased_among(self, participant_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(participant_ids))
        if not ids:
            return set()
        return {row["_id"] async for row in self.erasures.find({"_id": {"$in": ids}})}

    async def erased(self) -> set[str]:
        """Every erased participant (a rebuild's start: a few per forum)."""
        return {row["_id"] async for row in self.erasures.find({}, {"_id": 1})}

    async def replace_actors(self, subjects: Iterable[str], actor: Document) -> None:
        """Every entry caused by one of `subjects` names `actor` instead."""
        wanted = sorted(set(subjects))
        if wanted:
            await self.entries.update_many(
                {"actor.subject": {"$in": wanted}}, {"$set": {"actor": actor}}
            )

    async def page(self, field: str, value: str, *, skip: int, limit: int) -> list[Document]:
        """Entries whose `field` holds `value`, in order (`stamp`), from the `skip`-th on.
        One field per query: SecantusDB reads the whole collection for a filter with a second
        field beside the indexed one, so the other filters and the cursor are applied here."""
        rows = self.entries.find({field: value}).sort("stamp", ASCENDING)
        return await rows.skip(skip).limit(limit).to_list()

    async def every(self, field: str, value: str) -> AsyncIterator[Document]:
        """Every entry whose `field` holds `value`, in order, read a batch at a time."""
        rows = self.entries.find({field: value}, batch_size=1000).sort("stamp", ASCENDING)
        async for row in rows:
            yield row


async def _insert_new(collection: Any, documents: Sequence[Document]) -> None:
    """`documents` inserted in one round trip; one whose `_id` exists is left as it is."""
    if not documents:
        return
    try:
        await collection.insert_many(list(documents), ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise

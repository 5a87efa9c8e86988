"""The only code that touches reporting's database.

Projections (dropped and refilled by a rebuild):
  `participants`  one document per participant: status, category, country, language, sector,
                  consent to be listed, check-ins; names only of people who agreed to be listed
  `entities`      one document per exhibitor, booth, launch, lead, meeting, job post, application,
                  session, session sign-up and message: its latest status and a few attributes
  `event_ledger`  one document per consumed event id: counts by type, of every type
Reporting's own records (kept by a rebuild):
  `reports`       the main collection: each generated version of the Memoria or base document
  `report_files`  file contents by SHA-256
  `conclusions`, `action_items`, `budget_lines`
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.persistence.aggregates import AggregateStore, StoreRegistry

PROJECTIONS = ("participants", "entities", "event_ledger")
INTERNAL = {"processed": 0, "outbox": 0, "outbox_pending": 0, "version": 0}


def public_list(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
            r["family_name"].casefold(),
            (r.get("given_name") or "").casefold(),
            r["_id"],
        ),
    )


class ReportingRepository:
    def __init__(self, database: AsyncDatabase, *, stores: StoreRegistry | None = None) -> None:
        # Each store registers itself: the runtime's relay sweeps every one of them.
        self.stores = stores if stores is not None else StoreRegistry()
        self.database = database
        self.participants = AggregateStore(database["participants"], stores=self.stores)
        self.entities = AggregateStore(database["entities"], stores=self.stores)
        self.ledger = database["event_ledger"]
        self.reports = AggregateStore(database["reports"], stores=self.stores)
        self.files = database["report_files"]
        self.conclusions = AggregateStore(database["conclusions"], stores=self.stores)
        self.action_items = AggregateStore(database["action_items"], stores=self.stores)
        self.budget = AggregateStore(database["budget_lines"], stores=self.stores)

    def projection(self, name: str) -> AggregateStore:
        return {"participants": self.participants, "entities": self.entities}[name]

    async def ensure_indexes(self) -> None:
        stores = (self.participants, self.entities, self.reports, self.conclusions)
        for store in (*stores, self.action_items, self.budget):
            await store.ensure_indexes()  # after a rebuild's drop too: the relay sweeps them all
        await self.participants.collection.create_index(
            [("forum_id", ASCENDING), ("status", ASCENDING)]
        )
        await self.entities.collection.create_index([("forum_id", ASCENDING), ("kind", ASCENDING)])
        await self.ledger.create_index([("type", ASCENDING)])
        await self.conclusions.collection.create_index(
            [("forum_id", ASCENDING), ("session_code", ASCENDING)]
        )
        await self.action_items.collection.create_index(
            [("status", ASCENDING), ("deadline", ASCENDING)]
        )
        await self.reports.collection.create_index(
            [("forum_id", ASCENDING), ("generated_at", DESCENDING)]
        )

    async def drop_projections(self) -> None:
        for name in PROJECTIONS:
            await self.database.drop_collection(name)

    # -- the event ledger --

    async def record_event(
        self, event_id: str, event_type: str, occurred_at: datetime, forum_id: str | None
    ) -> bool:
        """True the first time an event id is recorded; the unique `_id` makes duplicates no-ops."""
        try:
            await self.ledger.insert_one(
                {
                    "_id": event_id,
                    "type": event_type,
                    "occurred_at": occurred_at,
                    "forum_id": forum_id,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def has_events(self) -> bool:
        return await self.ledger.count_documents({}, limit=1) > 0

    async def event_counts(self) -> dict[str, int]:
        pipeline = [{"$group": {"_id": "$type", "n": {"$sum": 1}}}]
        return {row["_id"]: row["n"] async for row in await self.ledger.aggregate(pipeline)}

    # -- projections, read whole for statistics (no names: `public_participants` has those) --

    async def participant_states(self, forum_id: str) -> list[dict[str, Any]]:
        """Whole documents: a projection costs SecantusDB twice the read (names exist only for
        people who agreed to be listed; statistics never output them)."""
        return await self.participants.collection.find({"forum_id": forum_id}).to_list()

    async def entity_states(self, forum_id: str) -> list[dict[str, Any]]:
        return await self.entities.collection.find({"forum_id": forum_id}).to_list()

    async def public_participants(self, forum_id: str) -> list[dict[str, Any]]:
        """Confirmed people who agreed to be listed, not erased, by family name."""
        query = {
            "forum_id": forum_id,
            "status": "confirmed",
            "listed_publicly": True,
            "erased": {"$ne": True},
            "family_name": {"$ne": None},
        }
        fields = {
            "given_name": 1,
            "family_name": 1,
            "organisation": 1,
            "country": 1,
            "category": 1,
            "status": 1,
            "listed_publicly": 1,
            "erased": 1,
        }
        return public_list(await self.participants.collection.find(query, fields).to_list())

    # -- reporting's own records --

    async def list_conclusions(
        self, forum_id: str, status: str | None = None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"forum_id": forum_id}
        if status:
            query["status"] = status
        rows = await self.conclusions.collection.find(query, INTERNAL).to_list()
        return sorted(
            rows, key=lambda r: (r["session_code"], r.get("created_at") or datetime.min, r["_id"])
        )

    async def get_conclusion(self, conclusion_id: str) -> dict[str, Any] | None:
        return await self.conclusions.collection.find_one({"_id": conclusion_id}, INTERNAL)

    async def list_action_items(self, forum_id: str) -> list[dict[str, Any]]:
        rows = await self.action_items.collection.find({"forum_id": forum_id}, INTERNAL).to_list()
        return sorted(rows, key=lambda r: (r["deadline"], r["_id"]))

    async def get_action_item(self, item_id: str) -> dict[str, Any] | None:
        return await self.action_items.collection.find_one({"_id": item_id}, INTERNAL)

    async def open_action_item_ids(self, forum_id: str, before: str) -> list[str]:
        """Open items with a deadline before `before` (ISO date), or still flagged overdue."""
        query = {
            "forum_id": forum_id,
            "$or": [
                {"status": {"$in": ["planned", "in_progress"]}, "deadline": {"$lt": before}},
                {"overdue": True},
            ],
        }
        return [row["_id"] async for row in self.action_items.collection.find(query, {"_id": 1})]

    async def budget_lines(self, forum_id: str) -> list[dict[str, Any]]:
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

    async def file(self, sha256: str) -> dict[str, Any] | None:
        return await self.files.find_one({"_id": sha256})

    async def get_report(self, report_id: str) -> dict[str, Any] | None:
        return await self.reports.collection.find_one({"_id": report_id}, INTERNAL)

    async def has_final(self, forum_id: str, kind: str, language: str) -> bool:
        query = {"forum_id": forum_id, "kind": kind, "language": language, "final": True}
        return await self.reports.collection.count_documents(query, limit=1) > 0

    async def list_reports(self, forum_id: str) -> list[dict[str, Any]]:
        rows = await self.reports.collection.find({"forum_id": forum_id}, INTERNAL).to_list()
        return sorted(rows, key=lambda r: r["generated_at"], reverse=True)

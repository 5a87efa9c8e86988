"""The only code that touches scheduling's database.

- `sessions` (main): one document per agenda item of the draft — people, seats and outbox;
- `releases`: immutable published versions with their changelog (and the announcements' outbox);
- `participants`: projection of registration's events (who may sign up, how to reach them);
- `attendance`: one document per participant listing the session times they hold;
- `ledgers`: budget-line ledgers (panelist travel support), with their outbox.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.persistence.aggregates import AggregateStore, StoreRegistry

INTERNAL_FIELDS = {"processed": 0, "outbox": 0, "outbox_pending": 0}


class ScheduleRepository:
    def __init__(self, database: AsyncDatabase, *, stores: StoreRegistry | None = None) -> None:
        # Each store registers itself: the runtime's relay sweeps every one of them.
        self.stores = stores if stores is not None else StoreRegistry()
        self.database = database
        self.sessions = AggregateStore(database["sessions"], stores=self.stores)
        self.releases = AggregateStore(database["releases"], stores=self.stores)
        self.participants = AggregateStore(database["participants"], stores=self.stores)
        self.attendance = AggregateStore(database["attendance"], stores=self.stores)
        self.ledgers = AggregateStore(database["ledgers"], stores=self.stores)

    async def ensure_indexes(self) -> None:
        for store in (self.sessions, self.releases, self.ledgers):
            await store.ensure_indexes()
        sessions = self.sessions.collection
        await sessions.create_index([("forum_id", ASCENDING), ("starts_at", ASCENDING)])
        await sessions.create_index("people.participant_id", sparse=True)
        await sessions.create_index("people.email", sparse=True)
        await sessions.create_index("confirmed")
        await sessions.create_index("waitlist")
        await self.releases.collection.create_index(
            [("forum_id", ASCENDING), ("number", DESCENDING)]
        )

    async def insert_if_absent(self, doc_id: str, document: dict[str, Any]) -> bool:
        try:
            await self.sessions.collection.insert_one(
                {**document, "_id": doc_id, "version": 1, "processed": [], "outbox": []}
            )
        except DuplicateKeyError:
            return False
        return True

    async def session(self, doc_id: str) -> dict[str, Any] | None:
        return await self.sessions.collection.find_one({"_id": doc_id}, INTERNAL_FIELDS)

    async def draft(self, forum_id: str) -> list[dict[str, Any]]:
        cursor = self.sessions.collection.find(
            {"forum_id": forum_id},
            INTERNAL_FIELDS,
            sort=[("starts_at", ASCENDING), ("code", ASCENDING)],
        )
        return await cursor.to_list()

    async def sessions_with(self, query: dict[str, Any]) -> list[str]:
        return [d["_id"] async for d in self.sessions.collection.find(query, {"_id": 1})]

    async def latest_release(self, forum_id: str) -> dict[str, Any] | None:
        return await self.releases.collection.find_one(
            {"forum_id": forum_id}, INTERNAL_FIELDS, sort=[("number", DESCENDING)]
        )

    async def release(self, forum_id: str, number: int) -> dict[str, Any] | None:
        return await self.releases.collection.find_one(
            {"forum_id": forum_id, "number": number}, INTERNAL_FIELDS
        )

    async def release_list(self, forum_id: str) -> list[dict[str, Any]]:
        cursor = self.releases.collection.find(
            {"forum_id": forum_id},
            {"sessions": 0, **INTERNAL_FIELDS},
            sort=[("number", DESCENDING)],
        )
        return await cursor.to_list()

    async def releases_naming(self, participant_id: str) -> list[str]:
        cursor = self.releases.collection.find(
            {"sessions.people.participant_id": participant_id}, {"_id": 1}
        )
        return [d["_id"] async for d in cursor]

    async def participant(self, participant_id: str) -> dict[str, Any] | None:
        return await self.participants.collection.find_one({"_id": participant_id}, INTERNAL_FIELDS)

    async def participants_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        cursor = self.participants.collection.find({"_id": {"$in": ids}}, INTERNAL_FIELDS)
        return {d["_id"]: d async for d in cursor}

    async def holds_of(self, attendance_id: str) -> dict[str, Any] | None:
        return await self.attendance.collection.find_one({"_id": attendance_id})

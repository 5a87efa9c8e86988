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

from services.scheduling.documents import code_of
from shared.persistence.aggregates import AggregateStore, StoreRegistry

INTERNAL_FIELDS = {"processed": 0, "outbox": 0, "outbox_pending": 0}


def of_forum(forum_id: str, session_ids: list[str]) -> list[str]:
    """The ids of the forum's sessions among `session_ids` (`<forum_id>:<code>`): a filter on
    `forum_id` beside an indexed field is a collection scan on SecantusDB, so it is done here."""
    return [i for i in session_ids if i.startswith(f"{forum_id}:")]


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
        await self.releases.collection.create_index("sessions.people.participant_id", sparse=True)

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

    async def _session_ids(self, *queries: dict[str, Any]) -> list[str]:
        """Ids of the sessions any of `queries` finds, each query on its own index (an `$or`
        is a collection scan on SecantusDB), in the order found."""
        found: dict[str, None] = {}
        for query in queries:
            async for document in self.sessions.collection.find(query, {"_id": 1}):
                found[document["_id"]] = None
        return list(found)

    async def sessions_naming_email(self, email: str) -> list[str]:
        """Sessions whose people include this e-mail (to link them to a registration)."""
        return await self._session_ids({"people.email": email})

    async def sessions_naming(self, participant_id: str, email: str | None) -> list[str]:
        """Sessions naming the participant among their people: linked, or by an e-mail not yet
        linked."""
        queries: list[dict[str, Any]] = [{"people.participant_id": participant_id}]
        if email:
            queries.append({"people.email": email})
        return await self._session_ids(*queries)

    async def sessions_listing(self, forum_id: str, participant_id: str) -> list[str]:
        """Sessions where the participant holds a seat or waits for one."""
        found = await self._session_ids({"confirmed": participant_id}, {"waitlist": participant_id})
        return of_forum(forum_id, found)

    async def seated_codes(self, forum_id: str, subject: str) -> set[str]:
        """Codes of the draft sessions `subject` is on (a person id or a participant id among
        their people) or holds a seat in: a personal feed's sessions."""
        seated = await self._session_ids({"confirmed": subject})
        codes = {code_of(i) for i in of_forum(forum_id, seated)}
        cursor = self.sessions.collection.find(
            {"forum_id": forum_id}, {"code": 1, "people.person_id": 1, "people.participant_id": 1}
        )
        async for document in cursor:
            if any(
                subject in (p.get("person_id"), p.get("participant_id"))
                for p in document.get("people", ())
            ):
                codes.add(document["code"])
        return codes

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

    async def participant_id_by_email(self, forum_id: str, email: str) -> str | None:
        """The registered (not erased) participant with this e-mail, to link a person to.
        A secretariat path: `participants` keeps no e-mail index (it would cost every projected
        sign-up), so this reads the forum's participants."""
        found = await self.participants.collection.find_one(
            {"forum_id": forum_id, "email": email, "erased": {"$ne": True}}, {"_id": 1}
        )
        return found["_id"] if found else None

    async def participants_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        cursor = self.participants.collection.find({"_id": {"$in": ids}}, INTERNAL_FIELDS)
        return {d["_id"]: d async for d in cursor}

    async def holds_of(self, attendance_id: str) -> dict[str, Any] | None:
        return await self.attendance.collection.find_one({"_id": attendance_id})

"""The only code that touches registration's database.

`participants` is the main collection (one document per person and forum, with its outbox; a
cancellation that overtook its sign-up waits on the document the sign-up will create, see
`intake.rules.is_parked`); `seat_ledgers` holds one document per capacity-limited category: how many
hold a seat and how many wait (`seats/ledgers.py`; who they are is on their participant
documents, see `seats.rules`); `delegations` one per delegation.

Every index here serves a query of this module or the outbox relay's sweep
(tests/integration/registration/test_query_plans.py proves each is used): an index costs every
insert and update that touches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.registration.documents import SeatLedger
from services.registration.seats.ledgers import SeatLedgers
from shared.persistence.aggregates import AggregateStore, StoreRegistry
from shared.persistence.mongo import drop_indexes, ensure_index

# Indexes earlier releases made that no query uses any more: dropped from a kept database.
# (forum_id, status, category) became (forum_id, status, category, seat_ticket): same prefix.
RETIRED_INDEXES = ("created_at_-1", "forum_id_1_status_1_category_1")

INTERNAL_FIELDS = {"processed": 0, "outbox": 0, "outbox_pending": 0, "version": 0}
# What seat bookkeeping reads of a participant.
# What a focal point reads of their delegation's members (`GET /delegations/{code}/members`):
# no contact details, consents or answers.
MEMBER_FIELDS = {
    field: 1
    for field in (
        "status",
        "category",
        "given_name",
        "family_name",
        "job_title",
        "rejection_reasons",
        "badge.issued_at",
        "checkins.day",
        "erased",
    )
}
SEAT_FIELDS = {
    field: 1
    for field in (
        "forum_id",
        "status",
        "category",
        "seat_ticket",
        "seat_releases",
        "voided_seats",
        "updated_at",
        "version",
    )
}


@dataclass(frozen=True)
class ParticipantFilter:
    forum_id: str | None = None
    category: str | None = None
    status: str | None = None
    country: str | None = None
    language: str | None = None
    search: str | None = None


class ParticipantRepository:
    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], *, stores: StoreRegistry | None = None
    ) -> None:
        # Each store registers itself: the runtime's relay sweeps every one of them.
        self.stores = stores if stores is not None else StoreRegistry()
        self.collection = database["participants"]
        self.participants = AggregateStore(self.collection, stores=self.stores)
        self.ledgers = AggregateStore(database["seat_ledgers"], stores=self.stores)
        self.seats = SeatLedgers(self.ledgers)
        # One document per delegation: its members are the quota ledger (see domain_delegations).
        self.delegations = AggregateStore(database["delegations"], stores=self.stores)

    async def ensure_indexes(self) -> None:
        await self.participants.ensure_indexes()
        await self.ledgers.ensure_indexes()
        # Unique keys of a person: a sign-up's insert fails on either when the person is known
        # (`handlers._admit_new`). Sparse, so a document holding only a parked cancellation
        # (neither field) is not a key.
        for field in ("email", "submission_ids"):
            await ensure_index(
                self.collection,
                [("forum_id", ASCENDING), (field, ASCENDING)],
                unique=True,
                sparse=True,
            )
        await drop_indexes(self.collection, RETIRED_INDEXES)
        # By status and category (counts, badge sheets, the list's filters); waiters in ticket
        # order: the first waiting of a category is the first key of its range.
        await self.collection.create_index(
            [
                ("forum_id", ASCENDING),
                ("status", ASCENDING),
                ("category", ASCENDING),
                ("seat_ticket", ASCENDING),
            ]
        )
        # The secretariat's list: one forum, newest first, a page at a time.
        await self.collection.create_index([("forum_id", ASCENDING), ("created_at", DESCENDING)])
        await self.delegations.ensure_indexes()
        await self.collection.create_index("badge.token_id", sparse=True)
        await self.collection.create_index("revoked_tokens", sparse=True)
        # Places left whose ledger is not updated yet: only documents with one are in it.
        await self.collection.create_index("seat_releases.category", sparse=True)
        await self.seats.migrate(self.collection)

    async def take_seat(
        self,
        ledger_id: str,
        participant_id: str,
        capacity: int,
        now: datetime,
        *,
        known_ok: bool = False,
    ) -> SeatLedger:
        """Give the participant a seat or a waitlist place in ONE atomic update; the ledger
        after it, whose `take_of(participant_id)` is the answer (see `SeatLedgers.take`)."""
        return await self.seats.take(ledger_id, participant_id, capacity, now, known_ok=known_ok)

    async def first_waiting(
        self, forum_id: str, category: str, *, start: int, skip: list[str], window: int
    ) -> list[dict[str, Any]]:
        """The waiting of a category with tickets in [start, start + window), in ticket order,
        leaving out `skip` (those a promotion is already under way for).

        A bounded range of the index: SecantusDB reads every document of an unbounded range
        before it sorts or limits (130 ms for 5,000 waiting), and scans the collection for an
        `_id: {$nin: ...}`, so those are dropped here."""
        query = {
            "forum_id": forum_id,
            "status": "waitlisted",
            "category": category,
            "seat_ticket": {"$gte": start, "$lt": start + window},
        }
        cursor = self.collection.find(query, SEAT_FIELDS, sort=[("seat_ticket", ASCENDING)])
        return [document for document in await cursor.to_list() if document["_id"] not in skip]

    async def seat_documents(self, participant_ids: list[str]) -> dict[str, dict[str, Any]]:
        """What the participants say about their places, by id (absent: no document)."""
        cursor = self.collection.find({"_id": {"$in": participant_ids}}, SEAT_FIELDS)
        return {document["_id"]: document async for document in cursor}

    async def pending_releases(self, category: str) -> list[dict[str, Any]]:
        """Participants with a place in `category` left and not yet counted out."""
        cursor = self.collection.find({"seat_releases.category": category}, SEAT_FIELDS)
        return await cursor.to_list()

    async def count_places(self, forum_id: str, category: str) -> tuple[int, int]:
        """Participants holding a seat, and waiting, in a category: two counts of index ranges."""
        counts = []
        for status in ("confirmed", "waitlisted"):
            query = {"forum_id": forum_id, "status": status, "category": category}
            counts.append(await self.collection.count_documents(query))
        return counts[0], counts[1]

    async def find_for_submission(
        self, forum_id: str, submission_id: str, email: str
    ) -> dict[str, Any] | None:
        """The participant a submission names: the one holding its submission id, else the one with its e-mail.

        Two indexed equality reads, the second only for a submission not seen before: an `$or`
        of the two is answered with a collection scan on SecantusDB. Not a read by the derived
        `_id`: a participant keeps its id when its e-mail changes, so the id proves nothing.
        """
        by_submission = await self.collection.find_one(
            {"forum_id": forum_id, "submission_ids": submission_id}
        )
        if by_submission is not None:
            return by_submission
        return await self.collection.find_one({"forum_id": forum_id, "email": email})

    async def find_id(
        self, forum_id: str, *, submission_id: str | None = None, email: str | None = None
    ) -> str | None:
        """The participant a submission or request names: by submission id first, then e-mail."""
        if submission_id is not None:
            found = await self.collection.find_one(
                {"forum_id": forum_id, "submission_ids": submission_id}, {"_id": 1}
            )
            if found:
                return str(found["_id"])
        if email is not None:
            found = await self.collection.find_one(
                {"forum_id": forum_id, "email": email}, {"_id": 1}
            )
            if found:
                return str(found["_id"])
        return None

    async def get(self, participant_id: str) -> dict[str, Any] | None:
        """The participant, or None (also for a document holding only a parked cancellation)."""
        found = await self.collection.find_one({"_id": participant_id}, INTERNAL_FIELDS)
        return None if found is None or "status" not in found else found

    async def page(
        self, where: ParticipantFilter, *, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        query: dict[str, Any] = {
            name: value
            for name, value in (
                ("forum_id", where.forum_id),
                ("category", where.category),
                ("status", where.status),
                ("country", where.country),
                ("language", where.language),
            )
            if value is not None
        }
        if where.search:
            # The text is escaped: it is matched literally, never interpreted as a pattern.
            pattern = re.compile(re.escape(where.search), re.IGNORECASE)
            query["$or"] = [
                {"family_name": pattern},
                {"given_name": pattern},
                {"email": pattern},
                {"organisation": pattern},
            ]
        total = await self.collection.count_documents(query)
        cursor = self.collection.find(
            query,
            INTERNAL_FIELDS,
            sort=[("created_at", DESCENDING), ("_id", ASCENDING)],
            skip=offset,
            limit=limit,
        )
        return total, await cursor.to_list()

    async def counts_by_category(self, forum_id: str) -> dict[str, dict[str, int]]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"forum_id": forum_id}},
            {"$group": {"_id": {"category": "$category", "status": "$status"}, "n": {"$sum": 1}}},
        ]
        counts: dict[str, dict[str, int]] = {}
        async for row in await self.collection.aggregate(pipeline):
            counts.setdefault(row["_id"]["category"], {})[row["_id"]["status"]] = row["n"]
        return counts

    async def find_by_badge_token(self, token_id: str) -> dict[str, Any] | None:
        """The participant whose current or revoked badge carries `token_id`.

        The current badge first (what a check-in shows), then the revoked ones: two indexed
        equality reads, where an `$or` would scan the collection on SecantusDB.
        """
        for field in ("badge.token_id", "revoked_tokens"):
            if (
                found := await self.collection.find_one({field: token_id}, INTERNAL_FIELDS)
            ) is not None:
                return found
        return None

    async def members(self, participant_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Delegation members as their focal point sees them, by id: one read for them all."""
        cursor = self.collection.find({"_id": {"$in": participant_ids}}, MEMBER_FIELDS)
        return {document["_id"]: document async for document in cursor}

    async def get_delegation(self, delegation_id: str) -> dict[str, Any] | None:
        return await self.delegations.collection.find_one({"_id": delegation_id}, INTERNAL_FIELDS)

    async def list_delegations(self, forum_id: str) -> list[dict[str, Any]]:
        cursor = self.delegations.collection.find(
            {"forum_id": forum_id}, INTERNAL_FIELDS, sort=[("code", ASCENDING)]
        )
        return await cursor.to_list()

    async def delegations_with_member_or_contact(
        self, participant_id: str, email: str | None
    ) -> list[str]:
        """Ids of delegations naming the participant as member or head, or their e-mail as focal point."""
        clauses: list[dict[str, Any]] = [
            {"members": participant_id},
            {"head_of_delegation_id": participant_id},
        ]
        if email:
            clauses.append({"focal_point.email": email})
        cursor = self.delegations.collection.find({"$or": clauses}, {"_id": 1})
        return [document["_id"] for document in await cursor.to_list()]

    async def badge_holders(
        self,
        forum_id: str,
        *,
        participant_ids: list[str] | None = None,
        category: str | None = None,
        delegation_members: list[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Confirmed participants for a badge sheet, in a stable order (family name, given name).

        Erased people are skipped here, not in the filter: SecantusDB answers `erased: {$ne: true}`
        with a collection scan.
        """
        query: dict[str, Any] = {"forum_id": forum_id, "status": "confirmed"}
        if category is not None:
            query["category"] = category
        ids = participant_ids if participant_ids is not None else delegation_members
        if ids is not None:
            query["_id"] = {"$in": ids}
        cursor = self.collection.find(
            query, INTERNAL_FIELDS, sort=[("family_name", ASCENDING), ("given_name", ASCENDING)]
        )
        holders: list[dict[str, Any]] = []
        async for document in cursor:
            if not document.get("erased"):
                holders.append(document)
                if len(holders) == limit:
                    break
        await cursor.close()
        return holders

"""The only code that touches registration's database.

`participants` is the main collection (one document per person and forum, with its outbox; a
cancellation that overtook its sign-up waits on the document the sign-up will create, see
`domain.is_parked`); `seat_ledgers` holds one document per capacity-limited category: who holds
a seat, who waits; `delegations` one per delegation.

Every index here serves a query of this module or the outbox relay's sweep
(tests/integration/registration/test_query_plans.py proves each is used): an index costs every
insert and update that touches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from shared.persistence.aggregates import AggregateStore, StoreRegistry
from shared.persistence.mongo import drop_indexes, ensure_index

# Indexes earlier releases made that no query uses any more: dropped from a kept database.
RETIRED_INDEXES = ("created_at_-1",)

INTERNAL_FIELDS = {"processed": 0, "outbox": 0, "outbox_pending": 0, "version": 0}


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
        await self.collection.create_index(
            [("forum_id", ASCENDING), ("status", ASCENDING), ("category", ASCENDING)]
        )
        # The secretariat's list: one forum, newest first, a page at a time.
        await self.collection.create_index([("forum_id", ASCENDING), ("created_at", DESCENDING)])
        await self.delegations.ensure_indexes()
        await drop_indexes(self.collection, RETIRED_INDEXES)
        await self.collection.create_index("badge.token_id", sparse=True)
        await self.collection.create_index("revoked_tokens", sparse=True)

    async def take_seat(self, ledger_id: str, participant_id: str, capacity: int) -> dict[str, Any]:
        """Give the participant a seat or a waitlist place in ONE atomic update; the ledger after it.

        Concurrent sign-ups of a category all write this one document: an update that decides on
        the server never conflicts, where read-decide-write under a `version` check retried
        several times per sign-up. Idempotent by membership: someone already holding a seat or
        a waitlist place changes nothing. A seat only when one is free and nobody waits (a freed
        seat goes to the waitlist first, see `domain.release`). `version` goes up on every call,
        so a concurrent `release` (read, decide, write on `version`) decides again.
        """
        confirmed = {"$ifNull": ["$confirmed", []]}
        waitlist = {"$ifNull": ["$waitlist", []]}
        holds_place = {
            "$or": [{"$in": [participant_id, confirmed]}, {"$in": [participant_id, waitlist]}]
        }
        no_free_seat = {
            "$or": [
                {"$gte": [{"$size": confirmed}, capacity]},
                {"$gt": [{"$size": waitlist}, 0]},
            ]
        }
        pipeline = [
            {
                "$set": {
                    "confirmed": {
                        "$cond": [
                            {"$or": [holds_place, no_free_seat]},
                            confirmed,
                            {"$concatArrays": [confirmed, [participant_id]]},
                        ]
                    },
                    "version": {"$add": [{"$ifNull": ["$version", 0]}, 1]},
                }
            },
            {
                "$set": {
                    "waitlist": {
                        "$cond": [
                            holds_place,
                            waitlist,
                            {"$concatArrays": [waitlist, [participant_id]]},
                        ]
                    }
                }
            },
        ]
        for _ in range(2):
            ledger = await self.ledgers.collection.find_one_and_update(
                {"_id": ledger_id}, pipeline, upsert=True, return_document=ReturnDocument.AFTER
            )
            if ledger is not None:
                return ledger
            # SecantusDB answers null to an upsert that lost the race to create the ledger,
            # though its update was applied: asking again changes nothing and returns it.
        raise RuntimeError(f"seat ledger {ledger_id}: no document returned by the upsert")

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

"""The only code that touches notification's database.

- `messages` (main collection): one document per (cause, person, channel), id derived from the
  three, holding the rendered content, status, attempts, provider ids and the outbox.
- `contacts`: the contact projection built from registration's participant snapshots, plus
  each person's preferences and whether triggers wait for them.
- `reminders`: one document per (reminder key, person) with its due time.
- `campaigns`: one document per campaign with its expansion cursor.
- `parked`: triggers that named a person before their contact arrived, one per (event, person),
  waiting for that contact (`waiting`), then `completed`.
- `webhook_endpoints`: the outbound webhook endpoints; their deliveries are `messages` of the
  `webhook` channel (with `endpoint_id`).

On SecantusDB a `findAndModify` of an existing document, a filter with `$or`, and a filter with
a field its index does not hold read the whole collection: every query here is an `_id` lookup or
matches an index's fields exactly (`tests/integration/notification/test_query_plans.py`), and the
few documents a sweep finds are then checked and written one by one, by `_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notification import domain
from shared.contracts.envelope import Event
from shared.persistence.aggregates import (
    UNREAD,
    AggregateStore,
    Applied,
    Decide,
    StoreRegistry,
    outbox_entry,
)

HIDDEN = {"outbox": 0, "outbox_pending": 0, "processed": 0, "version": 0}
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
"""The snapshot time of a contact no snapshot has written yet (preferences, a parked trigger):
any snapshot is newer."""


def segment_query(segment: Mapping[str, Any]) -> dict[str, Any]:
    """The contacts a campaign's segment reaches: with an e-mail address, every set filter
    matching (`campaigns.rules.in_segment` is the same rule for one contact)."""
    query: dict[str, Any] = {"email": {"$ne": None}}
    if segment.get("categories"):
        query["category"] = {"$in": list(segment["categories"])}
    if segment.get("countries"):
        query["country"] = {"$in": list(segment["countries"])}
    if segment.get("statuses"):
        query["status"] = {"$in": list(segment["statuses"])}
    if segment.get("languages"):
        languages = list(segment["languages"])
        query["$or"] = [
            {"preferences.language": {"$in": languages}},
            {"preferences.language": None, "language": {"$in": languages}},
        ]
    return query


@dataclass(frozen=True)
class MessageFilter:
    status: str | None = None
    person_id: str | None = None
    message_type: str | None = None
    channel: str | None = None
    campaign_id: str | None = None
    source_event_id: str | None = None


@dataclass(frozen=True)
class Projected:
    """A contact after a snapshot was projected: as stored, and whether the write created it."""

    contact: dict[str, Any]
    created: bool


class NotificationRepository:
    def __init__(self, database: AsyncDatabase, *, stores: StoreRegistry | None = None) -> None:
        # Each store registers itself: the runtime's relay sweeps every one of them.
        self.stores = stores if stores is not None else StoreRegistry()
        self.collection = database["messages"]
        self.messages = AggregateStore(self.collection, stores=self.stores)
        self.contacts = database["contacts"]
        # Registered for the relay only: a preference change writes its event into the contact's
        # outbox (`set_preferences`); snapshots and marks write the contact without one.
        self.contact_store = AggregateStore(self.contacts, stores=self.stores)
        self.reminders = database["reminders"]
        self.campaigns = database["campaigns"]
        self.parked = database["parked"]
        # Outbound webhook endpoints (services/notification/webhooks): their events (the audit
        # trail's) go out through their own outbox.
        self.endpoint_collection = database["webhook_endpoints"]
        self.endpoints = AggregateStore(self.endpoint_collection, stores=self.stores)

    async def ensure_indexes(self) -> None:
        await self.messages.ensure_indexes()
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.collection.create_index([("person_id", ASCENDING), ("created_at", DESCENDING)])
        await self.collection.create_index([("campaign_id", ASCENDING)], sparse=True)
        await self.collection.create_index([("source_event_id", ASCENDING)])
        # An endpoint's delivery log; sparse: people's messages have no endpoint and skip it.
        await self.collection.create_index(
            [("endpoint_id", ASCENDING), ("created_at", DESCENDING)], sparse=True
        )
        await self.endpoints.ensure_indexes()
        await self.endpoint_collection.create_index([("enabled", ASCENDING)])
        await self.contacts.create_index([("category", ASCENDING), ("country", ASCENDING)])
        await self.reminders.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self.reminders.create_index([("person_id", ASCENDING), ("key", ASCENDING)])
        await self.campaigns.create_index([("status", ASCENDING)])
        await self.parked.create_index([("person_id", ASCENDING), ("status", ASCENDING)])
        await self.parked.create_index([("status", ASCENDING), ("parked_at", ASCENDING)])

    # -- contacts --

    async def project_contact(
        self, person_id: str, fields: Mapping[str, Any], at: datetime
    ) -> Projected:
        """Keep the newest snapshot: an older event arriving late changes nothing. A person not
        known yet costs ONE command (the upsert creates them); a known one is read back after the
        write, for their preferences and parked triggers."""
        values = {**fields, "snapshot_at": at, "erased": False}
        for _ in range(2):
            try:
                written = await self.contacts.update_one(
                    {"_id": person_id, "snapshot_at": {"$lte": at}},
                    {"$set": values},
                    upsert=True,
                )
            except DuplicateKeyError:
                continue  # a newer snapshot, or a document created meanwhile: look again
            if written.upserted_id is not None:
                return Projected({"_id": person_id, **values}, created=True)
            break
        stored = await self.contact(person_id)
        if stored is not None and stored.get("snapshot_at") is None:
            # Written before snapshots were timed: this one is newer.
            await self.contacts.update_one(
                {"_id": person_id, "snapshot_at": None}, {"$set": values}
            )
            stored = await self.contact(person_id)
        return Projected(stored or {"_id": person_id, **values}, created=False)

    async def flag_parked(self, person_id: str) -> dict[str, Any] | None:
        """Mark that triggers wait for the person (creating a contact without an address if none
        exists); returns the contact as it is after the mark."""
        try:
            await self.contacts.update_one(
                {"_id": person_id},
                {"$set": {"parked_triggers": True}, "$setOnInsert": {"snapshot_at": NEVER}},
                upsert=True,
            )
        except DuplicateKeyError:
            await self.contacts.update_one({"_id": person_id}, {"$set": {"parked_triggers": True}})
        return await self.contact(person_id)

    async def clear_parked_flag(self, person_id: str) -> None:
        await self.contacts.update_one({"_id": person_id}, {"$set": {"parked_triggers": False}})

    async def erase_person(self, person_id: str, at: datetime) -> None:
        """Right to erasure: keep anonymous facts, drop every copy of personal data, send nothing."""
        personal = {
            name: "" for name in ("given_name", "family_name", "email", "phone", "organisation")
        }
        await self.contacts.update_one(
            {"_id": person_id},
            {
                "$set": {"erased": True, "snapshot_at": at, "parked_triggers": False},
                "$unset": personal,
            },
            upsert=True,
        )
        unsent = {"$in": ["$status", [*domain.DELIVERABLE, domain.SENDING]]}
        await self.collection.update_many(
            {"person_id": person_id},
            [
                {
                    "$set": {
                        "status": {"$cond": [unsent, domain.SUPPRESSED, "$status"]},
                        "suppressed_reason": {"$cond": [unsent, "erased", "$suppressed_reason"]},
                        "to": None,
                        "content": {"$literal": {}},
                        "erased": True,
                        "version": {"$add": [{"$ifNull": ["$version", 0]}, 1]},
                    }
                }
            ],
        )
        pending = {"$eq": ["$status", "pending"]}
        await self.reminders.update_many(
            {"person_id": person_id},
            [
                {
                    "$set": {
                        "status": {"$cond": [pending, "cancelled", "$status"]},
                        "event": {"$literal": {}},
                    }
                }
            ],
        )
        await self.parked.delete_many({"person_id": person_id})  # they hold the events' bodies

    async def contact(self, person_id: str) -> dict[str, Any] | None:
        return await self.contacts.find_one({"_id": person_id})

    async def set_preferences(
        self, person_id: str, preferences: Mapping[str, Any], announced: Event
    ) -> dict[str, Any]:
        """Set the preferences and put `announced` in the contact's outbox, in one write."""
        entries = [outbox_entry(announced)]
        try:
            await self.contacts.update_one(
                {"_id": person_id},
                {
                    "$set": {
                        **{f"preferences.{name}": value for name, value in preferences.items()},
                        "outbox_pending": True,
                    },
                    "$push": {"outbox": {"$each": entries}},
                    "$setOnInsert": {"snapshot_at": NEVER},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # created meanwhile
            return await self.set_preferences(person_id, preferences, announced)
        self.stores.notify(self.contacts.name, person_id, entries)
        return await self.contacts.find_one({"_id": person_id}, HIDDEN) or {"_id": person_id}

    async def segment(
        self, segment: Mapping[str, Any], after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Contacts in a campaign's segment, in id order from `after` (the campaign's cursor)."""
        query = segment_query(segment)
        if after is not None:
            query["_id"] = {"$gt": after}
        return await self.contacts.find(query, sort=[("_id", ASCENDING)], limit=limit).to_list()

    async def segment_size(self, segment: Mapping[str, Any]) -> tuple[int, int]:
        """How many contacts a campaign to `segment` would reach now, and how many of them opted
        out of non-essential messages (the count the secretariat sees before sending). A rare,
        deliberate read: counted, not listed."""
        query = segment_query(segment)
        total = await self.contacts.count_documents(query)
        opted_out = await self.contacts.count_documents(
            {**query, "preferences.opt_out_non_essential": True}
        )
        return total, opted_out

    # -- messages --

    async def get(self, message_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": message_id})

    async def view(self, message_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": message_id}, HIDDEN)

    async def renew_lease(self, message_id: str, claimed_at: datetime, until: datetime) -> bool:
        """Keep holding a message while it is being sent; False when the claim is no longer ours."""
        result = await self.collection.update_one(
            {"_id": message_id, "status": domain.SENDING, "claimed_at": claimed_at},
            {
                "$set": {"lease_until": until, "next_attempt_at": until, "lapse_noticed_at": None},
                "$inc": {"version": 1},
            },
        )
        return result.matched_count > 0

    async def record_result(
        self, message_id: str, decide: Decide, current: dict[str, Any] | None = None
    ) -> Applied:
        """An attempt's result, with its outbox event, in one write (`current`: the message as
        the worker last saw it, saving a read; None: read it)."""
        return await self.messages.apply(
            message_id, None, decide, current=UNREAD if current is None else current
        )

    async def lapsed(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Messages being sent whose lease has lapsed (normally none): a sending message's
        `next_attempt_at` is its lease's end (and None for one claimed before it was)."""
        found: list[dict[str, Any]] = []
        for due in ({"$lt": now}, None):
            found += await self.collection.find(
                {"status": domain.SENDING, "next_attempt_at": due}, limit=limit
            ).to_list()
        return [m for m in found if m.get("lease_until") and m["lease_until"] < now][:limit]

    async def notice_lapse(self, message_id: str, now: datetime) -> bool:
        """First sight of a lapsed lease: noted, not acted on. A worker that merely lost the
        database for a while renews (or records its result) before the next sweep looks again."""
        result = await self.collection.update_one(
            {"_id": message_id, "status": domain.SENDING, "lapse_noticed_at": None},
            {"$set": {"lapse_noticed_at": now}},
        )
        return result.modified_count > 0

    async def stale(self, before: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Deliverable messages due before `before` and not attempted: their queue message was
        lost (one index range per status)."""
        found: list[dict[str, Any]] = []
        for status in domain.DELIVERABLE:
            found += await self.collection.find(
                {"status": status, "next_attempt_at": {"$lt": before}}, limit=limit
            ).to_list()
        return found[:limit]

    async def page(
        self, where: MessageFilter, *, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        query = {
            name: value
            for name, value in (
                ("status", where.status),
                ("person_id", where.person_id),
                ("message_type", where.message_type),
                ("channel", where.channel),
                ("campaign_id", where.campaign_id),
                ("source_event_id", where.source_event_id),
            )
            if value is not None
        }
        total = await self.collection.count_documents(query)
        cursor = self.collection.find(
            query,
            {**HIDDEN, "content": 0},
            sort=[("created_at", DESCENDING), ("_id", ASCENDING)],
            skip=offset,
            limit=limit,
        )
        return total, await cursor.to_list()

    async def counts(self, query: Mapping[str, Any] | None = None) -> dict[str, int]:
        pipeline = [{"$match": dict(query or {})}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        return {row["_id"]: row["n"] async for row in await self.collection.aggregate(pipeline)}

    # -- triggers waiting for a contact --

    async def park(self, parked_id: str, fields: Mapping[str, Any]) -> bool:
        """Keep a trigger until the person's contact arrives; False when it was parked already."""
        result = await self.parked.update_one(
            {"_id": parked_id}, {"$setOnInsert": {**fields, "status": "waiting"}}, upsert=True
        )
        return result.upserted_id is not None

    async def parked_for(self, person_id: str) -> list[dict[str, Any]]:
        return await self.parked.find(
            {"person_id": person_id, "status": "waiting"}, sort=[("parked_at", ASCENDING)]
        ).to_list()

    async def parked_one(self, parked_id: str) -> dict[str, Any] | None:
        return await self.parked.find_one({"_id": parked_id, "status": "waiting"})

    async def finish_parked(self, parked_id: str, outcome: str, now: datetime) -> bool:
        """Completed: the event's body is no longer needed (it may hold personal data)."""
        result = await self.parked.update_one(
            {"_id": parked_id, "status": "waiting"},
            {"$set": {"status": "completed", "outcome": outcome, "completed_at": now, "event": {}}},
        )
        return result.modified_count > 0

    async def waiting_count(self) -> int:
        return await self.parked.count_documents({"status": "waiting"})

    async def waiting_people(self, limit: int = 10_000) -> list[str]:
        """Everyone a trigger waits for."""
        found = self.parked.find({"status": "waiting"}, {"person_id": 1}, limit=limit)
        return sorted({row["person_id"] async for row in found})

    async def list_parked(
        self, person_id: str | None, *, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        query: dict[str, Any] = {"status": "waiting"}
        if person_id is not None:
            query["person_id"] = person_id
        total = await self.parked.count_documents(query)
        cursor = self.parked.find(
            query,
            {"event": 0},
            sort=[("parked_at", ASCENDING), ("_id", ASCENDING)],
            skip=offset,
            limit=limit,
        )
        return total, await cursor.to_list()

    # -- reminders --

    async def schedule_reminder(
        self, reminder_id: str, fields: Mapping[str, Any], scheduled_by: str, event_at: datetime
    ) -> None:
        """(Re)schedule: a new cause event resets the reminder to pending at its new due time;
        the same event again, an older one arriving late, or a reminder being sent, changes
        nothing."""
        try:
            await self.reminders.update_one(
                {
                    "_id": reminder_id,
                    "scheduled_by": {"$ne": scheduled_by},
                    "status": {"$ne": "sending"},
                    "event_at": {"$lte": event_at},
                },
                {
                    "$set": {
                        **fields,
                        "status": "pending",
                        "scheduled_by": scheduled_by,
                        "event_at": event_at,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # exists and is already current (or being sent)

    async def cancel_reminder(self, reminder_id: str, event_at: datetime) -> bool:
        result = await self.reminders.update_one(
            {"_id": reminder_id, "status": "pending", "event_at": {"$lte": event_at}},
            {"$set": {"status": "cancelled", "event_at": event_at}},
        )
        return result.modified_count > 0

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return await self.reminders.find(
            {"status": "pending", "due_at": {"$lte": now}},
            sort=[("due_at", ASCENDING)],
            limit=limit,
        ).to_list()

    async def claim_reminder(self, reminder_id: str, now: datetime) -> bool:
        """Take a due reminder to fire it; False when another pass (or replica) took it."""
        result = await self.reminders.update_one(
            {"_id": reminder_id, "status": "pending"},
            {"$set": {"status": "sending", "claimed_at": now}},
        )
        return result.modified_count > 0

    async def finish_reminder(self, reminder_id: str, now: datetime) -> None:
        await self.reminders.update_one(
            {"_id": reminder_id, "status": "sending"}, {"$set": {"status": "sent", "sent_at": now}}
        )

    async def recover_reminders(self, claimed_before: datetime) -> int:
        """Claims a crash left behind go back to pending; their messages have derived ids, so a
        second pass creates none twice."""
        recovered = 0
        async for stale in self.reminders.find({"status": "sending"}, {"claimed_at": 1}):
            if stale.get("claimed_at") is None or stale["claimed_at"] < claimed_before:
                result = await self.reminders.update_one(
                    {"_id": stale["_id"], "status": "sending"}, {"$set": {"status": "pending"}}
                )
                recovered += result.modified_count
        return recovered

    async def reminder(self, reminder_id: str) -> dict[str, Any] | None:
        return await self.reminders.find_one({"_id": reminder_id})

    # -- campaigns --

    async def create_campaign(self, document: Mapping[str, Any]) -> bool:
        try:
            await self.campaigns.insert_one(dict(document))
        except DuplicateKeyError:
            return False
        return True

    async def active_campaigns(self) -> list[dict[str, Any]]:
        return await self.campaigns.find(
            {"status": "sending"}, sort=[("created_at", ASCENDING)]
        ).to_list()

    async def advance_campaign(
        self,
        campaign_id: str,
        cursor: str | None,
        counts: Mapping[str, int],
        done: bool,
        now: datetime,
    ) -> None:
        update: dict[str, Any] = {
            "$set": {"cursor": cursor, "updated_at": now},
            "$inc": {f"counts.{k}": v for k, v in counts.items() if v},
        }
        if done:
            update["$set"] |= {"status": "expanded", "expanded_at": now}
        if not update["$inc"]:
            del update["$inc"]
        await self.campaigns.update_one({"_id": campaign_id}, update)

    async def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        return await self.campaigns.find_one({"_id": campaign_id})

"""Notification's repository and providers in memory, the cosmicpython way: the use cases run
unchanged against them, so a unit test exercises a handler without a broker, a database or a
mail server. The integration tests keep proving the real adapters (and the queries)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.notification import domain
from services.notification.providers import Outgoing, ProviderError
from shared.persistence.aggregates import Applied
from tests.support.fakes import FakeStore

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class FakeProvider:
    """A provider that records what it sends; `fail` makes the next sends fail (transiently
    unless `permanent`)."""

    def __init__(self, name: str, *, limiter: Any = None) -> None:
        self.name = name
        self.limiter = limiter
        self.sent: list[Outgoing] = []
        self.fail = 0
        self.permanent = False

    async def send(self, message: Outgoing) -> str:
        if self.fail:
            self.fail -= 1
            raise ProviderError("SMTP 451", permanent=self.permanent)
        self.sent.append(message)
        return domain.smtp_message_id(message.message_id)

    async def close(self) -> None:
        return None


class FakeNotificationRepository:
    """The notification repository's interface over dicts."""

    def __init__(self) -> None:
        self.messages = FakeStore("messages")
        self.contacts: dict[str, dict[str, Any]] = {}
        self.reminders: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.parked: dict[str, dict[str, Any]] = {}
        self.contact_writes = 0

    # -- contacts --

    async def project_contact(self, person_id: str, fields: Mapping[str, Any], at: datetime) -> Any:
        from services.notification.repository import Projected

        self.contact_writes += 1
        values = {**fields, "snapshot_at": at, "erased": False}
        stored = self.contacts.get(person_id)
        if stored is None:
            self.contacts[person_id] = {"_id": person_id, **values}
            return Projected(copy.deepcopy(self.contacts[person_id]), created=True)
        if (stored.get("snapshot_at") or NEVER) <= at:
            stored.update(copy.deepcopy(values))
        return Projected(copy.deepcopy(stored), created=False)

    async def flag_parked(self, person_id: str) -> dict[str, Any] | None:
        stored = self.contacts.setdefault(person_id, {"_id": person_id, "snapshot_at": NEVER})
        stored["parked_triggers"] = True
        return copy.deepcopy(stored)

    async def clear_parked_flag(self, person_id: str) -> None:
        if person_id in self.contacts:
            self.contacts[person_id]["parked_triggers"] = False

    async def erase_person(self, person_id: str, at: datetime) -> None:
        stored = self.contacts.setdefault(person_id, {"_id": person_id})
        for name in ("given_name", "family_name", "email", "phone", "organisation"):
            stored.pop(name, None)
        stored.update({"erased": True, "snapshot_at": at, "parked_triggers": False})
        for message in self.messages.documents.values():
            if message["person_id"] == person_id:
                if message["status"] in (*domain.DELIVERABLE, domain.SENDING):
                    message.update({"status": domain.SUPPRESSED, "suppressed_reason": "erased"})
                message.update({"to": None, "content": {}, "erased": True})
        for reminder in self.reminders.values():
            if reminder["person_id"] == person_id and reminder["status"] == "pending":
                reminder.update({"status": "cancelled", "event": {}})
        for parked_id in [k for k, v in self.parked.items() if v["person_id"] == person_id]:
            del self.parked[parked_id]

    async def contact(self, person_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.contacts.get(person_id))

    async def set_preferences(
        self, person_id: str, preferences: Mapping[str, Any]
    ) -> dict[str, Any]:
        stored = self.contacts.setdefault(person_id, {"_id": person_id, "snapshot_at": NEVER})
        stored.setdefault("preferences", {}).update(preferences)
        return copy.deepcopy(stored)

    async def segment(
        self, segment: Mapping[str, Any], after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        from services.notification.campaigns.rules import in_segment
        from services.notification.documents import ContactDocument

        found = [
            copy.deepcopy(c)
            for _, c in sorted(self.contacts.items())
            if c.get("email")
            and (after is None or c["_id"] > after)
            and in_segment(ContactDocument.model_validate(c), segment)
        ]
        return found[:limit]

    # -- messages --

    async def get(self, message_id: str) -> dict[str, Any] | None:
        return await self.messages.get(message_id)

    async def renew_lease(self, message_id: str, claimed_at: datetime, until: datetime) -> bool:
        stored = self.messages.documents.get(message_id)
        if stored is None or stored["status"] != domain.SENDING:
            return False
        if stored.get("claimed_at") != claimed_at:
            return False
        stored.update({"lease_until": until, "next_attempt_at": until, "lapse_noticed_at": None})
        stored["version"] += 1
        return True

    async def record_result(
        self, message_id: str, decide: Any, current: dict[str, Any] | None = None
    ) -> Applied:
        return await self.messages.apply(message_id, None, decide)

    async def lapsed(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(m)
            for m in self.messages.documents.values()
            if m["status"] == domain.SENDING
            and m.get("lease_until") is not None
            and m["lease_until"] < now
        ][:limit]

    async def notice_lapse(self, message_id: str, now: datetime) -> bool:
        stored = self.messages.documents.get(message_id)
        if stored is None or stored["status"] != domain.SENDING or stored.get("lapse_noticed_at"):
            return False
        stored["lapse_noticed_at"] = now
        return True

    async def stale(self, before: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(m)
            for m in self.messages.documents.values()
            if m["status"] in domain.DELIVERABLE
            and m.get("next_attempt_at") is not None
            and m["next_attempt_at"] < before
        ][:limit]

    # -- parked triggers --

    async def park(self, parked_id: str, fields: Mapping[str, Any]) -> bool:
        if parked_id in self.parked:
            return False
        self.parked[parked_id] = {
            "_id": parked_id,
            **copy.deepcopy(dict(fields)),
            "status": "waiting",
        }
        return True

    async def parked_for(self, person_id: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(p)
            for p in self.parked.values()
            if p["person_id"] == person_id and p["status"] == "waiting"
        ]

    async def parked_one(self, parked_id: str) -> dict[str, Any] | None:
        found = self.parked.get(parked_id)
        return copy.deepcopy(found) if found and found["status"] == "waiting" else None

    async def finish_parked(self, parked_id: str, outcome: str, now: datetime) -> bool:
        found = self.parked.get(parked_id)
        if found is None or found["status"] != "waiting":
            return False
        found.update({"status": "completed", "outcome": outcome, "completed_at": now, "event": {}})
        return True

    async def waiting_count(self) -> int:
        return sum(1 for p in self.parked.values() if p["status"] == "waiting")

    async def waiting_people(self, limit: int = 10_000) -> list[str]:
        return sorted({p["person_id"] for p in self.parked.values() if p["status"] == "waiting"})

    # -- reminders --

    async def schedule_reminder(
        self, reminder_id: str, fields: Mapping[str, Any], scheduled_by: str, event_at: datetime
    ) -> None:
        stored = self.reminders.get(reminder_id)
        if stored is not None and (
            stored.get("scheduled_by") == scheduled_by
            or stored["status"] == "sending"
            or stored["event_at"] > event_at
        ):
            return
        self.reminders[reminder_id] = {
            "_id": reminder_id,
            **copy.deepcopy(dict(fields)),
            "status": "pending",
            "scheduled_by": scheduled_by,
            "event_at": event_at,
        }

    async def cancel_reminder(self, reminder_id: str, event_at: datetime) -> bool:
        stored = self.reminders.get(reminder_id)
        if stored is None or stored["status"] != "pending" or stored["event_at"] > event_at:
            return False
        stored.update({"status": "cancelled", "event_at": event_at})
        return True

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        due = [
            copy.deepcopy(r)
            for r in self.reminders.values()
            if r["status"] == "pending" and r["due_at"] <= now
        ]
        return sorted(due, key=lambda r: r["due_at"])[:limit]

    async def claim_reminder(self, reminder_id: str, now: datetime) -> bool:
        stored = self.reminders.get(reminder_id)
        if stored is None or stored["status"] != "pending":
            return False
        stored.update({"status": "sending", "claimed_at": now})
        return True

    async def finish_reminder(self, reminder_id: str, now: datetime) -> None:
        stored = self.reminders.get(reminder_id)
        if stored is not None and stored["status"] == "sending":
            stored.update({"status": "sent", "sent_at": now})

    async def recover_reminders(self, claimed_before: datetime) -> int:
        recovered = 0
        for stored in self.reminders.values():
            if stored["status"] == "sending" and stored["claimed_at"] < claimed_before:
                stored["status"] = "pending"
                recovered += 1
        return recovered

    # -- campaigns --

    async def create_campaign(self, document: Mapping[str, Any]) -> bool:
        if document["_id"] in self.campaigns:
            return False
        self.campaigns[document["_id"]] = copy.deepcopy(dict(document))
        return True

    async def active_campaigns(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(c) for c in self.campaigns.values() if c["status"] == "sending"]

    async def advance_campaign(
        self,
        campaign_id: str,
        cursor: str | None,
        counts: Mapping[str, int],
        done: bool,
        now: datetime,
    ) -> None:
        stored = self.campaigns[campaign_id]
        stored["cursor"] = cursor
        for name, n in counts.items():
            stored["counts"][name] = stored["counts"].get(name, 0) + n
        if done:
            stored["status"] = "expanded"

    # -- what tests look at --

    def events(self, message_id: str | None = None) -> list[str]:
        """The event types written to messages' outboxes (one message's, or every one's)."""
        return [
            entry["type"]
            for doc_id, document in self.messages.documents.items()
            if message_id is None or doc_id == message_id
            for entry in document["outbox"]
        ]

    def of(self, person_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.documents.values() if m["person_id"] == person_id]

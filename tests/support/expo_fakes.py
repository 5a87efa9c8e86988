"""Expo's repository in memory, the cosmicpython way: expo's use cases run unchanged against it,
so a unit test exercises a handler without a broker or a database. The integration tests keep
proving the real adapters (tests/integration/expo)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from shared.pack import EventPack
from tests.support.fakes import PROCESSED_KEPT, FakeStore

INTERNAL = ("processed", "outbox", "outbox_pending", "version")


def _public(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {k: copy.deepcopy(v) for k, v in document.items() if k not in INTERNAL}


class FakeExpoRepository:
    """`services.expo.repository.ExpoRepository`'s interface over dicts."""

    def __init__(self, pack: EventPack | None = None) -> None:
        self.exhibitors = FakeStore("exhibitors")
        self.stage = FakeStore("stage")
        self.calendars = FakeStore("calendars")
        self.tables = FakeStore("tables")
        self.attendees = FakeStore("attendees")
        self.leads = FakeStore("leads")
        self.meetings = FakeStore("meetings")
        self.jobs = FakeStore("jobs")
        self.applications = FakeStore("applications")
        self.booths: dict[str, dict[str, Any]] = {}
        self.cvs: dict[str, dict[str, Any]] = {}
        if pack is not None:
            for booth in pack.booths:
                self.booths[booth.code] = {
                    "_id": booth.code,
                    "forum_id": pack.forum.id,
                    "zone": booth.zone,
                    "x": booth.x,
                    "y": booth.y,
                    "width": booth.width,
                    "height": booth.height,
                    "size_m2": str(booth.size_m2),
                    "tier": booth.tier,
                    "price_usd": str(booth.price_usd),
                    "code": booth.code,
                    "exhibitor_id": None,
                    "exhibitor_name": None,
                }

    def published(self) -> list[dict[str, Any]]:
        """Every outbox entry written, store by store."""
        stores = (self.exhibitors, self.stage, self.leads, self.meetings, self.jobs)
        return [entry for store in (*stores, self.applications) for entry in store.published()]

    def event_types(self) -> list[str]:
        return [entry["type"] for entry in self.published()]

    # --- booths ---

    async def all_booths(self) -> list[dict[str, Any]]:
        return sorted(
            (copy.deepcopy(b) for b in self.booths.values()),
            key=lambda b: (b["y"], b["x"], b["_id"]),
        )

    async def free_booths(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(b) for b in self.booths.values() if b.get("exhibitor_id") is None]

    async def booth(self, code: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.booths.get(code))

    async def booth_held_by(self, exhibitor_id: str) -> dict[str, Any] | None:
        held = [b for b in self.booths.values() if b.get("exhibitor_id") == exhibitor_id]
        return copy.deepcopy(held[0]) if held else None

    async def claim_booth(
        self,
        code: str,
        exhibitor_id: str,
        exhibitor_name: str,
        explanation: dict[str, str],
        *,
        manual: bool,
        now: datetime,
    ) -> bool:
        booth = self.booths.get(code)
        if booth is None or booth.get("exhibitor_id") is not None:
            return False
        booth.update(
            exhibitor_id=exhibitor_id,
            exhibitor_name=exhibitor_name,
            explanation=explanation,
            manual=manual,
            assigned_at=now,
        )
        return True

    async def release_booth(self, code: str, exhibitor_id: str) -> bool:
        booth = self.booths.get(code)
        if booth is None or booth.get("exhibitor_id") != exhibitor_id:
            return False
        booth.update(
            exhibitor_id=None,
            exhibitor_name=None,
            explanation=None,
            manual=False,
            assigned_at=None,
        )
        return True

    # --- exhibitors ---

    async def exhibitor(self, exhibitor_id: str) -> dict[str, Any] | None:
        return _public(self.exhibitors.documents.get(exhibitor_id))

    async def list_exhibitors(
        self, forum_id: str, status: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            found
            for d in self.exhibitors.documents.values()
            if d["forum_id"] == forum_id and status in (None, d["status"])
            if (found := _public(d)) is not None
        ]

    async def approved_without_booth(self, forum_id: str) -> list[dict[str, Any]]:
        return [
            d for d in await self.list_exhibitors(forum_id, "approved") if d.get("booth") is None
        ]

    # --- attendees ---

    async def attendee(self, participant_id: str) -> dict[str, Any] | None:
        return await self.attendees.get(participant_id)

    async def attendee_by_token(self, token_id: str) -> dict[str, Any] | None:
        for document in self.attendees.documents.values():
            if token_id in document.get("tokens", ()):
                return copy.deepcopy(document)
        return None

    async def add_badge_token(
        self, participant_id: str, token_id: str, cause_id: str, kept: int
    ) -> bool:
        """What the real upsert's filter decides."""
        document = self.attendees.documents.get(participant_id)
        if document is None:
            self.attendees.documents[participant_id] = {
                "_id": participant_id,
                "tokens": [token_id],
                "processed": [cause_id],
                "version": 1,
                "outbox": [],
            }
            return True
        if (
            cause_id in document.get("processed", ())
            or token_id in document.get("tokens", ())
            or token_id in document.get("revoked_tokens", ())
            or document.get("erased") is True
        ):
            return False
        document["tokens"] = [*document.get("tokens", []), token_id][-kept:]
        document["processed"] = [*document["processed"], cause_id][-PROCESSED_KEPT:]
        document["version"] += 1
        return True

    # --- leads ---

    async def leads_of(self, exhibitor_id: str) -> list[dict[str, Any]]:
        found = [
            _public(d) for d in self.leads.documents.values() if d["exhibitor_id"] == exhibitor_id
        ]
        return sorted(
            (d for d in found if d is not None), key=lambda d: (d["first_scanned_at"], d["_id"])
        )

    async def merge_scan(
        self, lead_id: str, contact: dict[str, Any], note: str | None, now: datetime, kept: int
    ) -> dict[str, Any]:
        lead = self.leads.documents[lead_id]
        lead.update(contact=copy.deepcopy(contact), last_scanned_at=now)
        lead["scans"] += 1
        lead["version"] += 1
        if note:
            lead["notes"] = [*lead.get("notes", []), note][-kept:]
        found = _public(lead)
        assert found is not None
        return found

    async def lead_ids_of_participant(self, participant_id: str) -> list[str]:
        return [
            doc_id
            for doc_id, d in self.leads.documents.items()
            if d.get("participant_id") == participant_id
        ]

    # --- meetings, the stage, jobs, applications, CVs ---

    async def meeting(self, meeting_id: str) -> dict[str, Any] | None:
        return _public(self.meetings.documents.get(meeting_id))

    async def meetings_of_party(self, calendar_id: str) -> list[dict[str, Any]]:
        return [
            found
            for d in self.meetings.documents.values()
            if calendar_id in d.get("parties", ())
            if (found := _public(d)) is not None
        ]

    async def confirmed_meetings_between(
        self, calendar_id: str, starts_at: datetime, ends_at: datetime
    ) -> list[dict[str, Any]]:
        return [
            m
            for m in await self.meetings_of_party(calendar_id)
            if m.get("status") == "confirmed"
            and m["starts_at"] < ends_at
            and m["ends_at"] > starts_at
        ]

    async def meeting_ids_of_party(self, calendar_id: str) -> list[str]:
        return [m["_id"] for m in await self.meetings_of_party(calendar_id)]

    async def launches(self, forum_id: str, days: int) -> list[dict[str, Any]]:
        ids = [f"{forum_id}:{day}" for day in range(days)]
        return [copy.deepcopy(self.stage.documents[i]) for i in ids if i in self.stage.documents]

    async def job(self, job_id: str) -> dict[str, Any] | None:
        return _public(self.jobs.documents.get(job_id))

    async def open_jobs(self, forum_id: str) -> list[dict[str, Any]]:
        return [
            found
            for d in self.jobs.documents.values()
            if d["forum_id"] == forum_id and d["status"] == "open"
            if (found := _public(d)) is not None
        ]

    async def application(self, application_id: str) -> dict[str, Any] | None:
        return _public(self.applications.documents.get(application_id))

    async def applications_of_job(self, job_id: str) -> list[dict[str, Any]]:
        return [
            found
            for d in self.applications.documents.values()
            if d["job_id"] == job_id
            if (found := _public(d)) is not None
        ]

    async def application_ids_of_participant(self, participant_id: str) -> list[str]:
        return [
            doc_id
            for doc_id, d in self.applications.documents.items()
            if d.get("participant_id") == participant_id
        ]

    async def cv_history(self, application_id: str) -> list[str]:
        return list(self.applications.documents.get(application_id, {}).get("cv_history", []))

    async def store_cv(
        self, cv_id: str, data: bytes, *, media_type: str, filename: str, sha256: str
    ) -> None:
        self.cvs.setdefault(
            cv_id,
            {
                "_id": cv_id,
                "data": data,
                "media_type": media_type,
                "filename": filename,
                "sha256": sha256,
                "size": len(data),
            },
        )

    async def cv(self, cv_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.cvs.get(cv_id))

    async def delete_cv(self, cv_id: str) -> None:
        self.cvs.pop(cv_id, None)

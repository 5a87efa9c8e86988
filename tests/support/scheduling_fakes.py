"""Scheduling's repository in memory, the cosmicpython way: the use cases run unchanged against
it, so a unit test exercises a handler without a broker or a database. Its stores are
`tests.support.fakes.FakeStore` (`AggregateStore.apply`/`create` semantics over dicts); the
integration suite keeps proving the real repository, its queries and its indexes."""

from __future__ import annotations

import copy
from typing import Any

from services.scheduling.deps import Scheduling
from services.scheduling.settings import SchedulingSettings
from shared.pack import EventPack, load_pack
from tests.support.fakes import FakeStore


class FakeScheduleRepository:
    """`services.scheduling.repository.ScheduleRepository`'s interface, in memory."""

    def __init__(self) -> None:
        self.sessions = FakeStore("sessions")
        self.releases = FakeStore("releases")
        self.participants = FakeStore("participants")
        self.attendance = FakeStore("attendance")
        self.ledgers = FakeStore("ledgers")

    async def ensure_indexes(self) -> None:
        pass

    async def insert_if_absent(self, doc_id: str, document: dict[str, Any]) -> bool:
        if doc_id in self.sessions.documents:
            return False
        self.sessions.documents[doc_id] = {
            **copy.deepcopy(document),
            "_id": doc_id,
            "version": 1,
            "processed": [],
            "outbox": [],
        }
        return True

    async def session(self, doc_id: str) -> dict[str, Any] | None:
        return await self.sessions.get(doc_id)

    async def draft(self, forum_id: str) -> list[dict[str, Any]]:
        found = [d for d in self.sessions.documents.values() if d.get("forum_id") == forum_id]
        return copy.deepcopy(sorted(found, key=lambda d: (d["starts_at"], d["code"])))

    def _session_ids(self, match: Any) -> list[str]:
        return [i for i, d in self.sessions.documents.items() if match(d)]

    async def sessions_naming_email(self, email: str) -> list[str]:
        return self._session_ids(lambda d: any(p.get("email") == email for p in d["people"]))

    async def sessions_naming(self, participant_id: str, email: str | None) -> list[str]:
        return self._session_ids(
            lambda d: any(
                p.get("participant_id") == participant_id or (email and p.get("email") == email)
                for p in d["people"]
            )
        )

    async def sessions_listing(self, forum_id: str, participant_id: str) -> list[str]:
        return self._session_ids(
            lambda d: (
                d.get("forum_id") == forum_id
                and (participant_id in d["confirmed"] or participant_id in d["waitlist"])
            )
        )

    async def seated_codes(self, forum_id: str, subject: str) -> set[str]:
        return {
            d["code"]
            for d in self.sessions.documents.values()
            if d.get("forum_id") == forum_id
            and (
                subject in d["confirmed"]
                or any(
                    subject in (p.get("person_id"), p.get("participant_id")) for p in d["people"]
                )
            )
        }

    def _releases(self, forum_id: str) -> list[dict[str, Any]]:
        found = [d for d in self.releases.documents.values() if d.get("forum_id") == forum_id]
        return sorted(found, key=lambda d: -d["number"])

    async def latest_release(self, forum_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(next(iter(self._releases(forum_id)), None))

    async def release(self, forum_id: str, number: int) -> dict[str, Any] | None:
        found = (d for d in self._releases(forum_id) if d["number"] == number)
        return copy.deepcopy(next(found, None))

    async def release_list(self, forum_id: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in d.items() if k not in ("sessions", "processed", "outbox")}
            for d in copy.deepcopy(self._releases(forum_id))
        ]

    async def releases_naming(self, participant_id: str) -> list[str]:
        return [
            release_id
            for release_id, d in self.releases.documents.items()
            if any(
                p.get("participant_id") == participant_id
                for s in d["sessions"]
                for p in s.get("people", ())
            )
        ]

    async def participant(self, participant_id: str) -> dict[str, Any] | None:
        return await self.participants.get(participant_id)

    async def participant_id_by_email(self, forum_id: str, email: str) -> str | None:
        return next(
            (
                i
                for i, d in self.participants.documents.items()
                if d.get("forum_id") == forum_id and d.get("email") == email and not d.get("erased")
            ),
            None,
        )

    async def participants_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {
            i: copy.deepcopy(self.participants.documents[i])
            for i in ids
            if i in self.participants.documents
        }

    async def holds_of(self, attendance_id: str) -> dict[str, Any] | None:
        return await self.attendance.get(attendance_id)

    def published(self) -> list[dict[str, Any]]:
        """Every event any store's outbox holds, store by store."""
        stores = (self.sessions, self.releases, self.participants, self.attendance, self.ledgers)
        return [entry for store in stores for entry in store.published()]

    def event_types(self) -> list[str]:
        return [entry["type"] for entry in self.published()]


def fake_scheduling(pack: EventPack | None = None) -> tuple[Scheduling, FakeScheduleRepository]:
    """Scheduling's dependencies over the in-memory repository (the default pack)."""
    repository = FakeScheduleRepository()
    deps = Scheduling(
        pack=pack or load_pack(),
        repository=repository,  # the same interface, in memory
        settings=SchedulingSettings(),
    )
    return deps, repository

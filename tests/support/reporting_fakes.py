"""Reporting's repository in memory, the cosmicpython way: its use cases run unchanged against it,
so a unit test exercises a handler without a broker or a database. Projection writes keep the
real semantics that matter: a new document whose id exists, or an update of a version that is not
the stored one, is lost and reported so (`write_projection`); ledger ids are unique."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from services.reporting.projections.fold import ProjectionWrite
from services.reporting.repository import INTERNAL, public_list
from shared.persistence.aggregates import PROCESSED_KEPT, StoreRegistry
from tests.support.fakes import FakeStore

Document = dict[str, Any]


def _shown(document: Document) -> Document:
    return {k: copy.deepcopy(v) for k, v in document.items() if k not in INTERNAL}


class FakeReportingRepository:
    def __init__(self) -> None:
        self.stores = StoreRegistry()
        self.projections: dict[str, dict[str, Document]] = {"participants": {}, "entities": {}}
        self.ledger: dict[str, Document] = {}
        self.files: dict[str, Document] = {}
        self.reports = FakeStore("reports")
        self.conclusions = FakeStore("conclusions")
        self.action_items = FakeStore("action_items")
        self.budget = FakeStore("budget_lines")
        self.calls: Counter[str] = Counter()  # round trips a real database would see, by kind
        self.audit = FakeAuditTrail(self.calls)
        # Called before each projection write: a test plays another writer there.
        self.before_write: Callable[[str, Sequence[ProjectionWrite]], None] | None = None

    async def ensure_indexes(self) -> None:
        pass

    async def empty_projections(self) -> None:
        for documents in self.projections.values():
            documents.clear()
        self.ledger.clear()

    # -- projections --

    async def projection_documents(
        self, collection: str, ids: Sequence[str]
    ) -> dict[str, Document]:
        if not ids:
            return {}
        self.calls[f"find {collection}"] += 1
        stored = self.projections[collection]
        return {i: copy.deepcopy(stored[i]) for i in ids if i in stored}

    async def write_projection(
        self, collection: str, writes: Sequence[ProjectionWrite]
    ) -> set[str]:
        if not writes:
            return set()
        if self.before_write is not None:
            self.before_write(collection, writes)
        self.calls[f"bulk_write {collection}"] += 1
        stored, lost = self.projections[collection], set()
        for write in writes:
            current = stored.get(write.doc_id)
            if write.version is None:
                if current is not None:
                    lost.add(write.doc_id)
                    continue
                stored[write.doc_id] = {
                    "_id": write.doc_id,
                    **copy.deepcopy(write.fields),
                    "version": 1,
                    "processed": list(write.causes)[-PROCESSED_KEPT:],
                }
            elif current is None or current["version"] != write.version:
                lost.add(write.doc_id)
            else:
                current.update(copy.deepcopy(write.fields))
                current["version"] += 1
                current["processed"] = [*current["processed"], *write.causes][-PROCESSED_KEPT:]
        return lost

    async def record_events(self, entries: Sequence[Document]) -> None:
        if not entries:
            return
        self.calls["insert event_ledger"] += 1
        for entry in entries:
            self.ledger.setdefault(entry["_id"], copy.deepcopy(entry))

    async def has_events(self) -> bool:
        return bool(self.ledger)

    async def event_counts(self) -> dict[str, int]:
        return dict(Counter(entry["type"] for entry in self.ledger.values()))

    async def participant_states(self, forum_id: str) -> list[Document]:
        return [
            copy.deepcopy(d)
            for d in self.projections["participants"].values()
            if d["forum_id"] == forum_id
        ]

    async def entity_states(self, forum_id: str) -> list[Document]:
        return [
            copy.deepcopy(d)
            for d in self.projections["entities"].values()
            if d["forum_id"] == forum_id
        ]

    async def public_participants(self, forum_id: str) -> list[Document]:
        return public_list(await self.participant_states(forum_id))

    # -- reporting's own records --

    def _of(self, store: FakeStore, forum_id: str) -> list[Document]:
        return [_shown(d) for d in store.documents.values() if d.get("forum_id") == forum_id]

    async def list_conclusions(self, forum_id: str, status: str | None = None) -> list[Document]:
        rows = [c for c in self._of(self.conclusions, forum_id) if status in (None, c["status"])]
        return sorted(rows, key=lambda r: (r["session_code"], r["_id"]))

    async def conclusion_ids(self, forum_id: str) -> set[str]:
        return {c["_id"] for c in self._of(self.conclusions, forum_id)}

    async def get_conclusion(self, conclusion_id: str) -> Document | None:
        found = self.conclusions.documents.get(conclusion_id)
        return None if found is None else _shown(found)

    async def list_action_items(self, forum_id: str) -> list[Document]:
        return sorted(
            self._of(self.action_items, forum_id), key=lambda r: (r["deadline"], r["_id"])
        )

    async def get_action_item(self, item_id: str) -> Document | None:
        found = self.action_items.documents.get(item_id)
        return None if found is None else _shown(found)

    async def open_action_item_ids(self, forum_id: str, before: str) -> list[str]:
        return [
            item["_id"]
            for item in self._of(self.action_items, forum_id)
            if item.get("overdue")
            or (item["status"] in ("planned", "in_progress") and item["deadline"] < before)
        ]

    async def budget_lines(self, forum_id: str) -> list[Document]:
        return self._of(self.budget, forum_id)

    async def store_file(self, sha256: str, content: bytes, media_type: str) -> None:
        self.files.setdefault(sha256, {"_id": sha256, "content": content, "media_type": media_type})

    async def file(self, sha256: str) -> Document | None:
        return self.files.get(sha256)

    async def get_report(self, report_id: str) -> Document | None:
        found = self.reports.documents.get(report_id)
        return None if found is None else _shown(found)

    async def has_final(self, forum_id: str, kind: str, language: str) -> bool:
        return any(
            r["kind"] == kind and r["language"] == language and r.get("final")
            for r in self._of(self.reports, forum_id)
        )

    async def list_reports(self, forum_id: str) -> list[Document]:
        return self._of(self.reports, forum_id)

    # -- what tests look at --

    def participant(self, participant_id: str) -> Document:
        return self.projections["participants"][participant_id]

    def published(self) -> list[str]:
        """Types of every event written to an outbox, in the order written per document."""
        return [
            entry["type"]
            for store in (self.conclusions, self.action_items, self.budget, self.reports)
            for entry in store.published()
        ]


class FakeAuditTrail:
    """`repository.AuditTrail` in memory: entries by event id, erased participants' ids."""

    def __init__(self, calls: Counter[str]) -> None:
        self.calls = calls
        self.entries: dict[str, Document] = {}
        self.erasures: set[str] = set()

    async def record(self, entries: Sequence[Document]) -> None:
        if entries:
            self.calls["insert audit"] += 1
            for entry in entries:
                self.entries.setdefault(entry["_id"], copy.deepcopy(entry))

    async def rewrite(self, entries: Sequence[Document]) -> None:
        if entries:
            self.calls["bulk_write audit"] += 1
            self.entries.update({e["_id"]: copy.deepcopy(e) for e in entries})

    async def record_erasures(self, participant_ids: Iterable[str]) -> None:
        self.calls["insert audit_erasures"] += 1
        self.erasures.update(participant_ids)

    async def erased_among(self, participant_ids: Iterable[str]) -> set[str]:
        ids = set(participant_ids)
        if not ids:
            return set()
        self.calls["find audit_erasures"] += 1
        return ids & self.erasures

    async def erased(self) -> set[str]:
        self.calls["find audit_erasures"] += 1
        return set(self.erasures)

    async def replace_actors(self, subjects: Iterable[str], actor: Document) -> None:
        wanted = set(subjects)
        if wanted:
            self.calls["update audit"] += 1
            for entry in self.entries.values():
                if entry["actor"]["subject"] in wanted:
                    entry["actor"] = copy.deepcopy(actor)

    async def page(self, field: str, value: str, *, skip: int, limit: int) -> list[Document]:
        self.calls["find audit"] += 1
        return self._having(field, value)[skip : skip + limit]

    async def every(self, field: str, value: str) -> AsyncIterator[Document]:
        self.calls["find audit"] += 1
        for entry in self._having(field, value):
            yield entry

    def _having(self, field: str, value: str) -> list[Document]:
        def has(entry: Document) -> bool:
            if field == "actor.subject":
                return bool(entry["actor"]["subject"] == value)
            return value in (entry.get(field) or ())

        rows = sorted((e for e in self.entries.values() if has(e)), key=lambda e: e["stamp"])
        return copy.deepcopy(rows)

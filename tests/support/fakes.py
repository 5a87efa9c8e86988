"""In-memory stand-ins for what lies outside a service's rules, the cosmicpython way: the use
cases run unchanged against them, so a unit test exercises a handler without a broker or a
database. Integration tests keep proving the real adapters."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from shared.decisions import Change, Decision
from shared.persistence.aggregates import Applied, outbox_entry

PROCESSED_KEPT = 200


class FakeStore:
    """`AggregateStore.apply` semantics over a dict: one decision per cause, state, consumed id
    and outbox written together, a redelivered cause changes nothing."""

    def __init__(self, name: str, unique: tuple[str, ...] = ()) -> None:
        self.name = name
        self.unique = unique  # fields unique per forum, like the real collection's unique indexes
        self.documents: dict[Any, dict[str, Any]] = {}

    async def get(self, doc_id: Any) -> dict[str, Any] | None:
        return copy.deepcopy(self.documents.get(doc_id))

    async def create(self, doc_id: Any, cause_id: str | None, change: Change) -> Applied | None:
        """None when the id or a unique key (`unique`: field names) is taken, like the real insert."""
        if doc_id in self.documents or any(
            self._clashes(document, change.set) for document in self.documents.values()
        ):
            return None
        self.documents[doc_id] = {
            **copy.deepcopy(change.set),
            "_id": doc_id,
            "version": 1,
            "processed": [cause_id] if cause_id else [],
            "outbox": [outbox_entry(e) for e in change.events],
        }
        return Applied(copy.deepcopy(self.documents[doc_id]), change)

    def _clashes(self, document: dict[str, Any], fields: dict[str, Any]) -> bool:
        for key in self.unique:
            if "forum_id" not in fields or document.get("forum_id") != fields["forum_id"]:
                continue
            mine, theirs = fields.get(key), document.get(key)
            mine_all = set(mine) if isinstance(mine, list) else {mine}
            theirs_all = set(theirs) if isinstance(theirs, list) else {theirs}
            if (mine_all & theirs_all) - {None}:
                return True
        return False

    async def apply(
        self,
        doc_id: Any,
        cause_id: str | None,
        decide: Callable[[dict[str, Any] | None], Change | Decision[Any] | None],
        *,
        current: Any = None,
    ) -> Applied:
        document = copy.deepcopy(self.documents.get(doc_id))  # `current` is only a hint
        if document is not None and cause_id is not None and cause_id in document["processed"]:
            return Applied(document, None, duplicate=True)
        decided = decide(document)
        result = decided.result if isinstance(decided, Decision) else None
        change = decided.change if isinstance(decided, Decision) else decided
        if change is None and (document is None or cause_id is None):
            return Applied(document, None, result=result)
        change = change or Change()
        stored = document or {"_id": doc_id, "version": 0, "processed": [], "outbox": []}
        stored.update(copy.deepcopy(change.set))
        stored["version"] += 1
        if cause_id is not None:
            stored["processed"] = [*stored["processed"], cause_id][-PROCESSED_KEPT:]
        stored["outbox"] = [*stored["outbox"], *(outbox_entry(e) for e in change.events)]
        self.documents[doc_id] = stored
        return Applied(copy.deepcopy(stored), change, result=result)

    def published(self) -> list[dict[str, Any]]:
        """Every event written to an outbox of this store, in the order written per document."""
        return [entry for document in self.documents.values() for entry in document["outbox"]]


class FakeParticipantRepository:
    """The registration repository's interface, in memory."""

    def __init__(self) -> None:
        self.participants = FakeStore("participants", unique=("email", "submission_ids"))
        self.ledgers = FakeStore("seat_ledgers")
        self.delegations = FakeStore("delegations")
        self.seat_calls = 0

    async def find_for_submission(
        self, forum_id: str, submission_id: str, email: str
    ) -> dict[str, Any] | None:
        documents = [
            d for d in self.participants.documents.values() if d.get("forum_id") == forum_id
        ]
        by_submission = [d for d in documents if submission_id in d.get("submission_ids", ())]
        by_email = [d for d in documents if d.get("email") == email]
        found = (by_submission or by_email or [None])[0]
        return copy.deepcopy(found)

    async def find_id(
        self, forum_id: str, *, submission_id: str | None = None, email: str | None = None
    ) -> str | None:
        for document in self.participants.documents.values():
            if document.get("forum_id") != forum_id:
                continue
            if submission_id is not None and submission_id in document.get("submission_ids", ()):
                return document["_id"]
            if email is not None and document.get("email") == email:
                return document["_id"]
        return None

    async def get(self, participant_id: str) -> dict[str, Any] | None:
        found = await self.participants.get(participant_id)
        return None if found is None or "status" not in found else found

    def parked(self) -> dict[str, dict[str, Any]]:
        """Cancellations waiting for their sign-up, by the participant id it will have."""
        return {
            doc_id: document["parked_cancellation"]
            for doc_id, document in self.participants.documents.items()
            if document.get("parked_cancellation")
        }

    async def take_seat(self, ledger_id: str, participant_id: str, capacity: int) -> dict[str, Any]:
        """The real one is one atomic update; here a dict does the same arithmetic."""
        self.seat_calls += 1
        ledger = self.ledgers.documents.setdefault(
            ledger_id, {"_id": ledger_id, "version": 0, "processed": [], "outbox": []}
        )
        confirmed, waitlist = ledger.setdefault("confirmed", []), ledger.setdefault("waitlist", [])
        if participant_id not in confirmed and participant_id not in waitlist:
            if len(confirmed) < capacity and not waitlist:
                confirmed.append(participant_id)
            else:
                waitlist.append(participant_id)
        ledger["version"] += 1
        return copy.deepcopy(ledger)

    def event_types(self) -> list[str]:
        return [entry["type"] for entry in self.participants.published()]

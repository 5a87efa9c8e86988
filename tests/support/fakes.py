"""In-memory stand-ins for what lies outside a service's rules, the cosmicpython way: the use
cases run unchanged against them, so a unit test exercises a handler without a broker or a
database. Integration tests keep proving the real adapters."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.registration.documents import SeatLedger
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


class FakeSeatLedgers:
    """`SeatLedgers` (services/registration/seat_ledgers.py) over a `FakeStore`: each method does
    in Python what the real one's pipeline does on the server, in one step."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._settled: dict[str, list[int]] = {}
        self.writes = 0

    def settle(self, ledger_id: str, ticket: int) -> None:
        self._settled.setdefault(ledger_id, []).append(ticket)

    def _document(self, ledger_id: str, *, create: bool) -> dict[str, Any] | None:
        self.writes += 1
        document = self.store.documents.get(ledger_id)
        if document is None and create:
            document = self.store.documents[ledger_id] = {"_id": ledger_id}
        if document is not None:
            settled = self._settled.pop(ledger_id, [])
            kept = [take for take in document.get("open", []) if take["ticket"] not in settled]
            recorded = [t["participant_id"] for t in document.get("open", []) if t not in kept]
            document["open"] = kept
            document["recent"] = [*document.get("recent", []), *recorded][-64:]
        return document

    def _read(self, ledger_id: str, document: dict[str, Any] | None) -> SeatLedger:
        if document is None:
            return SeatLedger(_id=ledger_id)
        returned = {k: v for k, v in document.items() if k not in ("processed", "recent")}
        return SeatLedger.read(copy.deepcopy(returned))

    async def take(
        self,
        ledger_id: str,
        participant_id: str,
        capacity: int,
        now: datetime,
        *,
        known_ok: bool = False,
    ) -> SeatLedger:
        document = self._document(ledger_id, create=True)
        assert document is not None
        known = known_ok and participant_id in document["recent"]
        if not known and all(t["participant_id"] != participant_id for t in document["open"]):
            seats, waiting = document.get("seats", 0), document.get("waiting", 0)
            ticket = document.get("tickets", 0) + 1
            free = seats < capacity and waiting <= 0
            document["open"].append(
                {
                    "participant_id": participant_id,
                    "ticket": ticket,
                    "seat": free,
                    "position": 0 if free else waiting + 1,
                    "at": now,
                }
            )
            document["tickets"] = ticket
            document["seats" if free else "waiting"] = (seats if free else waiting) + 1
            if not free and waiting <= 0:
                document["head"] = ticket  # the first of an empty waitlist
        return self._read(ledger_id, document)

    async def leave(
        self, ledger_id: str, participant_id: str, ticket: int | None, seat: bool | None
    ) -> SeatLedger:
        document = self._document(ledger_id, create=False)
        if document is None:
            return self._read(ledger_id, None)
        take = next(
            (
                t
                for t in document["open"]
                if (
                    t["ticket"] == ticket
                    if ticket is not None
                    else t["participant_id"] == participant_id
                )
            ),
            None,
        )
        ticket = ticket if ticket is not None else (take["ticket"] if take else None)
        seat = seat if seat is not None else (take["seat"] if take else None)
        processed = document.setdefault("processed", [])
        if ticket is not None and seat is not None and f"x{ticket}" not in processed:
            counter = "seats" if seat else "waiting"
            document[counter] = max(0, document.get(counter, 0) - 1)
            document["processed"] = [*processed, f"x{ticket}"][-64:]
            if seat:
                document["last_freed"] = participant_id
        document["open"] = [t for t in document["open"] if t["ticket"] != ticket]
        return self._read(ledger_id, document)

    async def claim(self, ledger_id: str, capacity: int, claim: dict[str, Any]) -> SeatLedger:
        document = self._document(ledger_id, create=False)
        if document is None:
            return self._read(ledger_id, None)
        claims = document.setdefault("claims", [])
        if (
            document.get("seats", 0) < capacity
            and document.get("waiting", 0) > 0
            and all(c["participant_id"] != claim["participant_id"] for c in claims)
        ):
            document["seats"] = document.get("seats", 0) + 1
            document["waiting"] = document.get("waiting", 0) - 1
            claims.append(copy.deepcopy(claim))
            document["head"] = max(document.get("head", 1), claim["ticket"] + 1)
        return self._read(ledger_id, document)

    async def end_claim(self, ledger_id: str, claim_id: str, *, undo: bool) -> SeatLedger:
        document = self._document(ledger_id, create=False)
        if document is None:
            return self._read(ledger_id, None)
        claims = document.setdefault("claims", [])
        if any(c["id"] == claim_id for c in claims) and undo:
            document["seats"] = max(0, document.get("seats", 0) - 1)
            document["waiting"] = document.get("waiting", 0) + 1
        document["claims"] = [c for c in claims if c["id"] != claim_id]
        return self._read(ledger_id, document)

    async def advance(self, ledger_id: str, to: int) -> SeatLedger:
        document = self._document(ledger_id, create=False)
        if document is not None:
            waiting = [t["ticket"] for t in document["open"] if not t["seat"]]
            document["head"] = max(document.get("head", 1), min([to, *waiting]))
        return self._read(ledger_id, document)

    async def drop_open(self, ledger_id: str, tickets: list[int]) -> SeatLedger:
        document = self._document(ledger_id, create=False)
        if document is not None:
            document["open"] = [t for t in document["open"] if t["ticket"] not in tickets]
        return self._read(ledger_id, document)

    async def get(self, ledger_id: str) -> SeatLedger:
        return self._read(ledger_id, self.store.documents.get(ledger_id))

    async def recount(self, seen: SeatLedger, seats: int, waiting: int) -> bool:
        document = self.store.documents.get(seen.id)
        if document is None or document.get("open") or document.get("claims"):
            return False
        if (document.get("tickets", 0), document.get("seats", 0), document.get("waiting", 0)) != (
            seen.tickets,
            seen.seats,
            seen.waiting,
        ):
            return False
        document["seats"], document["waiting"] = seats, waiting
        return True


class FakeParticipantRepository:
    """The registration repository's interface, in memory."""

    def __init__(self) -> None:
        self.participants = FakeStore("participants", unique=("email", "submission_ids"))
        self.ledgers = FakeStore("seat_ledgers")
        self.seats = FakeSeatLedgers(self.ledgers)
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

    async def take_seat(
        self,
        ledger_id: str,
        participant_id: str,
        capacity: int,
        now: datetime,
        *,
        known_ok: bool = False,
    ) -> SeatLedger:
        self.seat_calls += 1
        return await self.seats.take(ledger_id, participant_id, capacity, now, known_ok=known_ok)

    def _forum(self, forum_id: str) -> list[dict[str, Any]]:
        return [d for d in self.participants.documents.values() if d.get("forum_id") == forum_id]

    async def first_waiting(
        self, forum_id: str, category: str, *, start: int, skip: list[str], window: int
    ) -> list[dict[str, Any]]:
        waiting = [
            d
            for d in self._forum(forum_id)
            if (d.get("status"), d.get("category")) == ("waitlisted", category)
            and start <= (d.get("seat_ticket") or 0) < start + window
            and d["_id"] not in skip
        ]
        return copy.deepcopy(sorted(waiting, key=lambda d: d["seat_ticket"]))

    async def seat_documents(self, participant_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {
            pid: copy.deepcopy(self.participants.documents[pid])
            for pid in participant_ids
            if pid in self.participants.documents
        }

    async def pending_releases(self, category: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(d)
            for d in self.participants.documents.values()
            if any(r["category"] == category for r in d.get("seat_releases") or ())
        ]

    async def count_places(self, forum_id: str, category: str) -> tuple[int, int]:
        statuses = [d.get("status") for d in self._forum(forum_id) if d.get("category") == category]
        return statuses.count("confirmed"), statuses.count("waitlisted")

    def event_types(self) -> list[str]:
        return [entry["type"] for entry in self.participants.published()]

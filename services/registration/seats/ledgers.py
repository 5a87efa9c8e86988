"""The seat ledgers' writes (`seat_ledgers`: one document per capacity-limited category).

Each write is ONE atomic update decided on the server (an aggregation pipeline), so concurrent
sign-ups of a category never conflict and never retry; each reads and writes a document whose
size does not grow with the category: three counters, the takes not yet recorded on their
participant (`open`, a handful: those in flight), the promotions under way (`claims`), the
participants whose take was recorded lately (`recent`, bounded) and the last tickets counted out
(`processed`, bounded). What the fields mean, and why every step
leaves a record, is in `seats.rules`.

A take is recorded on its participant by the use case after `take`; the ledger learns it with
the next write from this process (`settle` queues the ticket, the next pipeline drops it from
`open`), so settling costs no round trip. Anything a crash leaves in `open` or `claims` is
completed by `seat_reconciler.reconcile`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne

from services.registration.documents import SeatLedger
from shared.persistence.aggregates import AggregateStore

RECENT_KEPT = 64
"""Participants whose take was recorded lately: a sign-up of one of them (a redelivery after a
crash, a form's duplicate) is answered `known` and takes nothing. Bounded: older duplicates take
a place for a moment and give it back (`seats.give_back`), which is correct, only slower."""

PROCESSED_KEPT = 64
"""Tickets counted out, kept so that a release repeated within this many is counted once; the
release marker on the participant covers the time after (it is cleared once counted)."""

# What a write returns: everything but the counted-out tickets and the recent participants.
RETURNED = {"processed": 0, "recent": 0}

SEATS: dict[str, Any] = {"$ifNull": ["$seats", 0]}
WAITING: dict[str, Any] = {"$ifNull": ["$waiting", 0]}
TICKETS: dict[str, Any] = {"$ifNull": ["$tickets", 0]}
OPEN: dict[str, Any] = {"$ifNull": ["$open", []]}
CLAIMS: dict[str, Any] = {"$ifNull": ["$claims", []]}
RECENT: dict[str, Any] = {"$ifNull": ["$recent", []]}
HEAD: dict[str, Any] = {"$ifNull": ["$head", 1]}
PROCESSED: dict[str, Any] = {"$ifNull": ["$processed", []]}
Pipeline = list[dict[str, Any]]


def _literal(value: Any) -> dict[str, Any]:
    return {"$literal": value}


def _minus_one(counter: dict[str, Any]) -> dict[str, Any]:
    return {"$max": [0, {"$subtract": [counter, 1]}]}


def _settled(settled: list[int]) -> dict[str, Any]:
    """The first stage of every write: takes recorded on their participant leave `open`, and
    their participants join `recent`."""
    if not settled:
        return {"$set": {"open": OPEN}}
    recorded = {"$in": ["$$this.ticket", settled]}
    return {
        "$set": {
            "open": {"$filter": {"input": OPEN, "cond": {"$not": [recorded]}}},
            "recent": {
                "$slice": [
                    {
                        "$concatArrays": [
                            RECENT,
                            {
                                "$map": {
                                    "input": {"$filter": {"input": OPEN, "cond": recorded}},
                                    "in": "$$this.participant_id",
                                }
                            },
                        ]
                    },
                    -RECENT_KEPT,
                ]
            },
        }
    }


def take_pipeline(
    participant_id: str, capacity: int, now: datetime, settled: list[int], *, known_ok: bool
) -> Pipeline:
    """A seat when one is free and nobody waits, else the end of the waitlist. Nothing for
    someone holding an open take already (a redelivered sign-up: the same answer), nor, when
    `known_ok`, for someone whose take was recorded lately (`recent`: they exist)."""
    free = {"$and": [{"$lt": [SEATS, capacity]}, {"$lte": [WAITING, 0]}]}
    new = {"$not": ["$_held"]}
    take = {
        "participant_id": _literal(participant_id),
        "ticket": {"$add": [TICKETS, 1]},
        "seat": free,
        "position": {"$cond": [free, 0, {"$add": [WAITING, 1]}]},
        "at": _literal(now),
    }
    held: dict[str, Any] = {
        "$in": [participant_id, {"$map": {"input": "$open", "in": "$$this.participant_id"}}]
    }
    if known_ok:
        held = {"$or": [held, {"$in": [participant_id, RECENT]}]}
    return [
        _settled(settled),
        {"$set": {"_held": held}},
        {
            "$set": {
                "seats": {"$cond": [{"$and": [new, free]}, {"$add": [SEATS, 1]}, SEATS]},
                "waiting": {
                    "$cond": [{"$and": [new, {"$not": [free]}]}, {"$add": [WAITING, 1]}, WAITING]
                },
                "tickets": {"$cond": [new, {"$add": [TICKETS, 1]}, TICKETS]},
                "open": {"$cond": [new, {"$concatArrays": ["$open", [take]]}, "$open"]},
                # The first of an empty waitlist: the waiting start from its ticket.
                "head": {
                    "$cond": [
                        {"$and": [new, {"$not": [free]}, {"$lte": [WAITING, 0]}]},
                        {"$add": [TICKETS, 1]},
                        HEAD,
                    ]
                },
            }
        },
        {"$unset": "_held"},
    ]


def leave_pipeline(
    participant_id: str, ticket: int | None, seat: bool | None, settled: list[int]
) -> Pipeline:
    """Count a place out, once per ticket: `ticket` and `seat` as the participant recorded them,
    or (None) as its open take says (a take never recorded: found by participant)."""
    match = (
        {"$eq": ["$$this.ticket", ticket]}
        if ticket is not None
        else {"$eq": ["$$this.participant_id", participant_id]}
    )
    counted = {"$and": ["$_counts", "$_seat"]}
    counted_waiting = {"$and": ["$_counts", {"$not": ["$_seat"]}]}
    return [
        _settled(settled),
        {"$set": {"_take": {"$arrayElemAt": [{"$filter": {"input": "$open", "cond": match}}, 0]}}},
        {
            "$set": {
                "_ticket": _literal(ticket)
                if ticket is not None
                else {"$ifNull": ["$_take.ticket", None]},
                "_seat": _literal(seat) if seat is not None else {"$ifNull": ["$_take.seat", None]},
            }
        },
        {"$set": {"_key": {"$concat": ["x", {"$toString": "$_ticket"}]}}},
        {
            "$set": {
                "_counts": {
                    "$and": [
                        {"$ne": ["$_ticket", None]},
                        {"$ne": ["$_seat", None]},
                        {"$not": [{"$in": ["$_key", PROCESSED]}]},
                    ]
                }
            }
        },
        {
            "$set": {
                "seats": {"$cond": [counted, _minus_one(SEATS), SEATS]},
                "waiting": {"$cond": [counted_waiting, _minus_one(WAITING), WAITING]},
                "open": {
                    "$filter": {"input": "$open", "cond": {"$ne": ["$$this.ticket", "$_ticket"]}}
                },
                "processed": {
                    "$cond": [
                        "$_counts",
                        {"$slice": [{"$concatArrays": [PROCESSED, ["$_key"]]}, -PROCESSED_KEPT]},
                        PROCESSED,
                    ]
                },
                "last_freed": {"$cond": [counted, _literal(participant_id), "$last_freed"]},
            }
        },
        {"$unset": ["_take", "_ticket", "_seat", "_key", "_counts"]},
    ]


def claim_pipeline(capacity: int, claim: dict[str, Any], settled: list[int]) -> Pipeline:
    """Count a free seat as the waiting participant's (`claim`), if one is free while people
    wait and nobody claims it for them already."""
    claimed = {"$map": {"input": CLAIMS, "in": "$$this.participant_id"}}
    ok = "$_ok"
    return [
        _settled(settled),
        {
            "$set": {
                "_ok": {
                    "$and": [
                        {"$lt": [SEATS, capacity]},
                        {"$gt": [WAITING, 0]},
                        {"$not": [{"$in": [claim["participant_id"], claimed]}]},
                    ]
                }
            }
        },
        {
            "$set": {
                "seats": {"$cond": [ok, {"$add": [SEATS, 1]}, SEATS]},
                "waiting": {"$cond": [ok, {"$subtract": [WAITING, 1]}, WAITING]},
                "claims": {"$cond": [ok, {"$concatArrays": [CLAIMS, [_literal(claim)]]}, CLAIMS]},
                # Served in ticket order: nobody waits with a lower ticket any more.
                "head": {"$cond": [ok, {"$max": [HEAD, claim["ticket"] + 1]}, HEAD]},
            }
        },
        {"$unset": "_ok"},
    ]


def advance_pipeline(to: int, settled: list[int]) -> Pipeline:
    """Nobody waits below ticket `to` (found so): the waitlist's head moves there, but never
    past a waitlist take still open (its participant may not be written yet)."""
    open_waiting = {
        "$map": {
            "input": {"$filter": {"input": "$open", "cond": {"$not": ["$$this.seat"]}}},
            "in": "$$this.ticket",
        }
    }
    return [
        _settled(settled),
        {"$set": {"head": {"$max": [HEAD, {"$min": [to, {"$min": open_waiting}]}]}}},
    ]


def end_claim_pipeline(claim_id: str, undo: bool, settled: list[int]) -> Pipeline:
    """The claim is done (the participant is promoted) or, `undo`, void: they had left the
    waitlist, which their own release counted, so the seat is free again."""
    had = {"$in": [claim_id, {"$map": {"input": CLAIMS, "in": "$$this.id"}}]}
    undone = {"$and": [had, undo]}
    return [
        _settled(settled),
        {
            "$set": {
                "seats": {"$cond": [undone, _minus_one(SEATS), SEATS]},
                "waiting": {"$cond": [undone, {"$add": [WAITING, 1]}, WAITING]},
                "claims": {"$filter": {"input": CLAIMS, "cond": {"$ne": ["$$this.id", claim_id]}}},
            }
        },
    ]


class SeatLedgers:
    """The ledger documents of one registration database."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store  # registered with the runtime like every store of the service
        self._settled: dict[str, list[int]] = {}

    @property
    def collection(self) -> Any:
        return self.store.collection

    def settle(self, ledger_id: str, ticket: int) -> None:
        """`ticket` is recorded on its participant: the next write here drops its open take."""
        self._settled.setdefault(ledger_id, []).append(ticket)

    async def _write(
        self, ledger_id: str, build: Any, *, upsert: bool = False
    ) -> SeatLedger | None:
        settled = self._settled.pop(ledger_id, [])
        try:
            for _ in range(2):
                stored = await self.collection.find_one_and_update(
                    {"_id": ledger_id},
                    build(settled),
                    upsert=upsert,
                    return_document=ReturnDocument.AFTER,
                    projection=RETURNED,
                )
                if stored is not None or not upsert:
                    return None if stored is None else SeatLedger.read(stored)
                # SecantusDB answers null to an upsert that lost the race to create the
                # document, though its update was applied: asking again returns it (a take
                # already open changes nothing).
        except BaseException:
            self._settled.setdefault(ledger_id, [])[:0] = settled  # the next write settles them
            raise
        raise RuntimeError(f"seat ledger {ledger_id}: no document returned by the upsert")

    async def take(
        self,
        ledger_id: str,
        participant_id: str,
        capacity: int,
        now: datetime,
        *,
        known_ok: bool = False,
    ) -> SeatLedger:
        """The ledger after giving `participant_id` a place (`ledger.take_of(participant_id)`;
        None: `known_ok` and known, nothing taken)."""
        ledger = await self._write(
            ledger_id,
            lambda settled: take_pipeline(
                participant_id, capacity, now, settled, known_ok=known_ok
            ),
            upsert=True,
        )
        assert ledger is not None  # an upsert returns the document
        return ledger

    async def leave(
        self, ledger_id: str, participant_id: str, ticket: int | None, seat: bool | None
    ) -> SeatLedger:
        ledger = await self._write(
            ledger_id, lambda settled: leave_pipeline(participant_id, ticket, seat, settled)
        )
        return ledger or SeatLedger(_id=ledger_id)

    async def claim(self, ledger_id: str, capacity: int, claim: dict[str, Any]) -> SeatLedger:
        ledger = await self._write(
            ledger_id, lambda settled: claim_pipeline(capacity, claim, settled)
        )
        return ledger or SeatLedger(_id=ledger_id)

    async def end_claim(self, ledger_id: str, claim_id: str, *, undo: bool) -> SeatLedger:
        ledger = await self._write(
            ledger_id, lambda settled: end_claim_pipeline(claim_id, undo, settled)
        )
        return ledger or SeatLedger(_id=ledger_id)

    async def advance(self, ledger_id: str, to: int) -> SeatLedger:
        ledger = await self._write(ledger_id, lambda settled: advance_pipeline(to, settled))
        return ledger or SeatLedger(_id=ledger_id)

    async def drop_open(self, ledger_id: str, tickets: list[int]) -> SeatLedger:
        """Takes found recorded on their participant (by the reconciler) leave `open`."""
        ledger = await self._write(ledger_id, lambda settled: [_settled([*settled, *tickets])])
        return ledger or SeatLedger(_id=ledger_id)

    async def get(self, ledger_id: str) -> SeatLedger:
        stored = await self.collection.find_one({"_id": ledger_id}, RETURNED)
        return SeatLedger.read(stored) if stored else SeatLedger(_id=ledger_id)

    async def recount(self, seen: SeatLedger, seats: int, waiting: int) -> bool:
        """Set the counters to what the participants say, if the ledger is still as `seen` and
        nothing is under way on it (no open take, no claim): a drift healed, or False."""
        written = await self.collection.update_one(
            {
                "_id": seen.id,
                "tickets": seen.tickets,
                "seats": seen.seats,
                "waiting": seen.waiting,
                "open.0": {"$exists": False},
                "claims.0": {"$exists": False},
            },
            {"$set": {"seats": seats, "waiting": waiting}},
        )
        return bool(written.modified_count)

    async def migrate(self, participants: Any) -> int:
        """Ledgers written by an earlier release (`confirmed` and `waitlist`, lists of ids)
        become counters; their holders get tickets in list order (seats first, then the
        waitlist in its order). Idempotent: a crash half-way is finished by the next start."""
        migrated = 0
        async for old in self.collection.find({"confirmed": {"$exists": True}}):
            confirmed, waitlist = list(old.get("confirmed", ())), list(old.get("waitlist", ()))
            holders = confirmed + waitlist
            if holders:
                await participants.bulk_write(
                    [
                        UpdateOne({"_id": participant_id}, {"$set": {"seat_ticket": ticket}})
                        for ticket, participant_id in enumerate(holders, start=1)
                    ],
                    ordered=False,
                )
            await self.collection.update_one(
                {"_id": old["_id"]},
                {
                    "$set": {
                        "seats": len(confirmed),
                        "waiting": len(waitlist),
                        "tickets": len(holders),
                        "head": len(confirmed) + 1,
                        "open": [],
                        "claims": [],
                    },
                    "$unset": {"confirmed": "", "waitlist": "", "promotions": ""},
                },
            )
            migrated += 1
        return migrated

"""Seats of capacity-limited categories, free of I/O.

A category with a capacity keeps one ledger document (`SeatLedger`) of counters — places held
as seats, places on the waitlist, tickets handed out — whose size does not grow with the
category. Who holds a place is written on the participant documents: status (confirmed |
waitlisted), category, and `seat_ticket`, the take number that orders the waitlist by arrival.
A place moves between the two documents in steps, each leaving a durable record of what is
under way, so that a crash between any two steps is completed later and counts nothing twice:

    take     the ledger first, in ONE atomic update (a seat when one is free and nobody waits,
             else the end of the waitlist): an *open take*; then the participant is written with
             it (`seat_decided`), and the take is settled (its participant joins the ledger's
             bounded `recent`). A redelivered sign-up finds its open take and gets the same
             answer, or is `recent` and known: never a second place.
    leave    the change that ends a place (a cancellation, a rejection, an erasure, a new
             category) carries a `seat_releases` marker (`with_releases`); the ledger counts the
             place out, once per ticket; the seat goes to the first waiting (promote); then the
             marker is cleared (`released`).
    promote  a seat free while people wait is *claimed* on the ledger for the first waiting
             (lowest ticket); their document is promoted (`promote`, decided by state, so that
             anyone may finish a claim, twice even); the claim is cleared, or undone when they
             left the waitlist meanwhile.
    void     a take never recorded (a sign-up that turned out not to be new, or one that failed
             for good) is fenced on the participant document first (`fence`: that take is never
             recorded there after), then counted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.registration.documents import (
    ALLOCATING,
    ParticipantDocument,
    SeatRelease,
    SeatTake,
)
from services.registration.intake.rules import HOLDS_PLACE, PRODUCER, SeatCause
from shared.contracts.envelope import Cause, Event
from shared.contracts.registration import (
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from shared.decisions import Change, Decision

HOLDS_OR_TAKING = HOLDS_PLACE | {ALLOCATING}


@dataclass(frozen=True)
class Seat:
    """A seat-ledger answer for one participant (no ticket: a category without a capacity)."""

    confirmed: bool
    position: int = 0  # place on the waitlist when not confirmed
    ticket: int | None = None


def seat_of(take: SeatTake) -> Seat:
    """The answer an open take gives: the same on every request of the same person."""
    return Seat(take.seat, take.position, take.ticket)


def voided_key(category: str, ticket: int) -> str:
    return f"{category}:{ticket}"


def seat_decided(
    document: ParticipantDocument | None, seat: Seat, cause: SeatCause, now: datetime
) -> Decision[bool]:
    """Record the ledger's answer on an allocating participant and announce it (result: recorded).

    Nothing for a participant no longer allocating, or for a take fenced off the document (it
    was counted out meanwhile; the use case asks the ledger again).
    """
    if document is None or document.status != ALLOCATING:
        return Decision(False)
    if (
        seat.ticket is not None
        and document.category is not None
        and voided_key(document.category, seat.ticket) in document.voided_seats
    ):
        return Decision(False)
    status = "confirmed" if seat.confirmed else "waitlisted"
    participant = document.updated({"status": status}).snapshot()
    event: Event = (
        RegistrationConfirmed.caused_by(
            cause,
            producer=PRODUCER,
            key=document.category,
            participant=participant,
            submission_id=cause.submission_id,
        )
        if seat.confirmed
        else RegistrationWaitlisted.caused_by(
            cause,
            producer=PRODUCER,
            key=document.category,
            participant=participant,
            position=seat.position,
        )
    )
    return Decision(
        True,
        Change(
            set={"status": status, "seat_ticket": seat.ticket, "updated_at": now}, events=[event]
        ),
    )


def place_of(document: ParticipantDocument | None) -> SeatRelease | None:
    """The place `document` holds or is being given, as a release of it would name it."""
    if document is None or document.category is None:
        return None
    if document.status in HOLDS_PLACE and document.seat_ticket is not None:
        return SeatRelease(
            category=document.category,
            ticket=document.seat_ticket,
            seat=document.status == "confirmed",
        )
    if document.status == ALLOCATING:  # a take may be open for it: the ledger knows which
        return SeatRelease(category=document.category)
    return None  # no place, or one in a category without a capacity (no ticket)


def with_releases(
    before: ParticipantDocument | None, decided: Change | Decision[Any] | None
) -> Change | Decision[Any] | None:
    """`decided`, plus the release marker of the place it ends (if it ends one).

    Applied to every participant rule (`deps.on_participant`), so no rule that ends a place —
    a cancellation, a rejection, an erasure, a new category — can forget to give it back.
    """
    change = decided.change if isinstance(decided, Decision) else decided
    place = place_of(before)
    if change is None or place is None or before is None:
        return decided
    status = change.set.get("status", before.status)
    category = change.set.get("category", before.category)
    if category == before.category and status in HOLDS_OR_TAKING:
        return decided  # the same place (a promotion, a seat recorded, a detail changed)
    at = change.set.get("updated_at")
    marker = place.model_copy(update={"at": at if isinstance(at, datetime) else None})
    pending = [*(before.seat_releases or ()), marker]
    marked = change.then(Change(set={"seat_releases": [entry.model_dump() for entry in pending]}))
    return Decision(decided.result, marked) if isinstance(decided, Decision) else marked


def released(document: ParticipantDocument | None, release: SeatRelease) -> Change | None:
    """The ledger has counted `release` out: the marker goes (None when already gone)."""
    if document is None or not document.seat_releases:
        return None
    remaining = [
        entry
        for entry in document.seat_releases
        if (entry.category, entry.ticket) != (release.category, release.ticket)
    ]
    if len(remaining) == len(document.seat_releases):
        return None
    return Change(
        set={"seat_releases": [entry.model_dump() for entry in remaining] or None},
    )


def holds(document: ParticipantDocument | None, category: str, ticket: int) -> bool:
    """`document` records the place `ticket` of `category` (held, or left and not yet released)."""
    if document is None:
        return False
    if document.category == category and document.seat_ticket == ticket:
        if document.status in HOLDS_PLACE:
            return True
    return any(
        entry.category == category and entry.ticket == ticket
        for entry in document.seat_releases or ()
    )


def fence(
    document: ParticipantDocument | None, category: str, ticket: int, *, keep_allocating: bool
) -> Decision[bool]:
    """Before a take never recorded is counted out: make sure it never will be (result: fenced).

    Not fenced when the document records it, or (`keep_allocating`) when the document is being
    given a place in that category: the use case under way records this very take. A missing
    document is created holding only the fence, so that the sign-up that took it cannot insert
    it later (it goes the general way instead, and asks the ledger again).
    """
    if holds(document, category, ticket):
        return Decision(False)
    if (
        keep_allocating
        and document is not None
        and document.status == ALLOCATING
        and document.category == category
    ):
        return Decision(False)
    key = voided_key(category, ticket)
    voided = list(document.voided_seats) if document is not None else []
    if key in voided:
        return Decision(True)
    return Decision(True, Change(set={"voided_seats": [*voided, key]}))


def promote(
    document: ParticipantDocument | None,
    category: str,
    ticket: int,
    claim_id: str,
    cause: Cause,
    freed_by: str,
    now: datetime,
) -> Decision[bool]:
    """Give the waiting participant holding `ticket` the seat claimed for them (result: they
    have it, by this claim).

    By state, not by a consumed id, so that asking again after a crash gives the same answer:
    True when promoted now or by this very claim before (`promoted_by`), False when they are no
    longer waiting for that place (cancelled, moved on): the claim is undone and the seat goes
    to the next.
    """
    if document is not None and document.promoted_by == claim_id:
        return Decision(True)
    if (
        document is None
        or document.status != "waitlisted"
        or document.category != category
        or document.seat_ticket != ticket
    ):
        return Decision(False)
    return Decision(
        True,
        Change(
            set={"status": "confirmed", "promoted_by": claim_id, "updated_at": now},
            events=[
                RegistrationPromoted.caused_by(
                    cause,
                    producer=PRODUCER,
                    key=document.id,
                    participant=document.updated({"status": "confirmed"}).snapshot(),
                    freed_by=freed_by,
                )
            ],
        ),
    )

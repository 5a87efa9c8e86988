"""Seat use cases of capacity-limited categories: take, give back, release, promote.

The ledger counts places; the participant documents say who holds them (`seats.rules` tells
the whole protocol). Every step here is idempotent and leaves a record of what is under way —
an open take on the ledger, a release marker on the participant, a claim on the ledger — so a
crash between any two steps is completed by whoever comes next: the redelivered message, the
next use case touching the document, or the periodic pass of `seats/reconciler.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from services.registration.deps import Registration, category_of, ledger_id, on_participant
from services.registration.documents import (
    ALLOCATING,
    ParticipantDocument,
    SeatClaim,
    SeatLedger,
)
from services.registration.intake.rules import SeatCause
from services.registration.seats import rules as domain_seats
from services.registration.seats.rules import Seat
from shared.contracts.envelope import Cause
from shared.decisions import Decision
from shared.errors import RetryLater
from shared.persistence.aggregates import UNREAD

log = structlog.get_logger("foro.registration.seats")

GRACE = timedelta(seconds=30)
"""How long an open take or a release marker may wait for the use case that made it before
`seat_reconciler` completes it (or, for a take never recorded, gives the place back). A claim
needs no grace: anyone may finish one."""

PROMOTIONS_PER_FILL = 32
ATTEMPTS = 3
WINDOW, WINDOWS_PER_LOOK = 16, 32  # tickets per index range read, ranges per look


@dataclass(frozen=True)
class ClaimCause:
    """What a promotion is announced as caused by: the claim that gave the seat."""

    event_id: uuid.UUID
    correlation_id: str | None


def capacity_of(deps: Registration, category: str) -> int | None:
    found = deps.pack.category(category)
    return None if found is None else found.capacity


async def take(
    deps: Registration,
    forum_id: str,
    category: str,
    capacity: int,
    participant_id: str,
    *,
    known_ok: bool = False,
) -> tuple[Seat | None, SeatLedger]:
    """A seat or a waitlist place for the participant (the same one on a repeated request
    while it is not recorded), and the ledger after it: ONE round trip. None, when `known_ok`,
    for a participant whose take was recorded lately: they exist, and nothing was taken."""
    ledger = await deps.repository.take_seat(
        ledger_id(forum_id, category), participant_id, capacity, deps.clock(), known_ok=known_ok
    )
    taken = ledger.take_of(participant_id)
    assert taken is not None or known_ok, "the ledger holds the take it just answered"
    return (None if taken is None else domain_seats.seat_of(taken)), ledger


async def recorded(
    deps: Registration, forum_id: str, category: str, seat: Seat, ledger: SeatLedger
) -> None:
    """The participant now records `seat`: the ledger drops its open take with its next write,
    and a seat owed to the waitlist (freed while the take was under way) is given."""
    if seat.ticket is None:
        return
    deps.repository.seats.settle(ledger_id(forum_id, category), seat.ticket)
    capacity = capacity_of(deps, category)
    if capacity is not None and ledger.owes_seats(capacity):
        await fill(deps, category, ledger, freed_by=None, correlation_id=None)


async def allocate(
    deps: Registration, stored: dict[str, Any], cause: SeatCause, now: datetime
) -> None:
    """Give an accepted participant (`stored` as just written, `allocating`) their place."""
    await release_left_places(deps, stored, cause)
    document = ParticipantDocument.model_validate(stored)
    participant_id, category = document.id, document.category
    assert category is not None and document.forum_id is not None  # an accepted participant
    capacity = category_of(deps, category).capacity
    repo = deps.repository
    for _ in range(ATTEMPTS):
        if capacity is None:
            seat, ledger = Seat(True), None
        else:
            taken, ledger = await take(deps, document.forum_id, category, capacity, participant_id)
            assert taken is not None  # asked without `known_ok`
            seat = taken
        # By state, not by a consumed id: recorded once (it ends `allocating`); a refusal
        # writes nothing, so asking again after a crash decides again.
        applied = await repo.participants.apply(
            participant_id,
            None,
            on_participant(partial(_decided, seat=seat, cause=cause, now=now)),
        )
        if applied.result:
            if ledger is not None:
                await recorded(deps, document.forum_id, category, seat, ledger)
            return
        current = ParticipantDocument.read(applied.document)
        if current is None or current.status != ALLOCATING or current.category != category:
            # Moved on meanwhile (seated by an earlier delivery, cancelled, another category):
            # this take goes back, unless the participant records it.
            await give_back(deps, participant_id, category, seat, keep_allocating=False)
            return
        # Still allocating here: the take was given back meanwhile (fenced); ask again.
    raise RetryLater(0.5, reason=f"{participant_id}: its seat was given back {ATTEMPTS} times")


def _decided(
    document: ParticipantDocument | None, *, seat: Seat, cause: SeatCause, now: datetime
) -> Decision[bool]:
    return domain_seats.seat_decided(document, seat, cause, now)


async def give_back(
    deps: Registration, participant_id: str, category: str, seat: Seat, *, keep_allocating: bool
) -> None:
    """A take never recorded on its participant goes back: first fenced on the participant
    document (never recorded there after), then counted out of the ledger, then its seat, if
    it was one, goes to the first waiting. Nothing when the participant records it."""
    if seat.ticket is None:
        return
    ticket = seat.ticket
    fenced = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(
            lambda doc: domain_seats.fence(doc, category, ticket, keep_allocating=keep_allocating)
        ),
    )
    if not fenced.result:
        return
    ledger = await deps.repository.seats.leave(
        ledger_id(deps.pack.forum.id, category), participant_id, ticket, seat.confirmed
    )
    log.info("seat given back", participant_id=participant_id, category=category, ticket=ticket)
    await fill(deps, category, ledger, freed_by=participant_id, correlation_id=None)


async def release_left_places(
    deps: Registration, stored: dict[str, Any] | None, cause: Cause | None
) -> None:
    """Count out every place the participant left (its release markers), give the seat it
    freed to the first waiting, then clear the marker: a crash anywhere before the clear is
    completed by doing it again (counted out once per ticket, promotions by state)."""
    document = ParticipantDocument.read(stored)
    if document is None or not document.seat_releases:
        return
    repo = deps.repository
    correlation = None if cause is None else cause.correlation_id or str(cause.event_id)
    current: dict[str, Any] | None = stored  # as read: saves the marker's write a read
    for release in document.seat_releases:
        capacity = capacity_of(deps, release.category)
        if capacity is not None:
            ledger = await repo.seats.leave(
                ledger_id(deps.pack.forum.id, release.category),
                document.id,
                release.ticket,
                release.seat,
            )
            await fill(
                deps, release.category, ledger, freed_by=document.id, correlation_id=correlation
            )
        await repo.participants.apply(
            document.id,
            None,
            on_participant(partial(domain_seats.released, release=release)),
            current=current if current is not None else UNREAD,
        )
        current = None


async def fill(
    deps: Registration,
    category: str,
    ledger: SeatLedger,
    *,
    freed_by: str | None,
    correlation_id: str | None,
) -> SeatLedger:
    """While a seat is free and people wait, give it to the first waiting (ticket order).

    Each promotion is claimed on the ledger first (the seat counted as theirs), then written on
    their document, then the claim is cleared — or undone, when they left the waitlist
    meanwhile. Stops when the first waiting is not written yet (a sign-up under way: the
    next take, release or reconcile pass comes back) or cannot be found.
    """
    capacity = capacity_of(deps, category)
    if capacity is None:
        return ledger
    repo, forum_id = deps.repository, deps.pack.forum.id
    lid = ledger_id(forum_id, category)
    for claim in ledger.claims:  # any of them may be a crash's: finishing one twice is harmless
        ledger = await finish_claim(deps, category, claim)
    for _ in range(PROMOTIONS_PER_FILL):
        if not ledger.owes_seats(capacity):
            break
        first, ledger = await _first_waiting(deps, category, ledger)
        if first is None:
            break
        assert first.seat_ticket is not None  # a waiting participant holds a ticket
        if await _earlier_under_way(deps, category, ledger, first):
            break
        now = deps.clock()
        claim = SeatClaim(
            id=str(uuid.uuid4()),
            participant_id=first.id,
            ticket=first.seat_ticket,
            freed_by=freed_by or ledger.last_freed,
            correlation_id=correlation_id,
            at=now,
        )
        ledger = await repo.seats.claim(lid, capacity, claim.model_dump())
        if any(held.id == claim.id for held in ledger.claims):
            ledger = await finish_claim(deps, category, claim)
    return ledger


async def _first_waiting(
    deps: Registration, category: str, ledger: SeatLedger
) -> tuple[ParticipantDocument | None, SeatLedger]:
    """The waiting participant with the lowest ticket, looked for from the ledger's `head` a
    window of tickets at a time (bounded index ranges: the cost does not grow with the
    waitlist); the head moves past the windows found empty. None: nobody waiting is written."""
    repo = deps.repository
    lid = ledger_id(deps.pack.forum.id, category)
    skip = [claim.participant_id for claim in ledger.claims]
    start = ledger.head
    found: list[dict[str, Any]] = []
    for _ in range(WINDOWS_PER_LOOK):
        if start > ledger.tickets:
            break
        found = await repo.first_waiting(
            deps.pack.forum.id, category, start=start, skip=skip, window=WINDOW
        )
        if found:
            break
        start += WINDOW
    if start > ledger.head:  # nobody waits in the windows passed (bar those being promoted)
        ledger = await repo.seats.advance(lid, min(start, ledger.tickets + 1))
    return (ParticipantDocument.model_validate(found[0]) if found else None), ledger


async def _earlier_under_way(
    deps: Registration, category: str, ledger: SeatLedger, first: ParticipantDocument
) -> bool:
    """A waitlist take older than `first`'s still being written: the seat is theirs first."""
    assert first.seat_ticket is not None
    earlier = [
        take
        for take in ledger.open
        if not take.seat and take.ticket < first.seat_ticket and take.participant_id != first.id
    ]
    if not earlier:
        return False
    found = await deps.repository.seat_documents([take.participant_id for take in earlier])
    return any(
        not domain_seats.holds(
            ParticipantDocument.read(found.get(take.participant_id)), category, take.ticket
        )
        for take in earlier
    )


async def finish_claim(deps: Registration, category: str, claim: SeatClaim) -> SeatLedger:
    """Promote the participant a claim is for, then clear the claim (undo it if they left)."""
    cause = ClaimCause(uuid.UUID(claim.id), claim.correlation_id)
    now = deps.clock()
    applied = await deps.repository.participants.apply(
        claim.participant_id,
        None,
        on_participant(
            lambda doc: domain_seats.promote(
                doc, category, claim.ticket, claim.id, cause, claim.freed_by or doc_id(doc), now
            )
        ),
    )
    promoted = bool(applied.result)
    if promoted:
        log.info("promoted from the waitlist", participant_id=claim.participant_id)
    return await deps.repository.seats.end_claim(
        ledger_id(deps.pack.forum.id, category), claim.id, undo=not promoted
    )


def doc_id(document: ParticipantDocument | None) -> str:
    return "" if document is None else document.id

"""The seat reconciler: completes, every few seconds, what crashes left of the seat steps
(`seats/handlers.py`), and checks the counters against the participants once a category is quiet.

Each record a step leaves is completed by whoever comes next; this pass is for those nobody
comes back to: a sign-up that failed for good after its take (its open take goes back after
`GRACE`), a secretariat call cut short after writing a release marker, a promotion claim left
by a killed process, a seat freed while its waiter was still being written.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from services.registration.deps import Registration, ledger_id
from services.registration.documents import ParticipantDocument, SeatLedger
from services.registration.seats import rules as domain_seats
from services.registration.seats.handlers import (
    GRACE,
    capacity_of,
    fill,
    give_back,
    release_left_places,
)
from shared.periodic import Periodic

log = structlog.get_logger("foro.registration.seats")


async def reconcile(deps: Registration) -> None:
    """Complete what crashes left on every capacity-limited category (see `reconcile_category`)."""
    for category in deps.pack.categories:
        if category.capacity is not None:
            await reconcile_category(deps, category.code)


async def reconcile_category(deps: Registration, category: str) -> SeatLedger:
    """One pass over a category's seats: an open take recorded on its participant leaves
    `open`, one never recorded goes back after `GRACE`; a release marker older than `GRACE` is
    counted out; claims are finished and owed seats given (`fill`). A seat still free while the
    ledger counts waiters nobody can find, with nothing under way, heals the counters. Returns
    the ledger as the pass found it."""
    repo, forum_id = deps.repository, deps.pack.forum.id
    lid = ledger_id(forum_id, category)
    stale = deps.clock() - GRACE
    found_at_start = ledger = await repo.seats.get(lid)
    if ledger.open:
        found = await repo.seat_documents([take.participant_id for take in ledger.open])
        done = [
            take.ticket
            for take in ledger.open
            if domain_seats.holds(
                ParticipantDocument.read(found.get(take.participant_id)), category, take.ticket
            )
        ]
        if done:
            ledger = await repo.seats.drop_open(lid, done)
        for take in ledger.open:
            if take.ticket not in done and _older(take.at, stale):
                log.warning("an unrecorded seat take goes back", ticket=take.ticket)
                await give_back(
                    deps,
                    take.participant_id,
                    category,
                    domain_seats.seat_of(take),
                    keep_allocating=False,
                )
    for stored in await repo.pending_releases(category):
        document = ParticipantDocument.read(stored)
        if document is not None and any(
            release.category == category and _older(release.at, stale)
            for release in document.seat_releases or ()
        ):
            await release_left_places(deps, stored, None)
    ledger = await fill(
        deps, category, await repo.seats.get(lid), freed_by=None, correlation_id=None
    )
    capacity = capacity_of(deps, category)
    if (
        capacity is not None
        and ledger.owes_seats(capacity)
        and not ledger.open
        and ledger.head > ledger.tickets  # looked through every ticket: nobody is waiting
    ):
        await heal_counters(deps, category)
    return found_at_start


def _older(at: datetime | None, than: datetime) -> bool:
    return at is None or at < than


async def heal_counters(deps: Registration, category: str) -> bool:
    """Set the ledger's counters to the participants' two counts, if they differ and nothing is
    under way: no open take, no claim (checked by the write itself), no release marker (checked
    after counting, so that a place leaving meanwhile is seen). Only a defect or a hand edit
    makes them differ: every crash window is completed by the records above."""
    repo, forum_id = deps.repository, deps.pack.forum.id
    ledger = await repo.seats.get(ledger_id(forum_id, category))
    if ledger.id is None or ledger.open or ledger.claims:
        return False
    seats, waiting = await repo.count_places(forum_id, category)
    if (seats, waiting) == (ledger.seats, ledger.waiting):
        return False
    if await repo.pending_releases(category):
        return False
    healed = await repo.seats.recount(ledger, seats, waiting)
    if healed:
        log.warning(
            "seat counters healed from the participants",
            category=category,
            seats=[ledger.seats, seats],
            waiting=[ledger.waiting, waiting],
        )
        capacity = capacity_of(deps, category)
        after = await repo.seats.get(ledger_id(forum_id, category))
        if capacity is not None and after.owes_seats(capacity):
            await fill(deps, category, after, freed_by=None, correlation_id=None)
    return healed


class SeatReconciler(Periodic):
    """`reconcile` every few seconds. Once per category after start-up, when a pass finds it
    quiet (no take since the previous pass), the counters are also checked against the
    participants (`heal_counters`: two counts that read the category's places, so not while
    sign-ups flow)."""

    name = "seat-reconciler"

    def __init__(self, deps: Registration, interval: float = 5.0) -> None:
        super().__init__(interval)
        self.deps = deps
        self.healed: set[str] = set()
        self._tickets: dict[str, int] = {}

    async def start(self) -> None:
        """Once: a start-up attempt that failed after its hooks ran comes back here."""
        if self._task is None or self._task.done():
            await super().start()

    async def tick(self) -> None:
        for category in self.deps.pack.categories:
            if category.capacity is None:
                continue
            code = category.code
            ledger = await reconcile_category(self.deps, code)
            if code not in self.healed and self._tickets.get(code) == ledger.tickets:
                await heal_counters(self.deps, code)
                self.healed.add(code)
            self._tickets[code] = ledger.tickets

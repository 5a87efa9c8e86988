"""The seat ledger's pipelines on a real server, and the seat use cases over them: counters
that do not grow with the category, every step a crash can interrupt completed once
(services/registration/domain_seats.py tells the protocol)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.registration.deps import Registration, ledger_id, on_participant
from services.registration.intake import handlers
from services.registration.intake.rules import cancel
from services.registration.repository import ParticipantRepository
from services.registration.seats import handlers as seats
from services.registration.seats import reconciler as seat_reconciler
from services.registration.seats.handlers import GRACE
from shared.contracts.envelope import derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.integration.registration.conftest import today_at_venue
from tests.support.factories import FORUM_ID, cancel_request, signup

CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories
LEDGER = ledger_id(FORUM_ID, "civil_society")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seats:
    deps: Registration
    repository: ParticipantRepository
    clock: Clock

    def later(self) -> None:
        self.clock.now += GRACE + timedelta(seconds=1)

    async def places(self) -> tuple[int, int]:
        ledger = await self.repository.seats.get(LEDGER)
        return ledger.seats, ledger.waiting

    async def status(self, participant_id: str) -> str | None:
        found = await self.repository.get(participant_id)
        return None if found is None else found["status"]

    async def promoted(self) -> list[str]:
        cursor = self.repository.collection.find({"outbox.type": "registration.promoted"})
        return [
            entry["body"]["participant"]["participant_id"]
            for document in await cursor.to_list()
            for entry in document["outbox"]
            if entry["type"] == "registration.promoted"
        ]


@pytest.fixture
def capacity() -> int:
    return 2


@pytest.fixture
async def service(mongo_url: str, namespace: str, capacity: int) -> AsyncIterator[Seats]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    database = client[f"seats_{namespace}"]
    repository = ParticipantRepository(database)
    await repository.ensure_indexes()
    clock = Clock()
    pack = load_pack(
        overrides={
            "forum.start_date": today_at_venue().isoformat(),
            f"categories[{CIVIL_SOCIETY}].capacity": capacity,
        }
    )
    try:
        yield Seats(Registration(pack, repository, clock), repository, clock)
    finally:
        await client.drop_database(database.name)
        await client.close()


def submission(**overrides: Any) -> RegistrationSubmitted:
    return RegistrationSubmitted.model_validate(signup(**overrides))


def cancellation(participant_id: str) -> RegistrationCancelRequested:
    return RegistrationCancelRequested.model_validate(cancel_request(participant_id))


async def test_take_gives_the_free_seats_then_the_waitlist_and_a_repeat_the_same_answer(
    service: Seats,
) -> None:
    ledgers, now = service.repository.seats, service.clock.now
    answers = []
    for pid in ("a", "b", "c", "a", "d"):
        ledger = await ledgers.take(LEDGER, pid, 2, now)
        take = ledger.take_of(pid)
        assert take is not None
        answers.append((pid, take.ticket, take.seat, take.position))
    assert answers == [
        ("a", 1, True, 0),
        ("b", 2, True, 0),
        ("c", 3, False, 1),
        ("a", 1, True, 0),  # an open take answers again: no second place
        ("d", 4, False, 2),
    ]
    assert (ledger.seats, ledger.waiting, ledger.tickets) == (2, 2, 4)

    # Recorded on their participants: the next write drops them from `open`.
    for ticket in (1, 2, 3):
        ledgers.settle(LEDGER, ticket)
    ledger = await ledgers.take(LEDGER, "e", 2, now)
    assert [take.participant_id for take in ledger.open] == ["d", "e"]
    stored = await ledgers.collection.find_one({"_id": LEDGER})
    assert stored["recent"] == ["a", "b", "c"]
    fields = {"_id", "seats", "waiting", "tickets", "head", "open", "recent", "processed", "claims"}
    assert set(stored) <= fields
    # Recorded lately: a sign-up of theirs is known (nothing taken), unless asked without it.
    ledger = await ledgers.take(LEDGER, "b", 2, now, known_ok=True)
    assert ledger.take_of("b") is None and ledger.tickets == 5
    ledger = await ledgers.take(LEDGER, "b", 2, now)
    assert ledger.take_of("b") is not None and ledger.tickets == 6


async def test_a_place_is_counted_out_once_per_ticket(service: Seats) -> None:
    ledgers, now = service.repository.seats, service.clock.now
    for pid in ("a", "b", "c"):
        await ledgers.take(LEDGER, pid, 1, now)
    for ticket in (1, 2):
        ledgers.settle(LEDGER, ticket)
    for _ in range(2):  # a seat recorded on its participant, released twice
        ledger = await ledgers.leave(LEDGER, "a", 1, True)
    assert (ledger.seats, ledger.waiting, ledger.last_freed) == (0, 2, "a")
    # A take never recorded is found by participant; its kind is the ledger's.
    for _ in range(2):
        ledger = await ledgers.leave(LEDGER, "c", None, None)
    assert (ledger.seats, ledger.waiting, [t.participant_id for t in ledger.open]) == (0, 1, [])


async def test_a_claim_counts_a_free_seat_once_for_its_participant_and_can_be_undone(
    service: Seats,
) -> None:
    ledgers, now = service.repository.seats, service.clock.now
    for pid in ("a", "b", "c"):
        await ledgers.take(LEDGER, pid, 1, now)
    await ledgers.leave(LEDGER, "a", 1, True)
    first = {"id": "k1", "participant_id": "b", "ticket": 2, "at": now}
    second = {"id": "k2", "participant_id": "b", "ticket": 2, "at": now}
    ledger = await ledgers.claim(LEDGER, 1, first)
    assert (ledger.seats, ledger.waiting, [c.id for c in ledger.claims]) == (1, 1, ["k1"])
    ledger = await ledgers.claim(LEDGER, 1, second)  # no seat free: nothing
    assert [c.id for c in ledger.claims] == ["k1"]
    ledger = await ledgers.end_claim(LEDGER, "k1", undo=True)
    assert (ledger.seats, ledger.waiting, ledger.claims) == (0, 2, ())
    ledger = await ledgers.end_claim(LEDGER, "k1", undo=True)  # once
    assert (ledger.seats, ledger.waiting) == (0, 2)


async def test_the_waitlist_head_follows_its_first_waiting_but_never_passes_one_being_written(
    service: Seats,
) -> None:
    ledgers, now = service.repository.seats, service.clock.now
    for pid in ("a", "b", "c", "d"):
        ledger = await ledgers.take(LEDGER, pid, 1, now)
    assert ledger.head == 2  # "b" started the waitlist
    ledger = await ledgers.claim(LEDGER, 1, {"id": "k", "participant_id": "b", "ticket": 2})
    assert ledger.head == 2  # no seat free: no claim, the head stays
    await ledgers.leave(LEDGER, "a", 1, True)
    ledger = await ledgers.claim(LEDGER, 1, {"id": "k", "participant_id": "b", "ticket": 2})
    assert ledger.head == 3
    ledger = await ledgers.advance(LEDGER, 100)  # "c" (3) is still open: not past it
    assert ledger.head == 3
    for ticket in (2, 3, 4):
        ledgers.settle(LEDGER, ticket)
    ledger = await ledgers.advance(LEDGER, 100)
    assert ledger.head == 100


async def test_the_first_waiting_is_found_past_a_long_run_of_people_who_left(
    service: Seats,
) -> None:
    seated = await handlers.register_submission(submission(), service.deps)
    await handlers.register_submission(submission(), service.deps)
    waiting = [await handlers.register_submission(submission(), service.deps) for _ in range(40)]
    for participant_id in waiting[:35]:  # more than two windows of tickets, all gone
        await handlers.cancel_registration(cancellation(participant_id), service.deps)
    await handlers.cancel_registration(cancellation(seated), service.deps)
    assert await service.promoted() == [waiting[35]]
    assert await service.places() == (2, 4)


async def test_counters_are_recounted_only_when_nothing_is_under_way(service: Seats) -> None:
    ledgers, now = service.repository.seats, service.clock.now
    await ledgers.take(LEDGER, "a", 2, now)
    seen = await ledgers.get(LEDGER)
    assert not await ledgers.recount(seen, 0, 0)  # an open take
    ledger = await ledgers.drop_open(LEDGER, [1])
    await ledgers.take(LEDGER, "b", 2, now)
    assert not await ledgers.recount(ledger, 0, 0)  # taken since it was read
    ledger = await ledgers.drop_open(LEDGER, [2])
    assert await ledgers.recount(ledger, 1, 0)
    assert (await service.places()) == (1, 0)


async def test_a_ledger_of_an_earlier_release_becomes_counters_and_its_holders_get_tickets(
    service: Seats,
) -> None:
    people = [str(uuid.uuid4()) for _ in range(4)]
    await service.repository.collection.insert_many(
        [
            {
                "_id": pid,
                "forum_id": FORUM_ID,
                "category": "civil_society",
                "email": f"{pid}@example.org",
                "submission_ids": [pid],
            }
            for pid in people
        ]
    )
    await service.repository.seats.collection.insert_one(
        {"_id": LEDGER, "confirmed": people[:2], "waitlist": people[2:], "promotions": {}}
    )
    assert await service.repository.seats.migrate(service.repository.collection) == 1
    assert await service.repository.seats.migrate(service.repository.collection) == 0
    ledger = await service.repository.seats.get(LEDGER)
    assert (ledger.seats, ledger.waiting, ledger.tickets) == (2, 2, 4)
    tickets = {d["_id"]: d["seat_ticket"] async for d in service.repository.collection.find({})}
    assert [tickets[pid] for pid in people] == [1, 2, 3, 4]


async def test_a_take_whose_sign_up_never_comes_is_given_back_and_its_seat_promoted(
    service: Seats,
) -> None:
    lost = submission()
    lost_id = str(derive_id(FORUM_ID, lost.email))
    await seats.take(service.deps, FORUM_ID, "civil_society", 2, lost_id)  # then the crash
    first = await handlers.register_submission(submission(), service.deps)
    waiting = await handlers.register_submission(submission(), service.deps)
    assert await service.status(waiting) == "waitlisted"

    await seat_reconciler.reconcile(service.deps)
    assert await service.places() == (2, 1)  # within the grace: maybe still under way
    service.later()
    await seat_reconciler.reconcile(service.deps)
    assert (await service.status(first), await service.status(waiting)) == (
        "confirmed",
        "confirmed",
    )
    assert await service.promoted() == [waiting]
    assert await service.places() == (2, 0)

    # The lost sign-up comes back after all: it cannot record its old take, and asks again.
    assert await handlers.register_submission(lost, service.deps) == lost_id
    assert await service.status(lost_id) == "waitlisted"
    assert await service.places() == (2, 1)


async def test_a_release_a_crash_interrupted_is_completed_once_by_its_redelivery(
    service: Seats,
) -> None:
    seated = [await handlers.register_submission(submission(), service.deps) for _ in range(2)]
    waiting = await handlers.register_submission(submission(), service.deps)
    request = cancellation(seated[0])
    await service.repository.participants.apply(  # written with its marker; then the crash
        seated[0],
        str(request.event_id),
        on_participant(lambda doc: cancel(doc, request, service.clock.now)),
    )
    assert await service.places() == (2, 1)
    for _ in range(2):
        await handlers.cancel_registration(request, service.deps)
    assert await service.status(waiting) == "confirmed"
    assert await service.promoted() == [waiting]
    assert await service.places() == (2, 0)


@pytest.mark.parametrize("capacity", [5])
async def test_concurrent_sign_ups_and_cancellations_keep_the_counters_true_and_the_order(
    service: Seats, capacity: int
) -> None:
    """40 sign-ups at once; 12 of them cancel at once; then 10 more sign up while 6 more
    cancel (each cancellation delivered twice): never more than 5 seated, promotions in ticket
    order, each once, and the ledger counting exactly what the participants say."""
    people = await asyncio.gather(
        *(handlers.register_submission(submission(), service.deps) for _ in range(40))
    )
    assert await service.places() == (5, 35)
    chance = random.Random(11)
    leaving = chance.sample(people, 12)
    requests = [cancellation(pid) for pid in leaving]
    await asyncio.gather(
        *(handlers.cancel_registration(r, service.deps) for r in requests + requests)
    )
    # Then sign-ups and cancellations (of seated and waiting people) racing one another.
    staying = [pid for pid in people if pid not in leaving]
    more = [cancellation(pid) for pid in chance.sample(staying, 6)]
    await asyncio.gather(
        *(handlers.register_submission(submission(), service.deps) for _ in range(10)),
        *(handlers.cancel_registration(r, service.deps) for r in more + more),
    )
    await seat_reconciler.reconcile(service.deps)

    documents = await service.repository.collection.find({"status": {"$exists": True}}).to_list()
    by_status: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_status.setdefault(document["status"], []).append(document)
    assert len(by_status["confirmed"]) == 5
    assert len(by_status["cancelled"]) == 18
    assert await service.places() == (5, len(by_status["waitlisted"]))
    # FIFO: everyone still waiting came after everyone seated.
    assert max(d["seat_ticket"] for d in by_status["confirmed"]) < min(
        d["seat_ticket"] for d in by_status["waitlisted"]
    )
    promoted = await service.promoted()
    assert len(promoted) == len(set(promoted))
    ledger = await service.repository.seats.get(LEDGER)
    assert ledger.claims == ()
    assert not await service.repository.pending_releases("civil_society")


async def test_a_release_nobody_repeats_is_completed_by_the_reconciler_after_the_grace(
    service: Seats,
) -> None:
    seated = [await handlers.register_submission(submission(), service.deps) for _ in range(2)]
    waiting = await handlers.register_submission(submission(), service.deps)
    request = cancellation(seated[1])
    await service.repository.participants.apply(  # a secretariat call that died half-way
        seated[1],
        str(request.event_id),
        on_participant(lambda doc: cancel(doc, request, service.clock.now)),
    )
    await seat_reconciler.reconcile(service.deps)
    assert await service.status(waiting) == "waitlisted"  # within the grace
    service.later()
    await seat_reconciler.reconcile(service.deps)
    assert await service.status(waiting) == "confirmed"
    assert await service.places() == (2, 0)
    assert not await service.repository.pending_releases("civil_society")

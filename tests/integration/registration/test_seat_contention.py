"""One hot document: many sign-ups of one category at once take its seats without retries, and
what a place costs does not grow with the places the category holds."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.registration.deps import Registration, ledger_id
from services.registration.intake.handlers import cancel_registration
from services.registration.repository import ParticipantRepository
from shared.contracts.registration import RegistrationCancelRequested
from shared.pack import load_pack
from tests.integration.registration.conftest import RunningRegistration, today_at_venue
from tests.support.bus import dead_letters, eventually, handled
from tests.support.factories import FORUM_ID, cancel_request, signup

# The calls a sign-up could make on the ledger: each is one round trip to the database.
LEDGER_ROUND_TRIPS = frozenset({"find_one", "find_one_and_update", "update_one", "insert_one"})

CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories
CAPACITY = 5
SIGN_UPS = 50


class CountedCollection:
    """A collection that counts the round trips made through it, and is otherwise the same."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name in LEDGER_ROUND_TRIPS:
            self.calls[name] += 1
        return getattr(self._inner, name)


@pytest.fixture
def pack_overrides() -> dict[str, int]:
    return {f"categories[{CIVIL_SOCIETY}].capacity": CAPACITY}


async def test_fifty_concurrent_sign_ups_for_five_seats_confirm_five_and_waitlist_the_rest_without_retries(
    registration: RunningRegistration,
) -> None:
    assert registration.deps.pack.categories[CIVIL_SOCIETY].code == "civil_society"
    assert registration.runtime.settings.prefetch >= 16  # handled concurrently, not one by one
    ledgers = registration.deps.repository.ledgers
    ledger = ledgers.collection = CountedCollection(ledgers.collection)
    people = [signup(category="civil_society") for _ in range(SIGN_UPS)]
    await asyncio.gather(*(registration.send(json.dumps(person).encode()) for person in people))

    async def all_decided() -> bool:
        decided = await registration.deps.repository.collection.count_documents(
            {"status": {"$in": ["confirmed", "waitlisted"]}}
        )
        return decided == SIGN_UPS

    await eventually(all_decided, timeout=60, what=f"{SIGN_UPS} seat decisions")

    # Publishing is at least once (a relay retry may publish an event twice): count events by id.
    def unique(event_type: str) -> list[dict]:
        return list({e["event_id"]: e for e in registration.tap.of_type(event_type)}.values())

    async def all_published() -> bool:
        await registration.tap.drain()
        return (len(unique("registration.waitlisted")), len(unique("registration.confirmed"))) == (
            SIGN_UPS - CAPACITY,
            CAPACITY,
        )

    await eventually(all_published, timeout=30, what="every seat decision published")
    waitlisted, confirmed = unique("registration.waitlisted"), unique("registration.confirmed")
    assert len({event["participant"]["participant_id"] for event in waitlisted}) == len(waitlisted)
    statuses = [p["status"] for p in await registration.participants()]
    assert statuses.count("confirmed") == CAPACITY  # the capacity is never exceeded
    assert statuses.count("waitlisted") == SIGN_UPS - CAPACITY
    assert len(confirmed) == CAPACITY
    assert sorted(event["position"] for event in waitlisted) == list(
        range(1, SIGN_UPS - CAPACITY + 1)
    )
    assert handled(registration.submitted_queue, "retry") == 0
    assert handled(registration.submitted_queue, "ok") == SIGN_UPS
    # One atomic update each, no read-decide-write; a sign-up that raced the ledger's creation
    # may ask twice. (The seat reconciler's periodic reads are not the sign-ups'.)
    assert set(ledger.calls) <= {"find_one_and_update", "find_one"}
    assert (
        SIGN_UPS
        <= ledger.calls["find_one_and_update"]
        <= SIGN_UPS + registration.runtime.settings.prefetch
    )
    assert await dead_letters(registration.amqp, registration.submitted_queue) == []


# --- the cost of a place does not grow with the category ---------------------------------------

SIZES = (0, 40, 1_000, 10_000)  # 40: the smallest category with a release in every round
TAKES, RELEASES, ROUNDS = 30, 4, 4


def stored_participant(n: int, status: str, ticket: int) -> dict[str, Any]:
    """A participant of civil_society as registration leaves one: details, badge, processed."""
    pid = str(uuid.uuid4())
    return {
        "_id": pid,
        "forum_id": FORUM_ID,
        "email": f"held.{n}.{pid[:8]}@example.org",
        "submission_ids": [f"held-{pid}"],
        "given_name": "Ana",
        "family_name": f"López {n}",
        "country": "SV",
        "language": "es",
        "consents": {"privacy_policy": True, "listed_publicly": True},
        "answers": {},
        "category": "civil_society",
        "status": status,
        "seat_ticket": ticket,
        "created_at": datetime.now(UTC),
        "badge": {"token_id": f"tok-{uuid.uuid4().hex}"} if status == "confirmed" else None,
        "version": 1,
        "processed": [str(uuid.uuid4())],
        "outbox": [],
    }


async def category_of_size(
    mongo_url: str, namespace: str, size: int
) -> tuple[Registration, AsyncMongoClient[dict[str, Any]]]:
    """A registration database whose civil_society holds `size` places: half seats (its
    capacity), half waiting, their ledger as the seat use cases leave it."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, journal=True)
    repository = ParticipantRepository(client[f"cost_{namespace}_{size}"])
    await repository.ensure_indexes()
    capacity = max(size // 2, 1)
    # Tickets 1-64 were held by people who left since (counted out: `processed`).
    gone = 64 if size else 0
    people = [
        stored_participant(n, "confirmed" if n < capacity else "waitlisted", gone + n + 1)
        for n in range(size)
    ]
    for start in range(0, size, 1000):
        await repository.collection.insert_many(people[start : start + 1000])
    seated = min(size, capacity)
    await repository.seats.collection.insert_one(
        {
            "_id": ledger_id(FORUM_ID, "civil_society"),
            "seats": seated,
            "waiting": size - seated,
            "tickets": gone + size,
            "head": gone + capacity + 1,  # the first waiting's ticket
            "open": [],
            "claims": [],
            # The last participants recorded and tickets counted out (both bounded).
            "recent": [person["_id"] for person in people[-64:]],
            "processed": [f"x{ticket}" for ticket in range(1, gone + 1)],
        }
    )
    pack = load_pack(
        overrides={
            "forum.start_date": today_at_venue().isoformat(),
            f"categories[{CIVIL_SOCIETY}].capacity": capacity,
        }
    )
    return Registration(pack, repository), client


async def take_cost(deps: Registration) -> float:
    """ms per take, each recorded (settled by the next one), as sign-ups do."""
    lid = ledger_id(FORUM_ID, "civil_society")
    capacity = deps.pack.categories[CIVIL_SOCIETY].capacity
    assert capacity is not None
    started = time.perf_counter()
    for _ in range(TAKES):
        pid = str(uuid.uuid4())
        ledger = await deps.repository.take_seat(lid, pid, capacity, datetime.now(UTC))
        taken = ledger.take_of(pid)
        assert taken is not None
        deps.repository.seats.settle(lid, taken.ticket)
    return (time.perf_counter() - started) / TAKES * 1000


async def release_cost(deps: Registration) -> float:
    """ms per release of a seat (with its promotion of the first waiting, when one waits)."""
    seated = await deps.repository.collection.find(
        {"status": "confirmed", "category": "civil_society"}, {"_id": 1}, limit=RELEASES
    ).to_list()
    started = time.perf_counter()
    for document in seated:
        request = RegistrationCancelRequested.model_validate(cancel_request(document["_id"]))
        await cancel_registration(request, deps)
    elapsed = time.perf_counter() - started
    # Each freed seat went to the first waiting: the seats stay full.
    ledger = await deps.repository.seats.get(ledger_id(FORUM_ID, "civil_society"))
    assert ledger.seats == deps.pack.categories[CIVIL_SOCIETY].capacity, ledger
    return elapsed / max(len(seated), 1) * 1000


async def test_taking_and_releasing_a_place_costs_the_same_with_0_1000_and_10000_in_the_category(
    mongo_url: str, namespace: str
) -> None:
    """Issue 11's hot document: a place's cost must not grow with the places held (at most
    1.5× the cost in an empty category; a release against the smallest category that has one).
    Rounds interleave the sizes, and the best round of each counts (the machine is shared)."""
    categories = {size: await category_of_size(mongo_url, namespace, size) for size in SIZES}
    try:
        takes: dict[int, list[float]] = {size: [] for size in SIZES}
        releases: dict[int, list[float]] = {size: [] for size in SIZES}
        for _ in range(ROUNDS):
            for size, (deps, _) in categories.items():
                takes[size].append(await take_cost(deps))
                if size:
                    releases[size].append(await release_cost(deps))
        take = {size: min(values) for size, values in takes.items()}
        release = {size: min(values) for size, values in releases.items() if size}
        print(
            "\nseat cost, ms (best of rounds): "
            + "; ".join(
                f"{size:,} in the category: take {take[size]:.2f}"
                + (f", release {release[size]:.2f}" if size in release else "")
                for size in SIZES
            )
        )
        for size in (1_000, 10_000):
            assert take[size] <= 1.5 * take[0], take
            # (A release frees a seat and promotes the first waiting.)
            assert release[size] <= 1.5 * release[40], release
    finally:
        for deps, client in categories.values():
            await client.drop_database(deps.repository.collection.database.name)
            await client.close()

"""One hot document: many sign-ups of one category at once take its seats without retries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.integration.registration.conftest import RunningRegistration
from tests.support.bus import dead_letters, eventually, handled
from tests.support.factories import signup

# The calls a sign-up could make on the ledger: each is one round trip to the database.
LEDGER_ROUND_TRIPS = frozenset({"find_one", "find_one_and_update", "update_one", "insert_one"})

CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories
CAPACITY = 5
SIGN_UPS = 50


class CountedCollection:
    """A collection that counts the round trips made through it, and is otherwise the same."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.round_trips = 0

    def __getattr__(self, name: str) -> Any:
        if name in LEDGER_ROUND_TRIPS:
            self.round_trips += 1
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
    # One atomic update each, no read; a sign-up that raced the ledger's creation may ask twice.
    assert SIGN_UPS <= ledger.round_trips <= SIGN_UPS + registration.runtime.settings.prefetch
    assert await dead_letters(registration.amqp, registration.submitted_queue) == []

"""Capacity per category, the waitlist, and promotion when a confirmed participant cancels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.registration.conftest import RunningRegistration
from tests.support.bus import dead_letters, eventually, handled_at_least
from tests.support.factories import cancel_request, signup

CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories


@pytest.fixture
def pack_overrides() -> dict[str, int]:
    return {f"categories[{CIVIL_SOCIETY}].capacity": 2}


async def test_full_category_waitlists_and_a_cancellation_promotes_the_first_waiting_exactly_once(
    registration: RunningRegistration,
) -> None:
    assert registration.deps.pack.categories[CIVIL_SOCIETY].code == "civil_society"
    people = [signup(given_name=name) for name in ("Ana", "Beto", "Carla", "Dora")]
    for person in people:  # one at a time, so the order of arrival is the order on the waitlist
        await registration.send(json.dumps(person).encode())
        await eventually(
            lambda email=person["email"]: _has_status(registration, email), what="a seat decision"
        )

    confirmed = await registration.tap.wait_for("registration.confirmed", 2)
    waitlisted = await registration.tap.wait_for("registration.waitlisted", 2)
    assert [e["participant"]["email"] for e in confirmed] == [
        people[0]["email"],
        people[1]["email"],
    ]
    assert [(e["participant"]["email"], e["position"]) for e in waitlisted] == [
        (people[2]["email"], 1),
        (people[3]["email"], 2),
    ]

    first = confirmed[0]["participant"]["participant_id"]
    cancellation = json.dumps(cancel_request(first, reason="Cambio de agenda")).encode()
    for _ in range(3):
        await registration.send(cancellation, routing_key="registration.cancel_requested")
    await handled_at_least(registration.cancel_queue, 3)
    await eventually(lambda: _outbox_empty(registration), what="outbox published")
    await registration.tap.drain()

    assert len(registration.tap.of_type("registration.cancelled")) == 1
    promoted = registration.tap.of_type("registration.promoted")
    assert [p["participant"]["email"] for p in promoted] == [people[2]["email"]]
    assert promoted[0]["freed_by"] == first
    statuses = {p["email"]: p["status"] for p in await registration.participants()}
    assert statuses == {
        people[0]["email"]: "cancelled",
        people[1]["email"]: "confirmed",
        people[2]["email"]: "confirmed",
        people[3]["email"]: "waitlisted",
    }


async def test_cancelling_someone_on_the_waitlist_promotes_nobody(
    registration: RunningRegistration,
) -> None:
    people = [signup() for _ in range(3)]
    for person in people:
        await registration.send(json.dumps(person).encode())
        await eventually(
            lambda email=person["email"]: _has_status(registration, email), what="a seat decision"
        )
    waiting = (await registration.tap.wait_for("registration.waitlisted"))[0]["participant"][
        "participant_id"
    ]

    await registration.send(
        json.dumps(cancel_request(waiting)).encode(), routing_key="registration.cancel_requested"
    )
    await registration.tap.wait_for("registration.cancelled")
    await eventually(lambda: _outbox_empty(registration), what="outbox published")
    await registration.tap.drain()

    assert registration.tap.of_type("registration.promoted") == []


async def _has_status(registration: RunningRegistration, email: str) -> bool:
    found = await registration.participants(email=email)
    return bool(found) and found[0]["status"] in {"confirmed", "waitlisted"}


async def _outbox_empty(registration: RunningRegistration) -> bool:
    return (
        await registration.deps.repository.collection.count_documents({"outbox_pending": True}) == 0
    )


async def test_a_cancellation_that_overtakes_its_sign_up_is_parked_and_completed_when_it_arrives(
    registration: RunningRegistration,
) -> None:
    """Events race: the form's cancel can reach foro before the sign-up it cancels. It is kept,
    not dead-lettered, and the sign-up completes it: one cancellation, the seat free again."""
    now = datetime.now(UTC)
    person = signup(category="civil_society", occurred_at=(now - timedelta(minutes=5)).isoformat())
    cancellation = cancel_request(None, email=person["email"].upper(), occurred_at=now.isoformat())
    del cancellation["participant_id"]
    for _ in range(2):
        await registration.send(
            json.dumps(cancellation).encode(), routing_key="registration.cancel_requested"
        )
    await handled_at_least(registration.cancel_queue, 2)
    for _ in range(2):
        await registration.send(json.dumps(person).encode())
    await registration.tap.wait_for("registration.cancelled")
    await eventually(lambda: _outbox_empty(registration), what="outbox published")

    # The seat it held is free: two more people of the category (capacity 2) are both confirmed.
    others = [signup(category="civil_society") for _ in range(2)]
    for other in others:
        await registration.send(json.dumps(other).encode())
    await registration.tap.wait_for("registration.confirmed", 3)
    await eventually(lambda: _outbox_empty(registration), what="outbox published")
    await registration.tap.drain()

    assert len(registration.tap.of_type("registration.cancelled")) == 1
    statuses = {p["email"]: p["status"] for p in await registration.participants()}
    assert statuses == {
        person["email"]: "cancelled",
        others[0]["email"]: "confirmed",
        others[1]["email"]: "confirmed",
    }
    parked = {"parked_cancellation": {"$ne": None}}
    assert await registration.deps.repository.collection.count_documents(parked) == 0
    assert await dead_letters(registration.amqp, registration.cancel_queue) == []

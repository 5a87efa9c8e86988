"""Scheduling's and registration's events reach expo on separate queues and race: whatever order
they arrive in, each delivered twice, expo ends in the state the order they happened in gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts.envelope import Event
from shared.contracts.registration import BadgeIssued, ParticipantErased
from shared.contracts.scheduling import (
    AffectedPerson,
    LocalizedText,
    SessionCancelled,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    Slot,
)
from shared.pack import load_pack
from tests.integration.expo.conftest import RunningExpo, confirmation
from tests.support.bus import handled, handled_at_least

PACK = load_pack()
TZ = PACK.forum.tz
DAY_ONE = PACK.forum.dates[0]
TITLE = LocalizedText(es="El Fenómeno Migratorio", en="The migration phenomenon")
QUEUE_OF = {
    "session.signup_confirmed": "session-signup-confirmed",
    "session.signup_cancelled": "session-signup-cancelled",
    "session.rescheduled": "session-rescheduled",
    "session.cancelled": "session-cancelled",
    "registration.confirmed": "registration-confirmed",
    "participant.erased": "participant-erased",
    "badge.issued": "badge-issued",
}


def local(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY_ONE, datetime.min.time(), TZ).replace(hour=hour, minute=minute)


def slot(hour: int) -> Slot:
    return Slot(
        starts_at=local(hour),
        ends_at=local(hour + 1),
        time_zone=PACK.forum.time_zone,
        room="plenary",
    )


def when(minute: int) -> datetime:
    return datetime(2004, 11, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minute)


def signup(
    pid: str, minute: int, code: str = "B1.1", hour: int = 10, cancelled: bool = False
) -> Event:
    if cancelled:
        return SessionSignupCancelled(
            producer="scheduling",
            forum_id=PACK.forum.id,
            session_code=code,
            participant_id=pid,
            title=TITLE,
            slot=slot(hour),
            was="confirmed",
            occurred_at=when(minute),
        )
    return SessionSignupConfirmed(
        producer="scheduling",
        forum_id=PACK.forum.id,
        session_code=code,
        participant_id=pid,
        title=TITLE,
        slot=slot(hour),
        occurred_at=when(minute),
    )


def session_moved(pid: str, minute: int, code: str = "B1.1", to_hour: int = 15) -> Event:
    return SessionRescheduled(
        producer="scheduling",
        forum_id=PACK.forum.id,
        release=2,
        session_code=code,
        title=TITLE,
        previous=slot(10),
        current=slot(to_hour),
        occurred_at=when(minute),
        affected=[AffectedPerson(relation="attendee", participant_id=pid)],
    )


def session_cancelled(pid: str, minute: int, code: str = "B1.1") -> Event:
    return SessionCancelled(
        producer="scheduling",
        forum_id=PACK.forum.id,
        release=2,
        session_code=code,
        title=TITLE,
        previous=slot(10),
        occurred_at=when(minute),
        affected=[AffectedPerson(relation="attendee", participant_id=pid)],
    )


async def deliver_twice(expo: RunningExpo, *events: Event) -> None:
    """Each event twice, one after the other is handled (the order is the test's, not the broker's)."""
    for event in events:
        queue = expo.runtime.topology.queue_name("expo", QUEUE_OF[event.event_type])
        before = handled(queue)
        await expo.publish(event)
        await expo.publish(event)
        await handled_at_least(queue, before + 2)


async def session_holds(expo: RunningExpo, pid: str) -> list[tuple[str, datetime, datetime]]:
    calendar = await expo.deps.repository.calendars.get(f"participant:{pid}") or {}
    return sorted(
        (h["id"], h["starts_at"], h["ends_at"])
        for h in calendar.get("holds", [])
        if h["kind"] == "session"
    )


async def both_orders(expo: RunningExpo, history: Any) -> tuple[list, list]:
    """The holds after `history(pid)` delivered in the order it happened, and reversed."""
    right, wrong = str(uuid.uuid4()), str(uuid.uuid4())
    await deliver_twice(expo, *history(right))
    await deliver_twice(expo, *reversed(history(wrong)))
    return await session_holds(expo, right), await session_holds(expo, wrong)


async def test_a_cancellation_that_overtakes_its_sign_up_leaves_the_participant_free(
    expo: RunningExpo,
) -> None:
    right, wrong = await both_orders(
        expo, lambda pid: [signup(pid, 1), signup(pid, 2, cancelled=True)]
    )
    assert right == wrong == []


async def test_a_reschedule_that_overtakes_the_sign_up_keeps_the_new_time(
    expo: RunningExpo,
) -> None:
    right, wrong = await both_orders(expo, lambda pid: [signup(pid, 1), session_moved(pid, 2)])
    assert right == wrong == [("session:B1.1", local(15), local(16))]


async def test_a_session_cancelled_before_the_sign_up_arrives_holds_nobody(
    expo: RunningExpo,
) -> None:
    right, wrong = await both_orders(expo, lambda pid: [signup(pid, 1), session_cancelled(pid, 2)])
    assert right == wrong == []


async def test_signing_up_again_after_giving_up_holds_the_seat_in_any_order(
    expo: RunningExpo,
) -> None:
    right, wrong = await both_orders(
        expo, lambda pid: [signup(pid, 1), signup(pid, 2, cancelled=True), signup(pid, 3, hour=11)]
    )
    assert right == wrong == [("session:B1.1", local(11), local(12))]


async def test_an_erasure_that_overtakes_the_confirmation_ends_in_the_same_attendee(
    expo: RunningExpo,
) -> None:
    def history(pid: str) -> list[Event]:
        return [
            confirmation(pid, occurred_at=when(1)),
            BadgeIssued(
                producer="registration",
                forum_id=PACK.forum.id,
                participant_id=pid,
                token_id=f"tok-{uuid.uuid4().hex[:12]}",
                category="emigrant_association",
                occurred_at=when(2),
            ),
            ParticipantErased(
                producer="registration",
                forum_id=PACK.forum.id,
                participant_id=pid,
                category="emigrant_association",
                country="US",
                previous_status="confirmed",
                occurred_at=when(3),
            ),
        ]

    right, wrong = str(uuid.uuid4()), str(uuid.uuid4())
    await deliver_twice(expo, *history(right))
    await deliver_twice(expo, *reversed(history(wrong)))
    kept = (
        "forum_id",
        "category",
        "language",
        "status",
        "consents",
        "tokens",
        "erased",
        "erased_at",
        "given_name",
        "family_name",
        "email",
        "phone",
        "organisation",
        "job_title",
        "country",
    )
    documents = [await expo.deps.repository.attendee(pid) for pid in (right, wrong)]
    right_doc, wrong_doc = ({name: doc.get(name) for name in kept} for doc in documents)
    assert right_doc == wrong_doc
    assert right_doc["erased"] and right_doc["email"] is None and right_doc["tokens"] == []
    assert right_doc["status"] == "confirmed"  # counts survive the erasure, whichever came first

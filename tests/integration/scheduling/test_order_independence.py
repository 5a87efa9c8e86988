"""Registration's events reach scheduling on separate queues and race: an erasure or a cancellation
may arrive before the confirmation it followed. Whatever the order, each delivered twice,
scheduling ends as the order they happened in leaves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts.envelope import Event
from shared.contracts.registration import (
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
)
from tests.integration.scheduling.conftest import SLOW, RunningScheduling, make_participant
from tests.support.bus import handled, handled_at_least

T0 = datetime.now(UTC) - timedelta(hours=1)
QUEUE_OF = {
    "registration.confirmed": "registration-confirmed",
    "registration.cancelled": "registration-cancelled",
    "participant.erased": "participant-erased",
}


def when(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


async def deliver_twice(scheduling: RunningScheduling, *events: Event) -> None:
    """Each event twice, the next one only once both are handled (the order is the test's)."""
    for event in events:
        queue = scheduling.runtime.topology.queue_name("scheduling", QUEUE_OF[event.event_type])
        before = handled(queue)
        await scheduling.publish_event(event)
        await scheduling.publish_event(event)
        await handled_at_least(queue, before + 2, timeout=SLOW)


def history(participant: Any, *, cancelled: bool = False) -> list[Event]:
    """What registration published, in the order it happened: confirmed, (cancelled,) erased."""
    events: list[Event] = [
        RegistrationConfirmed(
            producer="registration",
            participant=participant,
            submission_id="form-1",
            occurred_at=when(1),
        )
    ]
    if cancelled:
        events.append(
            RegistrationCancelled(
                producer="registration",
                previous_status="confirmed",
                occurred_at=when(2),
                participant=participant.model_copy(update={"status": "cancelled"}),
            )
        )
    events.append(
        ParticipantErased(
            producer="registration",
            forum_id=participant.forum_id,
            participant_id=participant.participant_id,
            category=participant.category,
            country=participant.country,
            previous_status="confirmed",
            occurred_at=when(3),
        )
    )
    return events


async def projection(scheduling: RunningScheduling, participant: Any) -> dict[str, Any]:
    """The participant's projected state, without ids and bookkeeping."""
    document = await scheduling.deps.repository.participant(str(participant.participant_id))
    return {
        k: v
        for k, v in (document or {}).items()
        if k not in ("_id", "version", "processed", "outbox", "outbox_pending")
    }


async def test_an_erasure_that_overtakes_the_confirmation_still_forgets_the_person_on_the_programme(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    right, wrong = make_participant(), make_participant()
    # Both on the programme by e-mail before registering: registration's confirmation links them.
    await scheduling.http.put(
        "/programme/sessions/B4.1/people",
        headers=scheduling.secretariat,
        json=[
            {"name": "Lucía Flores", "role": "rapporteur", "email": right.email, "country": "SV"},
            {"name": "Marta Ruiz", "role": "rapporteur", "email": wrong.email, "country": "SV"},
        ],
    )

    await deliver_twice(scheduling, *history(right))
    await deliver_twice(scheduling, *reversed(history(wrong)))

    people = (await scheduling.session("B4.1"))["people"]
    as_right, as_wrong = (
        {k: v for k, v in p.items() if k not in ("person_id", "participant_id")} for p in people
    )
    assert as_right == as_wrong
    assert as_wrong["name"] is None and as_wrong["email"] is None and as_wrong["erased"]
    assert [p["participant_id"] for p in people] == [
        str(right.participant_id),
        str(wrong.participant_id),
    ]
    projected_right, projected_wrong = (
        await projection(scheduling, right),
        await projection(scheduling, wrong),
    )
    assert projected_right == projected_wrong
    assert (
        projected_wrong["erased"]
        and projected_wrong["email"] is None
        and projected_wrong["status"] == "confirmed"
    )


async def test_an_erasure_that_overtakes_the_cancellation_still_frees_the_seat(
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    await scheduling.tap.wait_for("programme.published")
    await http.patch("/programme/sessions/B2.5", headers=auth, json={"seats": 1})
    await http.patch("/programme/sessions/B2.6", headers=auth, json={"seats": 1})
    right, wrong = make_participant(), make_participant()
    [waits_right, waits_wrong] = await scheduling.confirm_many(2)
    await deliver_twice(scheduling, history(right)[0], history(wrong)[0])
    for code, holder, waiting in (("B2.5", right, waits_right), ("B2.6", wrong, waits_wrong)):
        for pid in (str(holder.participant_id), waiting):
            signed = await http.post(
                f"/sessions/{code}/signups",
                json={"participant_id": pid},
                headers=scheduling.as_participant(pid),
            )
            assert signed.status_code == 201, signed.text

    await deliver_twice(scheduling, *history(right, cancelled=True)[1:])
    await deliver_twice(scheduling, *reversed(history(wrong, cancelled=True)[1:]))

    b25, b26 = await scheduling.session("B2.5"), await scheduling.session("B2.6")
    assert (b25["confirmed"], b25["waitlist"]) == ([waits_right], [])
    assert (b26["confirmed"], b26["waitlist"]) == ([waits_wrong], [])
    projected_right, projected_wrong = (
        await projection(scheduling, right),
        await projection(scheduling, wrong),
    )
    assert projected_right == projected_wrong
    assert projected_wrong["status"] == "cancelled" and projected_wrong["erased"]
    for holder in (right, wrong):
        held = await scheduling.deps.repository.holds_of(
            scheduling.deps.attendance_id(str(holder.participant_id))
        )
        assert not (held or {}).get("holds")

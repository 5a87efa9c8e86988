"""Triggers of other services are data: a programme change reaches everyone it affects, in their
language, moves their reminder; a cancellation cancels it; an erasure leaves no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts.registration import ParticipantErased
from shared.contracts.scheduling import (
    AffectedPerson,
    LocalizedText,
    SessionCancelled,
    SessionRescheduled,
    Slot,
)
from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually, handled_at_least
from tests.support.factories import FORUM_ID
from tests.support.notification import confirmed, foreign_event, participant

TZ = "America/El_Salvador"


def slot(day: int, hour: int) -> Slot:
    start = datetime(2004, 11, day, hour + 6, tzinfo=UTC)  # UTC-6 at the venue
    return Slot(
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone=TZ,
        room="plenary",
        room_name=LocalizedText(es="Salón plenario", en="Plenary hall"),
    )


async def test_a_rescheduled_session_tells_everyone_affected_and_moves_their_reminder(
    notification: RunningNotification,
) -> None:
    attendee = participant(language="en")
    await notification.publish(confirmed(attendee))
    await notification.wait_emails(attendee["email"])
    speaker_email = "speaker.b12@example.org"
    title = LocalizedText(
        es="Remesas y servicios financieros", en="Remittances and financial services"
    )

    moved = SessionRescheduled(
        producer="scheduling",
        forum_id=FORUM_ID,
        release=2,
        session_code="B1.2",
        title=title,
        previous=slot(18, 10),
        current=slot(19, 15),
        affected=[
            AffectedPerson(
                relation="attendee",
                participant_id=attendee["participant_id"],
                email=attendee["email"],
                name="Ana López",
                language="en",
            ),
            AffectedPerson(
                relation="speaker",
                person_id="p-speaker",
                name="Bea Ruiz",
                email=speaker_email,
                language="es",
            ),
        ],
    ).model_dump(mode="json")
    await notification.publish(moved)

    (to_attendee,) = [
        e
        for e in await notification.wait_emails(attendee["email"], 2)
        if "Schedule change" in e["Subject"]
    ]
    assert to_attendee["Subject"] == "Schedule change: Remittances and financial services"
    text = to_attendee.get_body(("plain",)).get_content()
    assert (
        "Now: November 19, 2004, 15:00, Plenary hall" in text
        and "Before: November 18, 2004, 10:00" in text
    )
    assert any(p.get_content_type() == "text/calendar" for p in to_attendee.walk())
    (to_speaker,) = await notification.wait_emails(speaker_email)
    assert to_speaker["Subject"] == "Cambio de horario: Remesas y servicios financieros"

    reminders = await notification.deps.repository.reminders.find({"key": "session:B1.2"}).to_list()
    assert {r["due_at"] for r in reminders} == {
        datetime(2004, 11, 18, 21, tzinfo=UTC)
    }  # the day before, 15:00

    cancelled = SessionCancelled(
        producer="scheduling",
        forum_id=FORUM_ID,
        release=3,
        session_code="B1.2",
        title=title,
        previous=slot(19, 15),
        reason="Fuerza mayor",
        affected=[
            AffectedPerson(
                relation="attendee",
                participant_id=attendee["participant_id"],
                email=attendee["email"],
                language="en",
            ),
        ],
    ).model_dump(mode="json")
    await notification.publish(cancelled)
    await eventually(
        lambda: _reminder_status(notification, attendee["participant_id"], "cancelled"),
        what="the attendee's session reminder cancelled",
    )
    await notification.wait_emails(attendee["email"], 3)


async def _reminder_status(notification: RunningNotification, person_id: str, status: str) -> bool:
    found = await notification.deps.repository.reminders.find_one(
        {"key": "session:B1.2", "person_id": person_id}
    )
    return found is not None and found["status"] == status


async def test_an_unknown_field_in_a_foreign_event_is_ignored_and_a_trigger_needs_no_code(
    notification: RunningNotification,
) -> None:
    person = participant(language="es")
    await notification.publish(confirmed(person))
    await notification.wait_emails(person["email"])
    await notification.publish(
        foreign_event(
            "job_application.received",
            forum_id=FORUM_ID,
            participant_id=person["participant_id"],
            cv_pages=3,
            new_field={"x": 1},
        )
    )
    emails = await notification.wait_emails(person["email"], 2)
    assert emails[-1]["Subject"] == "Recibimos su postulación"


async def test_an_erased_participant_keeps_no_personal_data_and_gets_nothing_more(
    notification: RunningNotification,
) -> None:
    person = participant(phone="+50370001111")
    await notification.publish(confirmed(person))
    await notification.wait_emails(person["email"])
    erased = ParticipantErased.model_validate(
        {
            "event_type": "participant.erased",
            "producer": "registration",
            "forum_id": FORUM_ID,
            "participant_id": person["participant_id"],
            "category": "civil_society",
            "country": "SV",
            "previous_status": "confirmed",
        }
    )
    await notification.publish(erased.model_dump(mode="json"))
    await handled_at_least(notification.triggers_queue, 2)

    async def scrubbed() -> bool:
        contact = await notification.deps.repository.contact(person["participant_id"])
        return bool(contact and contact.get("erased"))

    await eventually(scrubbed, what="the contact erased")
    stored = await notification.deps.repository.contacts.find_one({"_id": person["participant_id"]})
    assert person["email"] not in str(stored) and person["phone"] not in str(stored)
    for message in await notification.messages(person_id=person["participant_id"]):
        assert message["to"] is None and message["content"] == {}
    reminder = await notification.deps.repository.reminders.find_one(
        {"person_id": person["participant_id"]}
    )
    assert reminder["status"] == "cancelled"

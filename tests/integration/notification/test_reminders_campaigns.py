"""Reminders survive restarts and fire once, on time (injectable clock); campaigns respect opt-outs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.contracts.registration import AccreditationApproved, Participant
from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually
from tests.support.notification import confirmed, expanded_campaign, participant


async def reminder_emails(notification: RunningNotification, address: str) -> list:
    return [
        e
        for e in notification.emails_to(address)
        if "comienza" in e["Subject"] or "starts" in e["Subject"]
    ]


async def test_a_reminder_scheduled_before_a_restart_is_sent_once_at_its_time(
    notification: RunningNotification,
) -> None:
    person = participant(language="en")
    await notification.publish(confirmed(person))
    await notification.wait_emails(person["email"])

    (reminder,) = await notification.deps.repository.reminders.find(
        {"person_id": person["participant_id"]}
    ).to_list()
    due = reminder["due_at"]
    # The day before the inauguration (09:00 at the venue, UTC-6).
    assert due.isoformat() == "2004-11-17T15:00:00+00:00" and reminder["status"] == "pending"

    await notification.restart()
    notification.clock.now = due - timedelta(seconds=1)
    await notification.wait_ticks(3)
    assert await reminder_emails(notification, person["email"]) == []
    assert (await notification.deps.repository.reminders.find_one({"_id": reminder["_id"]}))[
        "status"
    ] == "pending"

    notification.clock.now = due
    await eventually(
        lambda: _has_reminder_email(notification, person["email"]), what="the reminder e-mail"
    )
    notification.clock.advance(timedelta(days=1))
    await notification.restart()
    await notification.wait_ticks(3)

    emails = await reminder_emails(notification, person["email"])
    assert (
        len(emails) == 1
        and emails[0]["Subject"] == "The Private Sector and Migration Forum starts tomorrow"
    )
    stored = await notification.deps.repository.reminders.find_one({"_id": reminder["_id"]})
    assert stored["status"] == "sent" and stored["sent_at"] == due
    reminder_messages = await notification.messages(reminder_id=reminder["_id"])
    assert [m["status"] for m in reminder_messages] == ["sent"]


async def _has_reminder_email(notification: RunningNotification, address: str) -> bool:
    return bool(await reminder_emails(notification, address))


@pytest.mark.parametrize("notification_overrides", [{"campaign_batch": 1}])
async def test_an_opted_out_person_gets_no_campaign_but_does_get_an_essential_message(
    notification: RunningNotification,
) -> None:
    staying, leaving = participant(), participant()
    elsewhere = participant(country="GT")
    for person in (staying, leaving, elsewhere):
        await notification.publish(confirmed(person))
        await notification.wait_emails(person["email"])

    campaign_id = f"expo-hours-{uuid.uuid4().hex[:6]}"
    async with notification.api() as api:
        response = await api.put(
            f"/people/{leaving['participant_id']}/preferences", json={"opt_out_non_essential": True}
        )
        assert response.status_code == 200, response.text
        campaign = await expanded_campaign(
            api,
            campaign_id,
            {"countries": ["SV"], "categories": ["civil_society"]},
            {"es": "Horario de la exposición", "en": "Expo opening hours"},
            {"es": "La exposición abre a las 9:00.", "en": "The expo opens at 9:00."},
        )
    assert campaign["created"] == {"queued": 1, "suppressed": 1}

    (campaign_email,) = [
        e
        for e in await notification.wait_emails(staying["email"], 2)
        if e["Subject"] == "Horario de la exposición"
    ]
    assert "La exposición abre a las 9:00." in campaign_email.get_body(("plain",)).get_content()
    (suppressed,) = await notification.messages(
        person_id=leaving["participant_id"], campaign_id=campaign_id
    )
    assert suppressed["status"] == "suppressed" and suppressed["suppressed_reason"] == "opted_out"
    assert (
        await notification.messages(person_id=elsewhere["participant_id"], campaign_id=campaign_id)
        == []
    )

    approved = AccreditationApproved(
        producer="registration",
        participant=Participant.model_validate(leaving),
        submission_id="form-1",
    )
    await notification.publish(approved.model_dump(mode="json"))
    emails = await notification.wait_emails(leaving["email"], 2)
    assert [e["Subject"] for e in emails[1:]] == [
        "Acreditación aprobada: Foro Sector Privado y Migraciones"
    ]
    assert not any(
        e["Subject"] == "Horario de la exposición" for e in notification.emails_to(leaving["email"])
    )

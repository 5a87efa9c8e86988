"""The delivery guarantee (issue 10): a retried trigger is the original, a person named before their
contact is known gets their message once it is, a slow send keeps its lease, a lost worker's
message is taken over within seconds, and a send the provider accepted is not sent again because
the database hiccuped."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pymongo.errors import AutoReconnect

from tests.integration.notification.conftest import API_TOKEN, RunningNotification
from tests.support.bus import dead_letters, eventually, handled, handled_at_least
from tests.support.notification import badge_issued, confirmed, participant


def possible_duplicates() -> float:
    return (
        REGISTRY.get_sample_value(
            "foro_notification_possible_duplicates_total", {"channel": "email"}
        )
        or 0.0
    )


async def all_sent(notification: RunningNotification, person: dict[str, Any], count: int) -> bool:
    found = await notification.messages(person_id=person["participant_id"], channel="email")
    return len(found) == count and all(m["status"] == "sent" for m in found)


async def test_a_trigger_failing_once_for_a_database_error_still_sends_its_email(
    notification: RunningNotification,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repository = notification.deps.repository
    project = repository.project_contact
    failures = []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise AutoReconnect("database unreachable (injected)")
        return await project(*args, **kwargs)

    monkeypatch.setattr(repository, "project_contact", flaky)
    person = participant()
    retried_before = handled(notification.triggers_queue, "retry")
    await notification.publish(confirmed(person))

    (email,) = await notification.wait_emails(person["email"])
    assert email["Subject"].startswith("Inscripción confirmada")
    assert failures and handled(notification.triggers_queue, "retry") == retried_before + 1
    assert await dead_letters(notification.amqp, notification.triggers_queue) == []


async def test_a_retried_copy_back_under_the_queue_name_is_handled_like_the_original(
    notification: RunningNotification,
) -> None:
    person = participant(language="en")
    event = confirmed(person)
    await notification.publish_retried(event)
    await notification.publish(event)  # and the original too: one e-mail

    await handled_at_least(notification.triggers_queue, 2)
    await eventually(lambda: all_sent(notification, person, 1), what="the confirmation sent")
    (email,) = notification.emails_to(person["email"])
    assert email["Subject"].startswith("Registration confirmed")
    assert await dead_letters(notification.amqp, notification.triggers_queue) == []


async def test_a_badge_before_the_registration_is_parked_and_each_email_goes_once(
    notification: RunningNotification,
) -> None:
    person = participant(category="business_association")
    badge, registration = badge_issued(person), confirmed(person)

    await notification.publish(badge)
    await handled_at_least(notification.triggers_queue, 1)
    async with notification.api() as api:
        parked = (
            await api.get("/parked-triggers", params={"person_id": person["participant_id"]})
        ).json()
        summary = (await api.get("/messages/summary")).json()
    assert [(p["event_type"], p["event_id"]) for p in parked["items"]] == [
        ("badge.issued", badge["event_id"])
    ]
    assert summary["parked"] >= 1 and not notification.emails_to(person["email"])

    # Both delivered twice, in the racing order.
    await notification.publish(registration)
    await notification.publish(badge)
    await notification.publish(registration)
    await handled_at_least(notification.triggers_queue, 4)
    await eventually(
        lambda: all_sent(notification, person, 2), what="badge and confirmation e-mails sent"
    )

    subjects = sorted(e["Subject"] for e in notification.emails_to(person["email"]))
    assert len(subjects) == 2
    assert (
        subjects[0].startswith("Inscripción confirmada") and subjects[1] == "Su gafete está listo"
    )
    async with notification.api() as api:
        parked = (
            await api.get("/parked-triggers", params={"person_id": person["participant_id"]})
        ).json()
    assert parked["total"] == 0
    assert await dead_letters(notification.amqp, notification.triggers_queue) == []


async def test_a_person_who_never_shows_up_stays_visible_and_nothing_fails(
    notification: RunningNotification,
) -> None:
    person = participant()
    await notification.publish(badge_issued(person))
    await notification.publish(badge_issued(person))
    await handled_at_least(notification.triggers_queue, 2)
    async with notification.api() as api:
        parked = (
            await api.get(
                "/parked-triggers",
                params={"person_id": person["participant_id"]},
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            )
        ).json()
    assert parked["total"] == 2  # two badge events, each waiting
    assert await dead_letters(notification.amqp, notification.triggers_queue) == []


async def test_an_accepted_send_whose_record_hits_a_database_outage_is_recorded_and_never_sent_again(
    notification: RunningNotification,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repository = notification.deps.repository
    record = repository.record_result
    failures = []

    async def outage(*args: Any, **kwargs: Any) -> Any:
        if len(failures) < 3:
            failures.append(1)
            raise AutoReconnect("database unreachable (injected)")
        return await record(*args, **kwargs)

    monkeypatch.setattr(repository, "record_result", outage)
    duplicates = possible_duplicates()
    person = participant()
    await notification.publish(confirmed(person))

    await eventually(lambda: all_sent(notification, person, 1), what="the e-mail recorded as sent")
    await notification.wait_ticks(10)  # several sweeps: none takes the message over
    assert len(failures) == 3 and len(notification.emails_to(person["email"])) == 1
    (message,) = await notification.messages(person_id=person["participant_id"], channel="email")
    assert message["attempts"] == 1 and possible_duplicates() == duplicates


async def test_a_worker_lost_after_the_provider_accepted_is_taken_over_within_seconds_with_the_same_message_id(
    notification: RunningNotification,
) -> None:
    person = participant()
    await notification.publish(confirmed(person))
    (first,) = await notification.wait_emails(person["email"])
    await eventually(lambda: all_sent(notification, person, 1), what="the e-mail recorded as sent")
    (message,) = await notification.messages(person_id=person["participant_id"], channel="email")

    # As a kill -9 after SMTP accepted leaves it: "sending", attempt recorded, result not, the
    # lease no longer renewed.
    lapsed = notification.deps.wall_clock() - timedelta(seconds=1)
    duplicates = possible_duplicates()
    started = time.monotonic()
    await notification.deps.repository.collection.update_one(
        {"_id": message["_id"]},
        {
            "$set": {
                "status": "sending",
                "lease_until": lapsed,
                "next_attempt_at": lapsed,
                "claimed_at": lapsed,
                "lapse_noticed_at": None,
            },
            "$inc": {"version": 1},
        },
    )
    second = (await notification.wait_emails(person["email"], 2))[1]
    await eventually(lambda: all_sent(notification, person, 1), what="the second attempt recorded")

    assert time.monotonic() - started < 30
    assert second["Message-ID"] == first["Message-ID"]  # the receiver can drop the copy
    (message,) = await notification.messages(person_id=person["participant_id"], channel="email")
    assert message["attempts"] == 2 and message["possibly_sent"] is False
    assert [h.get("outcome") for h in message["history"]] == [None, "unknown", None]
    assert message["history"][-1]["possible_duplicate"] is True
    assert possible_duplicates() == duplicates + 1

"""Exactly-once delivery, broker-side retries and provider failover, against real servers."""

from __future__ import annotations

import json

import pytest

from shared.contracts.notification import NotificationQueued
from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually, handled_at_least
from tests.support.notification import confirmed, participant


async def outbox_empty(service: RunningNotification) -> bool:
    return await service.deps.repository.collection.count_documents({"outbox_pending": True}) == 0


async def test_the_same_event_delivered_three_times_sends_one_email(
    notification: RunningNotification,
) -> None:
    person = participant()
    event = confirmed(person)
    for _ in range(3):
        await notification.publish(event)

    await handled_at_least(notification.triggers_queue, 3)
    emails = await notification.wait_emails(person["email"])
    sent = await notification.tap.wait_for("notification.sent")

    # Delivered while the trigger was handled: no queue message. A delivery queue message for it
    # (as a sweep or a replay would send), delivered twice, sends nothing either.
    assert notification.tap.of_type("notification.queued") == []
    (message,) = await notification.messages(person_id=person["participant_id"])
    queued = NotificationQueued(
        producer="test",
        message_id=message["_id"],
        message_type=message["message_type"],
        channel="email",
        recipient_id=person["participant_id"],
    ).model_dump(mode="json")
    for _ in range(2):
        await notification.redeliver(queued)
    await handled_at_least(notification.deliveries_queue, 2)
    await eventually(lambda: outbox_empty(notification), what="outbox published")
    await notification.tap.drain()

    assert len(notification.emails_to(person["email"])) == 1 == len(emails)
    assert len(sent) == 1 == len(notification.tap.of_type("notification.sent"))
    messages = await notification.messages(person_id=person["participant_id"])
    assert [(m["channel"], m["status"], m["attempts"]) for m in messages] == [("email", "sent", 1)]
    assert sent[0]["provider_message_id"] == emails[0]["Message-ID"]
    assert person["email"] not in json.dumps(sent[0])  # events name people by id only


@pytest.mark.parametrize(
    "notification_overrides", [{"delivery_attempts": 30, "delivery_retry_base_seconds": 0.2}]
)
async def test_smtp_down_when_the_event_arrives_the_email_arrives_once_after_it_comes_back(
    notification: RunningNotification,
) -> None:
    notification.sink.stop()
    person = participant()
    await notification.publish(confirmed(person))

    async def failed_once() -> bool:
        # `attempts` counts attempts begun; a failed one is in the history, the message retrying.
        found = await notification.messages(person_id=person["participant_id"], channel="email")
        return (
            bool(found)
            and bool(found[0].get("history"))
            and found[0]["status"] == "retrying"
            and "smtp:" in found[0]["last_error"]
        )

    await eventually(failed_once, what="a failed attempt, the message waiting to retry")

    notification.sink.start()
    emails = await notification.wait_emails(person["email"])
    await notification.tap.wait_for("notification.sent")
    await eventually(lambda: outbox_empty(notification), what="outbox published")

    assert len(emails) == 1
    (message,) = await notification.messages(person_id=person["participant_id"], channel="email")
    assert message["status"] == "sent" and message["attempts"] >= 2
    assert not notification.tap.of_type("notification.failed")


async def test_first_sms_provider_failing_the_second_one_sends_it(
    notification: RunningNotification,
) -> None:
    notification.gateway.account("ACprimary", status=500)
    backup = notification.gateway.account("ACbackup", status=201)
    person = participant(phone="+50370001234", language="en")
    await notification.publish(confirmed(person))

    async def sms_sent() -> bool:
        return any(
            e["channel"] == "sms" for e in await notification.tap.wait_for("notification.sent")
        )

    await eventually(sms_sent, what="the SMS sent")
    (sms,) = [e for e in notification.tap.of_type("notification.sent") if e["channel"] == "sms"]
    assert (
        sms["provider"] == "sms-backup"
        and sms["provider_message_id"].startswith("SM")
        and sms["attempts"] == 1
    )
    assert len(backup.received) == 1 and backup.received[0]["To"] == "+50370001234"
    assert backup.received[0]["Body"].startswith(
        "Private Sector and Migration Forum: your registration is confirmed"
    )
    assert len(notification.gateway.accounts["ACprimary"].received) == 1


async def test_every_sms_provider_failing_ends_in_notification_failed_and_the_message_is_kept_for_replay(
    notification: RunningNotification,
) -> None:
    primary = notification.gateway.account("ACprimary", status=500)
    backup = notification.gateway.account("ACbackup", status=503)
    person = participant(phone="+50370009999")
    await notification.publish(confirmed(person))

    (failed,) = await notification.tap.wait_for("notification.failed")
    attempts = notification.settings.delivery_attempts
    assert failed["channel"] == "sms" and failed["attempts"] == attempts
    assert failed["reason"] == "sms-primary: HTTP 500; sms-backup: HTTP 503"
    assert len(primary.received) == len(backup.received) == attempts
    (message,) = await notification.messages(person_id=person["participant_id"], channel="sms")
    assert (
        message["status"] == "failed"
        and message["content"]["text"]
        and message["to"] == "+50370009999"
    )
    assert [h["attempt"] for h in message["history"]] == list(range(1, attempts + 1))
    gaps = [
        (b["at"] - a["at"]).total_seconds()
        for a, b in zip(message["history"], message["history"][1:], strict=False)
    ]
    base = notification.settings.delivery_retry_base_seconds
    # The broker held each retry at least base·2^(n-1): exponential backoff, no sleeping handler.
    assert all(gap >= base * 2**n * 0.95 for n, gap in enumerate(gaps)), gaps

    # The secretariat replays it once the gateway is back.
    notification.gateway.account("ACbackup", status=201)
    async with notification.api() as api:
        response = await api.post(f"/messages/{message['_id']}/replay")
    assert response.status_code == 200, response.text
    await eventually(
        lambda: _sms_status(notification, person, "sent"), what="the replayed SMS sent"
    )


async def _sms_status(notification: RunningNotification, person: dict, status: str) -> bool:
    found = await notification.messages(person_id=person["participant_id"], channel="sms")
    return bool(found) and found[0]["status"] == status

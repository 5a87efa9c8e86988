"""Notification's use cases on an in-memory repository and providers: no broker, no database, no
mail server. The integration tests prove the same paths on RabbitMQ, SecantusDB and SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notification.delivery import rules as delivery_rules
from services.notification.delivery.handlers import deliver
from services.notification.delivery.sweep import recover_lapsed, replay
from services.notification.deps import Notification
from services.notification.providers import rate_limiter
from services.notification.templates import TemplateBook
from services.notification.triggers.handlers import handle_trigger
from shared.contracts.notification import NotificationQueued
from shared.errors import RetryLater
from shared.pack import load_pack
from tests.support.notification import badge_issued, confirmed, participant
from tests.support.notification_fakes import FakeNotificationRepository, FakeProvider

NOW = datetime(2004, 11, 10, 12, tzinfo=UTC)  # before the pack's forum: reminders are scheduled


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def notification(*providers: FakeProvider, attempts: int = 3) -> Notification:
    pack = load_pack()
    clock = Clock()
    return Notification(
        pack=pack,
        book=TemplateBook(pack),
        repository=FakeNotificationRepository(),  # type: ignore[arg-type]
        providers={"email": list(providers) or [FakeProvider("smtp")], "sms": []},
        policy=delivery_rules.RetryPolicy(max_attempts=attempts, base_seconds=5, jitter=0),
        clock=clock,
        wall_clock=clock,
    )


def repo(deps: Notification) -> FakeNotificationRepository:
    assert isinstance(deps.repository, FakeNotificationRepository)
    return deps.repository


def smtp(deps: Notification) -> FakeProvider:
    provider = deps.providers["email"][0]
    assert isinstance(provider, FakeProvider)
    return provider


def event(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "occurred_at": NOW.isoformat()}


def queued_for(message: dict[str, Any]) -> NotificationQueued:
    return NotificationQueued(
        producer="test",
        message_id=message["_id"],
        message_type=message["message_type"],
        channel="email",
        recipient_id=message["person_id"],
    )


async def test_a_new_persons_confirmation_is_one_contact_write_one_message_write_sent_inline() -> (
    None
):
    deps = notification()
    person = participant()
    counts = await handle_trigger(event(confirmed(person)), deps)

    (message,) = repo(deps).of(person["participant_id"])
    assert counts == {"sending": 1, "sent": 1}
    assert repo(deps).contact_writes == 1 and repo(deps).contacts[person["participant_id"]]
    # Created claimed (version 1: the write that created it recorded the attempt), then the
    # result with its event: no queue message on the way.
    assert (message["status"], message["attempts"], message["version"]) == ("sent", 1, 2)
    assert repo(deps).events() == ["notification.sent"]
    (sent,) = smtp(deps).sent
    assert sent.to == person["email"] and sent.subject.startswith("Inscripción confirmada")
    assert repo(deps).reminders  # the forum's day-before reminder, scheduled by the same trigger


async def test_the_same_trigger_twice_sends_once() -> None:
    deps = notification()
    person = participant()
    body = event(confirmed(person))
    await handle_trigger(body, deps)
    await handle_trigger(body, deps)
    assert len(smtp(deps).sent) == 1 and len(repo(deps).of(person["participant_id"])) == 1


async def test_a_failed_inline_attempt_comes_back_through_the_queue_after_its_backoff() -> None:
    deps = notification()
    smtp(deps).fail = 1
    person = participant()
    await handle_trigger(event(confirmed(person)), deps)
    (message,) = repo(deps).of(person["participant_id"])
    assert message["status"] == "retrying" and message["attempts"] == 1
    # The hop exists for retries: a `notification.queued` in the outbox brings it back.
    assert repo(deps).events() == ["notification.queued"]

    # Back before its backoff is over: it waits the rest in the retry tiers.
    with pytest.raises(RetryLater) as waiting:
        await deliver(queued_for(message), deps)
    assert waiting.value.delay == pytest.approx(5.0)

    deps.wall_clock.now += timedelta(seconds=5)  # type: ignore[attr-defined]
    assert await deliver(queued_for(message), deps) == "sent"
    (message,) = repo(deps).of(person["participant_id"])
    assert (message["status"], message["attempts"]) == ("sent", 2)
    assert len(smtp(deps).sent) == 1
    # A duplicate queue message finds it sent and sends nothing.
    assert await deliver(queued_for(message), deps) == "duplicate_sent"


async def test_a_badge_before_the_registration_is_parked_on_the_contact_and_completed_once() -> (
    None
):
    deps = notification()
    person = participant(category="business_association")
    badge = event(badge_issued(person))
    assert await handle_trigger(badge, deps) == {"parked": 1}
    contact = repo(deps).contacts[person["participant_id"]]
    assert contact["parked_triggers"] is True and not contact.get("email")
    assert await handle_trigger(badge, deps) == {"parked": 1}  # redelivered: parked once
    assert len(repo(deps).parked) == 1

    await handle_trigger(event(confirmed(person)), deps)
    await handle_trigger(badge, deps)  # and the badge again, after the contact came
    subjects = sorted(sent.subject for sent in smtp(deps).sent)
    assert len(subjects) == 2 and subjects[1] == "Su gafete está listo"
    (parked,) = repo(deps).parked.values()
    assert parked["status"] == "completed" and parked["event"] == {}
    assert repo(deps).contacts[person["participant_id"]]["parked_triggers"] is False


async def test_a_rate_limited_provider_defers_through_the_queue_using_no_attempt() -> None:
    limited = FakeProvider("smtp-limited", limiter=rate_limiter(1))
    deps = notification(limited)
    first, second = participant(), participant()
    await handle_trigger(event(confirmed(first)), deps)
    counts = await handle_trigger(event(confirmed(second)), deps)  # the bucket is empty now

    assert counts["deferred"] == 1 and len(limited.sent) == 1
    (message,) = repo(deps).of(second["participant_id"])
    assert (message["status"], message["attempts"], message["deferrals"]) == ("queued", 0, 1)
    assert repo(deps).events(message["_id"]) == ["notification.queued"]


async def test_a_lost_worker_is_taken_over_with_the_same_message_id_counted_as_possible_copy() -> (
    None
):
    deps = notification()
    person = participant()
    await handle_trigger(event(confirmed(person)), deps)
    (message,) = repo(deps).of(person["participant_id"])
    # As a kill -9 after the provider accepted leaves it: sending, its lease no longer renewed.
    lease_end = NOW + timedelta(seconds=10)
    message.update(
        {
            "status": "sending",
            "claimed_at": NOW,
            "lease_until": lease_end,
            "next_attempt_at": lease_end,
        }
    )
    deps.wall_clock.now += timedelta(seconds=11)  # type: ignore[attr-defined]
    assert await recover_lapsed(deps) == 0  # first sight: noted
    deps.wall_clock.now += timedelta(seconds=5)  # type: ignore[attr-defined]
    assert await recover_lapsed(deps) == 1
    (message,) = repo(deps).of(person["participant_id"])
    assert message["status"] == "queued" and message["possibly_sent"] is True
    assert repo(deps).events(message["_id"])[-1] == "notification.queued"  # via the outbox

    assert await deliver(queued_for(message), deps) == "sent"
    first, again = smtp(deps).sent
    assert first.message_id == again.message_id  # the same Message-ID: a receiver drops it
    (message,) = repo(deps).of(person["participant_id"])
    assert message["history"][-1]["possible_duplicate"] is True


async def test_a_failed_message_is_replayed_by_the_secretariat() -> None:
    deps = notification(attempts=1)
    smtp(deps).fail = 1
    person = participant()
    await handle_trigger(event(confirmed(person)), deps)
    (message,) = repo(deps).of(person["participant_id"])
    assert message["status"] == "failed" and repo(deps).events() == ["notification.failed"]

    replayed = await replay(message["_id"], deps)
    assert replayed is not None and replayed["status"] == "queued"
    assert await deliver(queued_for(message), deps) == "sent"
    assert await replay(message["_id"], deps) is None  # sent: nothing to replay


async def test_an_erased_person_gets_nothing_more() -> None:
    deps = notification()
    person = participant()
    await handle_trigger(event(confirmed(person)), deps)
    erased = {
        "event_type": "participant.erased",
        "event_id": "0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10",
        "occurred_at": (NOW + timedelta(minutes=1)).isoformat(),
        "participant_id": person["participant_id"],
    }
    assert await handle_trigger(erased, deps) == {"erased": 1}
    assert await handle_trigger(event(badge_issued(person)), deps) == {"erased": 1}
    (message,) = repo(deps).of(person["participant_id"])
    assert message["to"] is None and message["content"] == {}
    assert len(smtp(deps).sent) == 1

"""A provider's rate limit defers messages through the broker, using no delivery attempt."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually
from tests.support.notification import confirmed, participant


@pytest.fixture
def limited_smtp(sink) -> list:
    from services.notification.settings import SmtpProvider

    return [SmtpProvider(name="smtp-limited", host="127.0.0.1", port=sink.port, rate_per_second=2)]


@pytest.fixture
def notification_overrides(limited_smtp: list) -> dict:
    return {"smtp_providers": limited_smtp}


async def test_a_provider_rate_limit_defers_messages_without_using_attempts(
    notification: RunningNotification,
) -> None:
    people = [participant() for _ in range(5)]
    for person in people:
        await notification.publish(confirmed(person))
    for person in people:
        await notification.wait_emails(person["email"])

    async def all_sent() -> bool:
        found = await notification.messages(channel="email")
        return len(found) == 5 and all(m["status"] == "sent" for m in found)

    await eventually(all_sent, what="every message marked sent")
    messages = await notification.messages(channel="email")
    assert len(messages) == 5 and {(m["status"], m["attempts"]) for m in messages} == {("sent", 1)}
    sent_at = sorted(m["sent_at"] for m in messages)
    assert (
        sent_at[-1] - sent_at[0]
    ).total_seconds() >= 1.0  # 2 a second, a burst of 2: 5 take over a second
    deferred = REGISTRY.get_sample_value(
        "foro_notification_attempts_total", {"provider": "smtp-limited", "outcome": "rate_limited"}
    )
    assert (
        deferred and deferred >= 1
    )  # deferred through the broker, then sent on their first attempt

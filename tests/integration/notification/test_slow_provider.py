"""A relay slower than the sending lease: the worker renews its lease while it waits, so the sweep
never takes the message over and the e-mail goes once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.notification.providers import Outgoing
from services.notification.settings import SmtpProvider
from services.notification.smtp import SmtpEmail
from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually
from tests.support.notification import confirmed, participant


class SlowSmtp(SmtpEmail):
    """A relay that takes longer than the lease to accept a message."""

    delay = 2.5

    async def send(self, message: Outgoing) -> str:
        await asyncio.sleep(self.delay)  # the provider's slowness, not a wait in the test
        return await super().send(message)


@pytest.fixture
def notification_overrides() -> dict[str, Any]:
    return {"lease_seconds": 1.0, "lease_renew_seconds": 0.3}


@pytest.fixture
def notification_providers(sink: Any) -> dict[str, list[Any]]:
    relay = SlowSmtp(
        SmtpProvider(name="smtp-slow", host="127.0.0.1", port=sink.port),
        "Foro <no-reply@foro.example.org>",
    )
    return {"email": [relay], "sms": []}


async def test_a_send_slower_than_the_lease_keeps_it_and_is_sent_once(
    notification: RunningNotification,
) -> None:
    duplicates = (
        REGISTRY.get_sample_value(
            "foro_notification_possible_duplicates_total", {"channel": "email"}
        )
        or 0
    )
    person = participant()
    await notification.publish(confirmed(person))

    async def sent() -> bool:
        found = await notification.messages(person_id=person["participant_id"], channel="email")
        return len(found) == 1 and found[0]["status"] == "sent"

    await eventually(sent, what="the slow e-mail recorded as sent")
    await notification.wait_ticks(5)  # sweeps after it: none re-sends
    assert len(notification.emails_to(person["email"])) == 1
    (message,) = await notification.messages(person_id=person["participant_id"], channel="email")
    assert message["attempts"] == 1 and len(message["history"]) == 1
    assert (
        REGISTRY.get_sample_value(
            "foro_notification_possible_duplicates_total", {"channel": "email"}
        )
        or 0
    ) == duplicates

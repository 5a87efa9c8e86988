"""E-mail fails over to the next SMTP relay in the configured order."""

from __future__ import annotations

import pytest

from services.notification.settings import SmtpProvider
from tests.integration.notification.conftest import RunningNotification
from tests.support.notification import confirmed, participant
from tests.support.servers import free_port


@pytest.fixture
def notification_overrides(sink) -> dict:
    return {
        "smtp_providers": [
            SmtpProvider(name="relay-down", host="127.0.0.1", port=free_port(), timeout_seconds=2),
            SmtpProvider(name="relay-up", host="127.0.0.1", port=sink.port),
        ]
    }


async def test_the_second_smtp_relay_sends_what_the_first_cannot(
    notification: RunningNotification,
) -> None:
    person = participant()
    await notification.publish(confirmed(person))
    (email,) = await notification.wait_emails(person["email"])
    (sent,) = await notification.tap.wait_for("notification.sent")
    assert sent["provider"] == "relay-up" and sent["attempts"] == 1
    assert sent["provider_message_id"] == email["Message-ID"]

"""`foro_notification_provider_failover_active{channel}`: 1 while the first SMTP relay fails and
the second carries the mail, back to 0 once the first sends again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from services.notification.settings import SmtpProvider
from services.notification.sink import SmtpSink
from tests.integration.notification.conftest import RunningNotification
from tests.support.notification import confirmed, participant
from tests.support.servers import free_port


@pytest.fixture
def first_relay_port() -> int:
    return free_port()


@pytest.fixture
def notification_overrides(sink: SmtpSink, first_relay_port: int) -> dict:
    return {
        "smtp_providers": [
            SmtpProvider(
                name="relay-first", host="127.0.0.1", port=first_relay_port, timeout_seconds=2
            ),
            SmtpProvider(name="relay-backup", host="127.0.0.1", port=sink.port),
        ]
    }


@pytest.fixture
def first_relay(tmp_path: Path, first_relay_port: int) -> Iterator[list[SmtpSink]]:
    """Started by the test, on the port the first relay is configured with."""
    started: list[SmtpSink] = []
    yield started
    for relay in started:
        relay.stop()


def failover(channel: str) -> float | None:
    return REGISTRY.get_sample_value(
        "foro_notification_provider_failover_active", {"channel": channel}
    )


async def test_failover_is_active_while_the_first_relay_fails_and_clears_when_it_is_back(
    notification: RunningNotification,
    first_relay: list[SmtpSink],
    first_relay_port: int,
    tmp_path: Path,
) -> None:
    assert failover("email") == 0  # exported from the start

    early = participant()
    await notification.publish(confirmed(early))
    await notification.wait_emails(early["email"])
    (sent,) = await notification.tap.wait_for("notification.sent")
    assert sent["provider"] == "relay-backup"
    assert failover("email") == 1

    first_relay.append(SmtpSink(tmp_path / "first", port=first_relay_port).start())
    later = participant()
    await notification.publish(confirmed(later))
    sent_later = await notification.tap.wait_for("notification.sent", 2)
    assert sent_later[-1]["provider"] == "relay-first"
    assert failover("email") == 0

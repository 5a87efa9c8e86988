from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.notification.bootstrap import create_app
from services.notification.deps import Notification
from services.notification.scheduler import Scheduler
from services.notification.settings import NotificationSettings, SmsProvider
from services.notification.sink import SmtpSink
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, eventually, publish_json
from tests.support.notification import FakeClock, FakeSmsGateway
from tests.support.servers import free_port

API_TOKEN = "secretariat-test-token"
PARTICIPANT_SECRET = "participant-token-secret-for-tests"


class RunningNotification:
    """The notification service in-process against the real broker, database, SMTP sink and SMS
    gateway; `restart()` stops it and starts a new instance on the same queues and database."""

    def __init__(
        self,
        settings: NotificationSettings,
        amqp: aio_pika.abc.AbstractRobustConnection,
        sink: SmtpSink,
        gateway: FakeSmsGateway,
        clock: FakeClock,
        providers: dict[str, list[Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.amqp = amqp
        self.sink = sink
        self.gateway = gateway
        self.clock = clock
        self.app: FastAPI | None = None
        self._stack: AsyncExitStack | None = None
        self.tap: EventTap | None = None

    @property
    def runtime(self) -> ServiceRuntime:
        assert self.app is not None
        return self.app.state.runtime

    @property
    def scheduler(self) -> Scheduler:
        assert self.app is not None
        return self.app.state.scheduler

    @property
    def deps(self) -> Notification:
        assert self.app is not None
        return self.app.state.deps

    @property
    def triggers_queue(self) -> str:
        return self.runtime.queue_names[0]

    @property
    def deliveries_queue(self) -> str:
        return self.runtime.queue_names[1]

    async def start(self) -> None:
        options: dict[str, Any] = {"clock": self.clock}
        if self.providers is not None:
            options["providers"] = self.providers
        self.app = create_app(self.settings, **options)
        if self.tap is None:
            self.tap = await EventTap.open(
                self.amqp, self.runtime.topology, "notification.*", "webhook.*"
            )
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(self.runtime.running())

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def publish(self, event: dict[str, Any], *, exchange: str = "events") -> None:
        topology = self.runtime.topology
        name = topology.events.name if exchange == "events" else topology.intake.name
        await publish_json(
            self.amqp,
            name,
            event["event_type"],
            json.dumps(event).encode(),
            message_id=event["event_id"],
        )

    async def redeliver(self, body: dict[str, Any]) -> None:
        """Put a delivery message straight into the work queue (as a duplicate would arrive)."""
        channel = await self.amqp.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                json.dumps(body).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=self.deliveries_queue,
        )
        await channel.close()

    async def publish_retried(self, event: dict[str, Any]) -> None:
        """A trigger as a retry tier hands it back: through the default exchange, routing key =
        the triggers queue's name, its identity in headers."""
        from shared.messaging.topology import (
            ATTEMPT_HEADER,
            ORIGINAL_EXCHANGE_HEADER,
            ORIGINAL_ROUTING_KEY_HEADER,
        )

        channel = await self.amqp.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                json.dumps(event).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=event["event_id"],
                headers={
                    ORIGINAL_EXCHANGE_HEADER: self.runtime.topology.events.name,
                    ORIGINAL_ROUTING_KEY_HEADER: event["event_type"],
                    "event_type": event["event_type"],
                    ATTEMPT_HEADER: 1,
                },
            ),
            routing_key=self.triggers_queue,
        )
        await channel.close()

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://notification",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )

    def emails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sink.messages() if m["To"] == address]

    async def wait_emails(
        self, address: str, count: int = 1, timeout: float = 20.0
    ) -> list[EmailMessage]:
        async def arrived() -> bool:
            return len(self.emails_to(address)) >= count

        await eventually(arrived, timeout, f"{count} e-mail(s)")
        return self.emails_to(address)

    async def messages(self, **query: Any) -> list[dict[str, Any]]:
        return await self.deps.repository.collection.find(query).to_list()

    async def wait_all_final(self, **contact_query: Any) -> str:
        """Wait until the person (found by contact fields) has messages and all are final."""
        found: dict[str, str] = {}

        async def final() -> bool:
            contact = await self.deps.repository.contacts.find_one(contact_query)
            if contact is None:
                return False
            found["id"] = contact["_id"]
            messages = await self.messages(person_id=contact["_id"])
            return bool(messages) and all(
                m["status"] in ("sent", "failed", "suppressed") for m in messages
            )

        await eventually(final, 20, "every message of the person sent")
        return found["id"]

    async def wait_ticks(self, count: int = 2) -> None:
        """Let the scheduler make `count` more full passes (no fixed sleep)."""
        scheduler = self.scheduler
        target = scheduler.ticks + count

        async def done() -> bool:
            return scheduler.ticks >= target

        await eventually(done, 20, f"{count} scheduler passes")


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    smtp = SmtpSink(tmp_path / "mail", port=free_port()).start()
    yield smtp
    smtp.stop()


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    server = FakeSmsGateway().start()
    server.account("ACprimary")
    server.account("ACbackup")
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2004, 11, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def notification_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def notification_settings(
    namespace: str,
    mongo_url: str,
    amqp_url: str,
    sink: SmtpSink,
    gateway: FakeSmsGateway,
    notification_overrides: dict[str, Any],
) -> NotificationSettings:
    values: dict[str, Any] = {
        "namespace": namespace,
        "database": f"notification_{namespace}",
        "mongo_url": SecretStr(mongo_url),
        "broker_url": SecretStr(amqp_url),
        "api_tokens": [SecretStr(API_TOKEN)],
        "participant_token_secret": [SecretStr(PARTICIPANT_SECRET)],
        "outbox_sweep_seconds": 0.5,
        "delivery_limit": 5,
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,
        "sms_providers": [
            SmsProvider(
                name="sms-primary",
                base_url=gateway.base_url,
                account_sid="ACprimary",
                auth_token=SecretStr("t1"),
                from_number="+15005550006",
            ),
            SmsProvider(
                name="sms-backup",
                base_url=gateway.base_url,
                account_sid="ACbackup",
                auth_token=SecretStr("t2"),
                from_number="+15005550007",
            ),
        ],
        "delivery_attempts": 4,
        "delivery_retry_base_seconds": 0.1,
        "delivery_retry_jitter": 0.2,
        "scheduler_tick_seconds": 0.05,
        "lease_seconds": 10,
        "sweep_seconds": 0.2,
    }
    values.update(notification_overrides)
    return NotificationSettings(**values)


@pytest.fixture
def notification_providers() -> dict[str, list[Any]] | None:
    """Providers to run with instead of the configured ones (None: built from the settings)."""
    return None


@pytest.fixture
async def notification(
    notification_settings: NotificationSettings,
    amqp: aio_pika.abc.AbstractRobustConnection,
    sink: SmtpSink,
    gateway: FakeSmsGateway,
    clock: FakeClock,
    notification_providers: dict[str, list[Any]] | None,
) -> AsyncIterator[RunningNotification]:
    running = RunningNotification(
        notification_settings, amqp, sink, gateway, clock, notification_providers
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        runtime = running.runtime
        await delete_topology(amqp, runtime.topology, runtime.queue_names)  # with their retry tiers
        cleanup = create_mongo_client(notification_settings.mongo_url.get_secret_value())
        await cleanup.drop_database(notification_settings.database)
        await cleanup.close()


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def registration_service(
    namespace: str, mongo_url: str, amqp_url: str, notification: RunningNotification
) -> AsyncIterator[Any]:
    """The real registration service on the same namespace, for sign-up → e-mail tests."""
    from services.registration.bootstrap import create_app as create_registration
    from services.registration.settings import RegistrationSettings

    settings = RegistrationSettings(
        namespace=namespace,
        database=f"registration_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        outbox_sweep_seconds=0.5,
        # Registration closes when the forum ends: the pack's 2004 forum would refuse every sign-up.
        forum_start_date=(date.today() + timedelta(days=30)).isoformat(),
    )
    app = create_registration(settings)
    runtime = app.state.runtime
    async with runtime.running():
        yield runtime
    channel = await notification.amqp.channel()
    for name in runtime.queue_names:
        await channel.queue_delete(name)
        await channel.queue_delete(runtime.topology.dead_letter_queue_name(name))
    await channel.close()
    cleanup = create_mongo_client(mongo_url)
    await cleanup.drop_database(settings.database)
    await cleanup.close()

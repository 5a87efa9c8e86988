from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.reporting.bootstrap import create_app
from services.reporting.deps import Reporting
from services.reporting.settings import ReportingSettings
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, eventually, handled_at_least, publish_json

API_TOKEN = "secretariat-test-token"


@dataclass
class Clock:
    """The injectable clock: tests move time instead of waiting for it."""

    now: datetime = field(default_factory=lambda: datetime(2005, 1, 5, 15, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningReporting:
    app: FastAPI
    runtime: ServiceRuntime
    deps: Reporting
    tap: EventTap
    amqp: aio_pika.abc.AbstractConnection
    clock: Clock
    sent: int = 0

    @property
    def queue(self) -> str:
        return self.runtime.queue_names[0]

    async def publish(self, *events: dict[str, Any]) -> None:
        for event in events:
            await publish_json(
                self.amqp,
                self.runtime.topology.events.name,
                event["event_type"],
                json.dumps(event).encode(),
                message_id=event["event_id"],
            )
        self.sent += len(events)

    async def settled(self) -> None:
        """Every event published so far is folded, and everything reporting wrote is published."""
        await handled_at_least(self.queue, self.sent)
        await eventually(self.outbox_empty, what="reporting's outbox published")

    async def outbox_empty(self) -> bool:
        for collection in self.deps.repository.stores.collections.values():
            if await collection.count_documents({"outbox_pending": True}):
                return False
        return True

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://reporting",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )


@pytest.fixture
def reporting_settings(namespace: str, mongo_url: str, amqp_url: str) -> ReportingSettings:
    return ReportingSettings(
        namespace=namespace,
        database=f"reporting_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        api_tokens=[SecretStr(API_TOKEN)],
        outbox_sweep_seconds=0.5,
        delivery_limit=3,
        follow_up_check_seconds=3600,
        final_memoria=False,  # the test clock starts after the forum: tests ask for it explicitly
    )


@pytest.fixture
async def databases(reporting_settings: ReportingSettings) -> AsyncIterator[list[str]]:
    """Names of databases a test creates; all are dropped afterwards."""
    names = [reporting_settings.database]
    yield names
    cleanup = create_mongo_client(reporting_settings.mongo_url.get_secret_value())
    for name in names:
        await cleanup.drop_database(name)
    await cleanup.close()


@pytest.fixture
async def reporting(
    reporting_settings: ReportingSettings,
    amqp: aio_pika.abc.AbstractRobustConnection,
    databases: list[str],
) -> AsyncIterator[RunningReporting]:
    clock = Clock()
    app = create_app(reporting_settings, clock=clock)
    runtime: ServiceRuntime = app.state.runtime
    tap = await EventTap.open(amqp, runtime.topology)
    async with runtime.running():
        yield RunningReporting(app, runtime, app.state.deps, tap, amqp, clock)
    await delete_topology(amqp, runtime.topology, runtime.queue_names)

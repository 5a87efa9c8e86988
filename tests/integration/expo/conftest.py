"""Expo running in-process against the real RabbitMQ and the real MongoDB-compatible server.

The service is started once per test module (random namespace and database, removed at the
end); tests use random ids so they never see each other's exhibitors or participants.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import yaml
from fastapi import FastAPI
from pydantic import SecretStr

from services.expo.bootstrap import create_app
from services.expo.deps import Expo
from services.expo.settings import ExpoSettings
from shared.auth.tokens import LinkSigner
from shared.contracts.envelope import Event
from shared.contracts.registration import Consents, Participant, RegistrationConfirmed
from shared.pack import DEFAULT_PACK
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, eventually, publish_json, tap_exchange
from tests.support.factories import FORUM_ID

API_TOKEN = "expo-secretariat-test-token"
BADGE_SECRET = "badge-secret-shared-with-registration"
PARTICIPANT_SECRET = "expo-participant-token-secret-for-tests"
"""The link secret (`FORO_PARTICIPANT_TOKEN_SECRET`): exhibitors' access and, as registration
would mint them, participants' personal codes."""
SECRETARIAT = {"Authorization": f"Bearer {API_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningExpo:
    app: FastAPI
    runtime: ServiceRuntime
    deps: Expo
    tap: EventTap
    intake: EventTap
    amqp: aio_pika.abc.AbstractConnection
    replicas: list[FastAPI] = field(default_factory=list)

    def http(self, app: FastAPI | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app or self.app), base_url="http://expo", timeout=60
        )

    async def publish(self, event: Event) -> None:
        """Publish on the domain-events exchange as the owning service would."""
        await publish_json(
            self.amqp,
            self.runtime.topology.events.name,
            event.event_type,
            event.model_dump_json().encode(),
            message_id=str(event.event_id),
        )

    async def events(self, event_type: str, predicate: Any = None) -> list[dict[str, Any]]:
        """Distinct events of a type: delivery is at-least-once (two replicas' relays may both
        publish one outbox entry), and consumers dedup by `event_id` — so do we."""
        await self.tap.drain()
        unique = {body["event_id"]: body for body in self.tap.of_type(event_type)}
        return [body for body in unique.values() if predicate is None or predicate(body)]

    async def wait_events(
        self, event_type: str, count: int, predicate: Any = None, timeout: float = 20
    ) -> list[dict[str, Any]]:
        async def enough() -> bool:
            return len(await self.events(event_type, predicate)) >= count

        await eventually(enough, timeout, f"{count}× {event_type}")
        return await self.events(event_type, predicate)

    # --- builders ---

    async def approved_exhibitor(self, **overrides: Any) -> tuple[str, str, dict[str, Any]]:
        body = application(**overrides)
        async with self.http() as http:
            applied = await http.post("/exhibitors/applications", json=body)
            assert applied.status_code == 202, applied.text
            exhibitor_id = applied.json()["exhibitor_id"]
            approved = await http.post(f"/exhibitors/{exhibitor_id}/approve", headers=SECRETARIAT)
            assert approved.status_code == 200, approved.text
        return exhibitor_id, approved.json()["access_token"], body

    async def confirmed_participant(self, *, share: bool = True, **overrides: Any) -> str:
        participant_id = str(uuid.uuid4())
        await self.publish(confirmation(participant_id, share=share, **overrides))
        await self.wait_attendee(participant_id)
        return participant_id

    async def wait_attendee(self, participant_id: str, **expected: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def projected() -> bool:
            document = await self.deps.repository.attendee(participant_id)
            found.update(document or {})
            return document is not None and all(document.get(k) == v for k, v in expected.items())

        await eventually(projected, what=f"attendee {participant_id} projected")
        return found

    async def participant_token(self, participant_id: str) -> str:
        """A participant's personal code, as registration mints it."""
        return LinkSigner([PARTICIPANT_SECRET]).participant(participant_id).token


def application(**overrides: Any) -> dict[str, Any]:
    token = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "application_id": f"expo-form-{token}",
        "name": f"Remesas {token}",
        "exhibitor_type": "company",
        "sector": "finance_remittances",
        "country": "SV",
        "language": "es",
        "contact": {"name": "María Gómez", "email": f"expo.{token}@example.org"},
        "staff": [],
        "staff_consented": False,
        "tier": "standard",
        "booth_preferences": [],
    }
    body.update(overrides)
    return body


def confirmation(
    participant_id: str,
    *,
    share: bool = True,
    occurred_at: datetime | None = None,
    event_type: type[RegistrationConfirmed] = RegistrationConfirmed,
    **overrides: Any,
) -> RegistrationConfirmed:
    token = uuid.uuid4().hex[:8]
    participant = Participant(
        **{
            "participant_id": participant_id,
            "forum_id": FORUM_ID,
            "given_name": "Ana",
            "family_name": f"López {token}",
            "email": f"ana.{token}@example.org",
            "organisation": "Asociación de Emigrados",
            "country": "US",
            "category": "emigrant_association",
            "language": "es",
            "consents": Consents(privacy_policy=True, share_with_exhibitors=share),
            "status": "confirmed",
            **overrides,
        }
    )
    return RegistrationConfirmed(
        producer="registration",
        participant=participant,
        submission_id=f"form-{token}",
        occurred_at=occurred_at or datetime.now(UTC),
    )


def write_pack(directory: Path, booths: list[dict[str, Any]]) -> Path:
    """The default pack with another booth inventory."""
    data = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    data["booths"] = booths
    path = directory / "pack.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def running_expo(
    mongo_url: str,
    amqp_url: str,
    *,
    pack_path: Path | None = None,
    replicas: int = 1,
    namespace: str | None = None,
    **settings: Any,
) -> AsyncIterator[RunningExpo]:
    namespace = namespace or "t" + uuid.uuid4().hex[:10]
    config = ExpoSettings(
        namespace=namespace,
        database=f"expo_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        api_tokens=[SecretStr(API_TOKEN)],
        outbox_sweep_seconds=0.5,
        delivery_limit=3,
        pack_path=pack_path,
        **{
            "badge_secret": SecretStr(BADGE_SECRET),
            "participant_token_secret": [SecretStr(PARTICIPANT_SECRET)],
            "accept_participant_id_scans": True,  # manual entry, tested too
            **settings,
        },
    )
    apps = [create_app(config) for _ in range(replicas)]
    runtimes: list[ServiceRuntime] = [app.state.runtime for app in apps]
    connection = await aio_pika.connect_robust(amqp_url)
    tap = await EventTap.open(connection, runtimes[0].topology)
    stack = [runtime.running() for runtime in runtimes]
    try:
        for context in stack:
            await context.__aenter__()
        # Staff sign-ups go to registration's intake exchange: this queue stands in for registration.
        intake = await tap_exchange(connection, runtimes[0].topology.intake.name)
        yield RunningExpo(apps[0], runtimes[0], apps[0].state.deps, tap, intake, connection, apps)
    finally:
        for context in reversed(stack):
            await context.__aexit__(None, None, None)
        topology = runtimes[0].topology
        await delete_topology(connection, topology, runtimes[0].queue_names)
        cleanup = create_mongo_client(mongo_url)
        await cleanup.drop_database(config.database)
        await cleanup.close()
        await connection.close()


@pytest.fixture(scope="module")
async def expo(mongo_url: str, amqp_url: str) -> AsyncIterator[RunningExpo]:
    async with running_expo(mongo_url, amqp_url) as running:
        yield running

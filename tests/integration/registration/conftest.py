from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aio_pika
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.registration.bootstrap import create_app
from services.registration.deps import Registration
from services.registration.settings import RegistrationSettings
from shared.pack import load_pack
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, publish_json

WEBHOOK_SECRET = "new-secret-for-tests"
OLD_WEBHOOK_SECRET = "old-secret-being-rotated-out"
API_TOKEN = "secretariat-test-token"
LINK_SECRET = "link-secret-for-tests"
"""Signs parties' own tokens: focal points' access, participants' personal codes."""


@dataclass
class RunningRegistration:
    app: FastAPI
    runtime: ServiceRuntime
    deps: Registration
    tap: EventTap
    amqp: aio_pika.abc.AbstractConnection

    @property
    def submitted_queue(self) -> str:
        return self.runtime.queue_names[0]

    @property
    def cancel_queue(self) -> str:
        return self.runtime.queue_names[1]

    async def send(
        self, body: bytes, routing_key: str = "registration.submitted", **props: Any
    ) -> None:
        await publish_json(self.amqp, self.runtime.topology.intake.name, routing_key, body, **props)

    async def participants(self, **query: Any) -> list[dict[str, Any]]:
        return await self.deps.repository.collection.find(query).to_list()


@pytest.fixture
def pack_overrides() -> dict[str, Any]:
    return {}


def today_at_venue() -> date:
    """Today at the venue: a forum starting today takes sign-ups (until its last day ends) and
    check-ins (its first day), whatever year the bundled pack is set in."""
    return datetime.now(UTC).astimezone(load_pack().forum.tz).date()


def process_env(namespace: str, mongo_url: str, amqp_url: str, **extra: str) -> dict[str, str]:
    """The environment of a registration process a test starts (and kills): its own namespace
    and database, a quick outbox sweep, registration open today."""
    return {
        "FORO_NAMESPACE": namespace,
        "FORO_MONGO_URL": mongo_url,
        "FORO_BROKER_URL": amqp_url,
        "REGISTRATION_DATABASE": f"registration_{namespace}",
        "REGISTRATION_OUTBOX_SWEEP_SECONDS": "0.5",
        "FORO_FORUM_START_DATE": today_at_venue().isoformat(),
        **extra,
    }


@pytest.fixture
def forum_start_date() -> str:
    return today_at_venue().isoformat()


@pytest.fixture
def registration_settings(
    namespace: str,
    mongo_url: str,
    amqp_url: str,
    pack_overrides: dict[str, Any],
    forum_start_date: str,
) -> RegistrationSettings:
    return RegistrationSettings(
        namespace=namespace,
        database=f"registration_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        webhook_secrets=[SecretStr(WEBHOOK_SECRET), SecretStr(OLD_WEBHOOK_SECRET)],
        api_tokens=[SecretStr(API_TOKEN)],
        participant_token_secret=[SecretStr(LINK_SECRET)],
        outbox_sweep_seconds=0.5,
        delivery_limit=3,
        pack_overrides=pack_overrides,
        forum_start_date=forum_start_date,
    )


@pytest.fixture
async def registration(
    registration_settings: RegistrationSettings, amqp: aio_pika.abc.AbstractRobustConnection
) -> AsyncIterator[RunningRegistration]:
    app = create_app(registration_settings)
    runtime: ServiceRuntime = app.state.runtime
    tap = await EventTap.open(amqp, runtime.topology)
    async with runtime.running():
        yield RunningRegistration(app, runtime, app.state.deps, tap, amqp)
    await delete_topology(amqp, runtime.topology, runtime.queue_names)
    from shared.persistence.mongo import create_mongo_client

    cleanup = create_mongo_client(registration_settings.mongo_url.get_secret_value())
    await cleanup.drop_database(registration_settings.database)
    await cleanup.close()


# --- delegations, accreditation, badges, check-in, erasure ------------------------------------------

BADGE_SECRET = "badge-secret-for-tests"


@pytest.fixture
def badge_settings(registration_settings: RegistrationSettings) -> RegistrationSettings:
    """Registration settings with badges enabled; a test module uses them by overriding
    `registration_settings` with `badge_settings`."""
    return registration_settings.model_copy(update={"badge_secret": SecretStr(BADGE_SECRET)})


@pytest.fixture
async def secretariat(registration: RunningRegistration) -> AsyncIterator[Any]:
    """An HTTP client of the running registration app, with the secretariat's token."""
    import httpx

    transport = httpx.ASGITransport(app=registration.app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://registration",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    ) as client:
        yield client


async def participant_id_of(service: RunningRegistration, email: str) -> str:
    """The id of the participant with `email`, once the sign-up is stored."""
    from tests.support.bus import eventually

    found: list[str] = []

    async def stored() -> bool:
        document = await service.deps.repository.collection.find_one(
            {"email": email.lower()}, {"_id": 1}
        )
        if document:
            found.append(document["_id"])
        return bool(document)

    await eventually(stored, what="the participant is stored")
    return found[0]


async def outbox_published(service: RunningRegistration) -> None:
    """Wait until every outbox (participants, ledgers, delegations) has been published."""
    from tests.support.bus import eventually

    async def empty() -> bool:
        for collection in service.deps.repository.stores.collections.values():
            if await collection.count_documents({"outbox_pending": True}):
                return False
        return True

    await eventually(empty, what="every outbox published")

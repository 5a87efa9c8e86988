from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.scheduling.bootstrap import create_app
from services.scheduling.deps import Scheduling
from services.scheduling.settings import SchedulingSettings
from shared.auth.tokens import LinkSigner
from shared.contracts.registration import (
    Participant,
    RegistrationCancelled,
    RegistrationConfirmed,
)
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, eventually, publish_json
from tests.support.factories import FORUM_ID

API_TOKEN = "secretariat-test-token"
PARTICIPANT_SECRET = "participant-token-secret-for-tests"
LINKS = LinkSigner([PARTICIPANT_SECRET])
# Generous bound for bulk waits: other suites share this 2-core machine. `eventually` returns as
# soon as the condition holds, so a larger bound costs nothing when things are fast.
SLOW = 60.0
PUBLIC_URL = "http://scheduling.test"


@dataclass
class RunningScheduling:
    app: FastAPI
    runtime: ServiceRuntime
    deps: Scheduling
    tap: EventTap
    amqp: aio_pika.abc.AbstractConnection
    http: httpx.AsyncClient

    @property
    def secretariat(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_TOKEN}"}

    @staticmethod
    def as_participant(participant_id: object) -> dict[str, str]:
        """The participant's personal code, as notification's confirmation e-mail hands it out."""
        return {"Authorization": f"Bearer {LINKS.participant(str(participant_id)).token}"}

    async def publish_event(self, event: Any) -> None:
        """Publish a domain event as its producer's outbox relay would."""
        await publish_json(
            self.amqp,
            self.runtime.topology.events.name,
            event.event_type,
            event.model_dump_json().encode(),
            message_id=str(event.event_id),
        )

    async def confirmed_participant(self, **details: Any) -> Participant:
        """A participant as registration confirms it (published on the bus, projected here)."""
        participant = make_participant(**details)
        await self.publish_event(
            RegistrationConfirmed(
                producer="registration",
                participant=participant,
                submission_id=f"form-{uuid.uuid4().hex[:8]}",
            )
        )
        return participant

    async def confirm_many(self, count: int) -> list[str]:
        people = [make_participant() for _ in range(count)]
        for participant in people:
            await self.publish_event(
                RegistrationConfirmed(
                    producer="registration", participant=participant, submission_id="form-x"
                )
            )
        ids = [str(p.participant_id) for p in people]
        await self.projected(*ids)
        return ids

    async def cancel_registration(
        self, participant: Participant, event_id: uuid.UUID | None = None
    ) -> RegistrationCancelled:
        event = RegistrationCancelled(
            event_id=event_id or uuid.uuid4(),
            producer="registration",
            participant=participant.model_copy(update={"status": "cancelled"}),
            previous_status="confirmed",
        )
        await self.publish_event(event)
        return event

    async def projected(self, *participant_ids: str) -> None:
        collection = self.deps.repository.participants.collection

        async def all_there() -> bool:
            return await collection.count_documents(
                {"_id": {"$in": list(participant_ids)}, "status": "confirmed"}
            ) == len(participant_ids)

        await eventually(all_there, SLOW, what=f"{len(participant_ids)} participants projected")

    async def session(self, code: str) -> dict[str, Any]:
        return await self.deps.repository.session(self.deps.session_id(code))

    async def outbox_empty(self) -> bool:
        for collection in self.deps.repository.stores.collections.values():
            if await collection.count_documents({"outbox_pending": True}):
                return False
        return True


def make_participant(**details: Any) -> Participant:
    token = uuid.uuid4().hex[:10]
    fields: dict[str, Any] = {
        "participant_id": uuid.uuid4(),
        "forum_id": FORUM_ID,
        "given_name": "Ana",
        "family_name": f"Pérez {token[:4]}",
        "email": f"ana.{token}@example.org",
        "phone": "+50370001234",
        "country": "SV",
        "category": "civil_society",
        "language": "es",
        "consents": {"privacy_policy": True},
        "status": "confirmed",
    }
    fields.update(details)
    return Participant.model_validate(fields)


@pytest.fixture
def scheduling_settings(namespace: str, mongo_url: str, amqp_url: str) -> SchedulingSettings:
    return SchedulingSettings(
        namespace=namespace,
        database=f"scheduling_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        api_tokens=[SecretStr(API_TOKEN)],
        outbox_sweep_seconds=0.5,
        delivery_limit=3,
        public_url=PUBLIC_URL,
        participant_token_secret=[SecretStr(PARTICIPANT_SECRET)],
    )


@pytest.fixture
async def scheduling(
    scheduling_settings: SchedulingSettings, amqp: aio_pika.abc.AbstractRobustConnection
) -> AsyncIterator[RunningScheduling]:
    app = create_app(scheduling_settings)
    runtime: ServiceRuntime = app.state.runtime
    tap = await EventTap.open(amqp, runtime.topology)
    try:
        async with runtime.running():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
                service = RunningScheduling(app, runtime, app.state.deps, tap, amqp, http)
                yield service
                # shared/runtime.py stops the broker before the relay flushes: let the relay
                # finish first, or a late flush fails on a closed connection.
                await eventually(service.outbox_empty, SLOW, what="outbox published")
    finally:
        await delete_topology(amqp, runtime.topology, runtime.queue_names)
        cleanup = create_mongo_client(scheduling_settings.mongo_url.get_secret_value())
        await cleanup.drop_database(scheduling_settings.database)
        await cleanup.close()


def now() -> datetime:
    return datetime.now(UTC)

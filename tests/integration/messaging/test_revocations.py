"""Revocation, one by one, on the real broker and database: an `access.revoked` event reaches a
service's `revoked_tokens`, and every replica's verifier refuses the token within the refresh —
the replica whose consumer took the event at once, the other at its next refresh."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import aio_pika
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import SecretStr

from services.scheduling.bootstrap import create_app
from services.scheduling.settings import SchedulingSettings
from shared.auth.dependencies import authenticator_for, require
from shared.auth.permissions import Permission, Role
from shared.auth.revocations import REFRESH_SECONDS, RevocationStore
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair
from shared.contracts.registration import AccessRevoked
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import delete_topology, eventually, publish_json

PRIVATE, PUBLIC = generate_key_pair()
SIGNER = TokenSigner(PRIVATE, "test-key")

probe = APIRouter()


@probe.get("/probe", dependencies=[Depends(require(Permission.PROGRAMME_READ))])
async def probe_route() -> dict[str, str]:
    return {"ok": "yes"}


@pytest.fixture
def settings(namespace: str, mongo_url: str, amqp_url: str) -> SchedulingSettings:
    return SchedulingSettings(
        namespace=namespace,
        database=f"scheduling_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        auth_public_keys={"test-key": encode_pem(PUBLIC)},
    )


@pytest.fixture
async def replicas(
    settings: SchedulingSettings, amqp: aio_pika.abc.AbstractRobustConnection
) -> AsyncIterator[list[FastAPI]]:
    """Two replicas of scheduling: one database, one queue, two consumers."""
    apps = [create_app(settings) for _ in range(2)]
    for app in apps:
        app.include_router(probe)
    try:
        async with AsyncExitStack() as stack:
            for app in apps:
                await stack.enter_async_context(app.state.runtime.running())
            yield apps
    finally:
        runtime: ServiceRuntime = apps[0].state.runtime
        await delete_topology(amqp, runtime.topology, runtime.queue_names)
        cleanup = create_mongo_client(settings.mongo_url.get_secret_value())
        await cleanup.drop_database(settings.database)
        await cleanup.close()


async def probe_status(app: FastAPI, token: str) -> tuple[int, str]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://scheduling.test"
    ) as http:
        answer = await http.get("/probe", headers={"Authorization": f"Bearer {token}"})
    code = answer.json()["detail"]["code"] if answer.status_code == 401 else ""
    return answer.status_code, code


async def publish(
    amqp: aio_pika.abc.AbstractConnection, app: FastAPI, event: AccessRevoked
) -> None:
    await publish_json(
        amqp,
        app.state.runtime.topology.events.name,
        event.event_type,
        event.model_dump_json().encode(),
        message_id=str(event.event_id),
    )


async def test_a_revoked_token_is_refused_by_every_replica_within_the_refresh(
    replicas: list[FastAPI], amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    signed = SIGNER.sign(
        subject="token:monitoring",
        kind="machine",
        roles=[Role.OBSERVER],
        lifetime=timedelta(days=30),
    )
    other = SIGNER.sign(
        subject="token:ci", kind="machine", roles=[Role.OBSERVER], lifetime=timedelta(days=30)
    )
    for app in replicas:
        assert await probe_status(app, signed.token) == (200, "")
    queue = replicas[0].state.runtime.topology.queue_name("scheduling", "access-revoked")
    assert queue in replicas[0].state.runtime.queue_names

    event = AccessRevoked(
        producer="registration", token_id=signed.jti, expires_at=signed.expires_at
    )
    await publish(amqp, replicas[0], event)
    await publish(amqp, replicas[0], event)  # a redelivery changes nothing

    store = RevocationStore(replicas[0].state.runtime.database)

    async def recorded() -> bool:
        return signed.jti in await store.revoked_ids()

    await eventually(recorded, 20, what="the revocation in scheduling's revoked_tokens")
    # Every replica refuses it within a refresh (one at once: its consumer took the event).
    for app in replicas:

        async def refused(app: FastAPI = app) -> bool:
            return await probe_status(app, signed.token) == (401, "token_revoked")

        await eventually(refused, REFRESH_SECONDS * 3, what="the token refused by every replica")
        assert await probe_status(app, other.token) == (200, "")  # one by one

    documents = await store.collection.find({}).to_list()
    assert [d["_id"] for d in documents] == [signed.jti]
    assert documents[0]["expires_at"] == signed.expires_at


async def test_the_store_keeps_each_revocation_once_until_its_token_expires(
    settings: SchedulingSettings,
) -> None:
    client = create_mongo_client(settings.mongo_url.get_secret_value())
    database = client[f"revocations_{uuid.uuid4().hex[:8]}"]
    store = RevocationStore(database)
    try:
        await store.ensure_indexes()
        now = datetime.now(UTC)
        live = AccessRevoked(
            producer="registration", token_id=uuid.uuid4().hex, expires_at=now + timedelta(hours=1)
        )
        expired = AccessRevoked(
            producer="registration", token_id=uuid.uuid4().hex, expires_at=now - timedelta(hours=1)
        )
        assert await store.record(live) is True
        assert await store.record(live) is False  # idempotent by token id
        await store.record(expired)
        assert await store.revoked_ids() == [live.token_id]  # an expired token is refused anyway
        indexes = await store.collection.index_information()
        assert indexes["revocation_expires"]["expireAfterSeconds"] == 0
    finally:
        await client.drop_database(database.name)
        await client.close()


async def test_revocations_survive_a_restart(
    settings: SchedulingSettings, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    """A replica started after the event was consumed refuses the token from its first request."""
    signed = SIGNER.sign(
        subject="token:vendor", kind="machine", roles=[Role.OBSERVER], lifetime=timedelta(days=1)
    )
    client = create_mongo_client(settings.mongo_url.get_secret_value())
    try:
        await RevocationStore(client[settings.database]).record(
            AccessRevoked(
                producer="registration", token_id=signed.jti, expires_at=signed.expires_at
            )
        )
        app = create_app(settings)
        app.include_router(probe)
        runtime: ServiceRuntime = app.state.runtime
        try:
            async with runtime.running():
                assert signed.jti in authenticator_for(runtime).revoked
                assert await probe_status(app, signed.token) == (401, "token_revoked")
        finally:
            await delete_topology(amqp, runtime.topology, runtime.queue_names)
    finally:
        await client.drop_database(settings.database)
        await client.close()

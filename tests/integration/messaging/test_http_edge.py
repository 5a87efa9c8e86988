"""The HTTP edge when the broker cannot take a command: 503 with Retry-After, never a 500."""

from __future__ import annotations

import httpx
from aio_pika.exceptions import ChannelInvalidStateError
from fastapi import APIRouter
from pydantic import SecretStr

from shared.http import create_http_app
from shared.messaging.broker import PublishTimeout
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings


async def test_a_command_the_broker_cannot_take_is_answered_503_with_retry_after() -> None:
    settings = ServiceSettings(
        database="unused", broker_url=SecretStr("amqp://guest:guest@127.0.0.1:1/")
    )
    runtime = ServiceRuntime.create("probe", settings, description="probe")
    router = APIRouter()

    @router.post("/timeout")
    async def timeout() -> None:
        raise PublishTimeout("no confirm within 10 s")

    @router.post("/closed")
    async def closed() -> None:
        raise ChannelInvalidStateError("channel closed")

    app = create_http_app(runtime, title="probe", description="probe", routers=[router])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://probe"
    ) as client:
        for path in ("/timeout", "/closed"):
            response = await client.post(path)
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "5"
            assert response.json()["detail"]["code"] == "broker_unavailable"
            assert response.json()["detail"]["message_es"]
    await runtime.mongo.close()

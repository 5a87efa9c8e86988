"""The SMS adapters' requests and how they classify a gateway's answers (HTTP faked at unit level);
SMTP sessions kept open, replaced when the relay closed them, and limited in number."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from services.notification.providers import Outgoing, ProviderError
from services.notification.settings import SmsProvider, SmtpProvider
from services.notification.sink import SmtpSink
from services.notification.sms import HttpSms
from services.notification.smtp import SmtpEmail
from tests.support.servers import free_port

MESSAGE = Outgoing(message_id="m-1", to="+50370001234", text="Su inscripción está confirmada.")


def adapter(kind: str, answer: httpx.Response, seen: list[httpx.Request]) -> HttpSms:
    provider = HttpSms(
        SmsProvider(
            name=f"sms-{kind}",
            kind=kind,
            base_url="https://gw.example/api",
            account_sid="AC123",
            auth_token=SecretStr("tok"),
            from_number="+15005550006",
        )
    )

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    provider._client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return provider


async def test_the_twilio_adapter_posts_the_messages_api_form_with_basic_auth() -> None:
    seen: list[httpx.Request] = []
    provider = adapter("twilio", httpx.Response(201, json={"sid": "SM42"}), seen)
    assert await provider.send(MESSAGE) == "SM42"
    request = seen[0]
    assert request.url == "https://gw.example/api/2010-04-01/Accounts/AC123/Messages.json"
    assert parse_qs(request.content.decode()) == {
        "To": ["+50370001234"],
        "From": ["+15005550006"],
        "Body": ["Su inscripción está confirmada."],
    }
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    assert request.headers["Idempotency-Key"] == "m-1"
    await provider.close()


async def test_the_json_adapter_posts_json_and_reads_the_id() -> None:
    seen: list[httpx.Request] = []
    provider = adapter("json", httpx.Response(200, json={"id": "abc"}), seen)
    assert await provider.send(MESSAGE) == "abc"
    assert json.loads(seen[0].content) == {
        "to": "+50370001234",
        "from": "+15005550006",
        "text": "Su inscripción está confirmada.",
        "reference": "m-1",
    }
    await provider.close()


@pytest.mark.parametrize(
    ("status", "permanent"), [(500, False), (503, False), (429, False), (400, True), (401, True)]
)
async def test_gateway_errors_are_transient_or_permanent(status: int, permanent: bool) -> None:
    provider = adapter("twilio", httpx.Response(status, json={"message": "no"}), [])
    with pytest.raises(ProviderError) as raised:
        await provider.send(MESSAGE)
    assert raised.value.reason == f"HTTP {status}" and raised.value.permanent is permanent
    assert "+503" not in raised.value.reason  # reasons never carry the number
    await provider.close()


async def test_a_gateway_that_never_answers_is_a_transient_timeout() -> None:
    provider = HttpSms(
        SmsProvider(
            name="sms-blackhole",
            base_url="https://gw.example/api",
            account_sid="AC1",
            auth_token=SecretStr("t"),
            from_number="+15005550006",
            send_timeout_seconds=0.2,
        )
    )
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()  # a gateway that accepted the connection and says nothing
        return httpx.Response(201)

    provider._client = httpx.AsyncClient(transport=httpx.MockTransport(hang))
    started = time.monotonic()
    with pytest.raises(ProviderError) as error:
        await provider.send(MESSAGE)
    assert (error.value.reason, error.value.permanent) == ("timeout", False)
    assert time.monotonic() - started < 2
    await provider.close()


@pytest.mark.parametrize("step_timeout", [0.2, 30.0])  # a step times out, or the whole send does
async def test_an_smtp_relay_that_never_greets_is_a_transient_timeout(step_timeout: float) -> None:
    connections: list[asyncio.StreamWriter] = []

    async def blackhole(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accepted, never answered

    server = await asyncio.start_server(blackhole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    relay = SmtpEmail(
        SmtpProvider(
            name="smtp-blackhole",
            host="127.0.0.1",
            port=port,
            timeout_seconds=step_timeout,
            send_timeout_seconds=0.5,
        ),
        "Foro <no-reply@foro.example.org>",
    )
    started = time.monotonic()
    try:
        with pytest.raises(ProviderError) as error:
            await relay.send(
                Outgoing(message_id="m-2", to="ana@example.org", subject="s", text="t")
            )
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
    assert (error.value.reason, error.value.permanent) == ("timeout", False)
    assert time.monotonic() - started < 3


def counting_relay(sink: SmtpSink, **options: object) -> tuple[SmtpEmail, list[int]]:
    """An SMTP provider on the sink that counts the sessions it opens."""
    relay = SmtpEmail(
        SmtpProvider(name="smtp-sink", host="127.0.0.1", port=sink.port, **options),  # type: ignore[arg-type]
        "Foro <no-reply@foro.example.org>",
    )
    opened: list[int] = []
    connect = relay.sessions._connect

    async def counted():  # type: ignore[no-untyped-def]
        opened.append(1)
        return await connect()

    relay.sessions._connect = counted  # type: ignore[method-assign]
    return relay, opened


def mail(n: int) -> Outgoing:
    return Outgoing(message_id=f"m-{n}", to=f"p{n}@example.org", subject="Sesión", text="Hola")


async def test_an_smtp_session_is_kept_open_for_the_next_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with SmtpSink(tmp_path, port=free_port()) as sink:
        relay, opened = counting_relay(sink)
        for n in range(3):
            assert await relay.send(mail(n)) == f"<m-{n}@foro.notification>"
        await relay.close()
        assert sink.saved == 3 and len(opened) == 1
        subjects = {m["Subject"] for m in sink.messages()}
    assert subjects == {"Sesión"}


async def test_a_session_the_relay_closed_is_replaced_and_the_message_goes_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with SmtpSink(tmp_path, port=free_port()) as sink:
        relay, opened = counting_relay(sink)
        await relay.send(mail(1))
        (kept,) = relay.sessions._idle
        kept.transport.close()  # as a relay's idle timeout does  # type: ignore[union-attr]
        await relay.send(mail(2))
        await relay.close()
        assert sink.saved == 2 and len(opened) == 2
        assert sorted(m["To"] for m in sink.messages()) == ["p1@example.org", "p2@example.org"]


async def test_sends_at_once_never_use_more_sessions_than_allowed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with SmtpSink(tmp_path, port=free_port()) as sink:
        relay, opened = counting_relay(sink, connections=2)
        await asyncio.gather(*(relay.send(mail(n)) for n in range(8)))
        await relay.close()
        assert sink.saved == 8 and len(opened) <= 2

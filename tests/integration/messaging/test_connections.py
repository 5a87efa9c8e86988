"""Connections: the test proxy itself, then a service's broker connection through it."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from shared.http import create_http_app
from shared.messaging.broker import PublishTimeout
from shared.messaging.publishers import publish_body
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from tests.support.bus import delete_topology, eventually, publish_json
from tests.support.tcp_proxy import TcpProxy

# ---------------------------------------------------------------- the proxy, against an echo server


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> bytes:
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), timeout=5)


async def test_proxy_passes_traffic_and_rewrites_urls(echo: int) -> None:
    async with TcpProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"hello") == b"hello"
        writer.close()
        assert (
            proxy.url_for("amqp://u:p@10.0.0.1:5672/vh?x=1")
            == f"amqp://u:p@127.0.0.1:{proxy.port}/vh?x=1"
        )
        assert proxy.url_for("mongodb://127.0.0.1:27017/") == f"mongodb://127.0.0.1:{proxy.port}/"


async def test_blackhole_holds_both_ways_without_closing_then_delivers(echo: int) -> None:
    async with TcpProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"a") == b"a"
        proxy.blackhole()
        writer.write(b"held")
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), timeout=0.3)
        assert not reader.at_eof() and proxy.active == 1
        late_reader, late_writer = await asyncio.open_connection(
            "127.0.0.1", proxy.port
        )  # accepted, held
        late_writer.write(b"late")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(late_reader.readexactly(4), timeout=0.3)
        proxy.pass_through()
        assert await asyncio.wait_for(reader.readexactly(4), timeout=5) == b"held"
        assert await asyncio.wait_for(late_reader.readexactly(4), timeout=5) == b"late"
        writer.close()
        late_writer.close()


async def test_drop_resets_existing_and_new_connections_until_passing_again(echo: int) -> None:
    async with TcpProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"a") == b"a"
        proxy.drop()
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await _roundtrip(reader, writer, b"b")
        reader2, writer2 = await asyncio.open_connection("127.0.0.1", proxy.port)
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await _roundtrip(reader2, writer2, b"c")
        proxy.pass_through()
        reader3, writer3 = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader3, writer3, b"d") == b"d"
        writer3.close()
        await proxy.wait_accepted(3, timeout=1)


# ---------------------------------------------------------------- a service's broker connection, through the proxy


@dataclass
class Probe:
    """A minimal service: one consumer, the runtime, and the proxy in front of the broker."""

    runtime: ServiceRuntime
    proxy: TcpProxy
    queue: str
    handled: list[int] = field(default_factory=list)

    async def ready(self) -> bool:
        return all((await self.runtime.readiness()).values())

    async def broker_up(self) -> bool:
        return (await self.runtime.readiness())["broker"]


def probe_settings(
    namespace: str, mongo_url: str, proxy: TcpProxy, amqp_url: str, **overrides: Any
) -> ServiceSettings:
    return ServiceSettings(
        namespace=namespace,
        database=f"foro_probe_{namespace}",
        broker_url=SecretStr(proxy.url_for(amqp_url)),
        mongo_url=SecretStr(mongo_url),
        broker_connect_timeout=1.0,
        broker_reconnect_seconds=0.5,
        broker_heartbeat_seconds=2,  # a silent connection is given up after about 9 s
        broker_publish_timeout=1.0,
        start_retry_max_seconds=1.0,
        **{"outbox_sweep_seconds": 5.0, **overrides},
    )


def build_probe(settings: ServiceSettings, proxy: TcpProxy) -> Probe:
    runtime = ServiceRuntime.create(
        f"probe-{settings.namespace}", settings, description="connection probe"
    )
    queue = runtime.topology.queue("probe", "pings", "probe.ping")
    runtime.queue_names = [queue.name]
    probe = Probe(runtime, proxy, queue.name)

    @runtime.broker.subscriber(queue, runtime.topology.intake)
    async def on_ping(body: dict[str, int]) -> None:
        probe.handled.append(body["n"])

    return probe


@pytest.fixture
async def proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    async with TcpProxy.for_url(amqp_url) as started:
        yield started


@pytest.fixture
async def probe_settings_(
    namespace: str, mongo_url: str, proxy: TcpProxy, amqp_url: str
) -> ServiceSettings:
    return probe_settings(namespace, mongo_url, proxy, amqp_url)


@pytest.fixture
async def probe(probe_settings_: ServiceSettings, proxy: TcpProxy, amqp) -> AsyncIterator[Probe]:
    probe = build_probe(probe_settings_, proxy)
    try:
        async with probe.runtime.running():
            try:
                yield probe
            finally:
                proxy.pass_through()  # stop over a working network
    finally:
        await delete_topology(amqp, probe.runtime.topology, probe.runtime.queue_names)


async def ping(amqp, probe: Probe, n: int) -> None:
    """Published straight to the broker, not through the proxy: the queue holds it meanwhile."""
    await publish_json(
        amqp, probe.runtime.topology.intake.name, "probe.ping", json.dumps({"n": n}).encode()
    )


async def handled(probe: Probe, n: int, timeout: float = 20.0) -> None:
    async def seen() -> bool:
        return n in probe.handled

    await eventually(seen, timeout, f"ping {n} handled")


async def not_ready(probe: Probe) -> bool:
    return not await probe.broker_up()


async def test_start_up_waits_for_a_broker_that_never_answers_while_live_and_not_ready(
    probe_settings_: ServiceSettings, proxy: TcpProxy, amqp
) -> None:
    proxy.blackhole()  # accepts TCP, never completes the AMQP handshake
    probe = build_probe(probe_settings_, proxy)
    app = create_http_app(probe.runtime, title="probe", description="probe", routers=[])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe")
    try:
        async with asyncio.timeout(30), app.router.lifespan_context(app):  # returns at once
            assert (await client.get("/health/live")).status_code == 200
            response = await client.get("/health/ready")
            assert response.status_code == 503 and response.json()["checks"]["broker"] is False

            async def retried() -> bool:
                return probe.runtime.start_attempts >= 3

            await eventually(
                retried, 15, "start-up retried"
            )  # each attempt gave up after the connect timeout
            assert (await client.get("/health/ready")).status_code == 503

            proxy.pass_through()

            async def ready() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            await eventually(ready, 15, "ready once the broker answers")
            await ping(amqp, probe, 1)
            await handled(probe, 1)
    finally:
        await client.aclose()
        await delete_topology(amqp, probe.runtime.topology, probe.runtime.queue_names)


async def test_start_up_stops_promptly_while_the_broker_is_unreachable(
    probe_settings_: ServiceSettings, proxy: TcpProxy
) -> None:
    proxy.drop()
    probe = build_probe(probe_settings_, proxy)
    app = create_http_app(probe.runtime, title="probe", description="probe", routers=[])
    async with asyncio.timeout(10):
        async with app.router.lifespan_context(app):

            async def retried() -> bool:
                return probe.runtime.start_attempts >= 2

            await eventually(retried, 5, "start-up retried")
    assert not probe.runtime.started and proxy.active == 0


async def test_consumers_resume_after_the_connection_is_dropped(
    probe: Probe, proxy: TcpProxy, amqp
) -> None:
    await ping(amqp, probe, 1)
    await handled(probe, 1)
    accepted = proxy.accepted

    proxy.drop()
    await eventually(lambda: not_ready(probe), 10, "not ready while the connection is lost")
    await ping(amqp, probe, 2)  # waits in the queue
    with pytest.raises(Exception):  # noqa: B017 - whatever aio-pika raises, it raises at once
        async with asyncio.timeout(3):
            await publish_body(
                probe.runtime.broker,
                probe.runtime.topology.intake,
                "probe.ping",
                {"n": 3},
                event_id="x",
            )

    proxy.pass_through()
    await proxy.wait_accepted(accepted + 1, timeout=10)
    await handled(probe, 2)
    await eventually(probe.ready, 10, "ready again")
    await ping(amqp, probe, 4)
    await handled(probe, 4)


async def test_consumers_resume_after_a_network_blackhole(
    probe: Probe, proxy: TcpProxy, amqp
) -> None:
    await ping(amqp, probe, 1)
    await handled(probe, 1)

    proxy.blackhole()
    blackholed_at = time.monotonic()
    await ping(amqp, probe, 2)
    with pytest.raises(PublishTimeout):  # a publish never hangs: it fails at the publish timeout
        async with asyncio.timeout(5):
            await publish_body(
                probe.runtime.broker,
                probe.runtime.topology.intake,
                "probe.ping",
                {"n": 3},
                event_id="x",
            )
    # Heartbeats (2 s here) give the silent connection up within about 9 s: not ready, reconnecting.
    await eventually(lambda: not_ready(probe), 15, "not ready once the silence is detected")
    # The outage itself lasts about ten seconds, whatever the client noticed: nothing to await.
    await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - blackholed_at)))
    assert 2 not in probe.handled

    proxy.pass_through()
    await handled(probe, 2)
    await eventually(probe.ready, 15, "ready again")
    await ping(amqp, probe, 4)
    await handled(probe, 4)


async def test_consumers_resume_after_the_server_closes_the_connection(probe: Probe, amqp) -> None:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not available")
    await ping(amqp, probe, 1)
    await handled(probe, 1)
    name = f"foro-probe-{probe.runtime.settings.namespace}"
    accepted = probe.proxy.accepted
    assert await close_connections_named(name) == 1  # only this test's own connection

    await probe.proxy.wait_accepted(accepted + 1, timeout=10)  # a new connection, nobody asked
    await ping(amqp, probe, 2)
    await handled(probe, 2)
    await eventually(probe.ready, 15, "ready again")


async def close_connections_named(name: str) -> int:
    """`rabbitmqctl close_connection` on the connections bearing exactly `name` (ours only)."""

    async def run(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "rabbitmqctl",
            "-q",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        if process.returncode:
            raise RuntimeError(f"rabbitmqctl {args[0]} failed: {err.decode()}")
        return out.decode()

    listed = await run("list_connections", "--no-table-headers", "pid", "client_properties")
    mark = f'{{"connection_name","{name}"}}'
    pids = [line.split("\t")[0] for line in listed.splitlines() if mark in line]
    for pid in pids:
        await run("close_connection", pid, "closed by test_connections")
    return len(pids)

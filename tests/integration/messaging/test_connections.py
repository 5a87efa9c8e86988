"""Connections: the test proxy itself, then a service's broker connection through it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

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


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> bytes:
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), timeout=5)


async def test_proxy_passes_traffic_and_rewrites_urls(echo: int) -> None:
    async with TcpProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"hello") == b"hello"
        writer.close()
        assert proxy.url_for("amqp://u:p@10.0.0.1:5672/vh?x=1") == f"amqp://u:p@127.0.0.1:{proxy.port}/vh?x=1"
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
        late_reader, late_writer = await asyncio.open_connection("127.0.0.1", proxy.port)  # accepted, held
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

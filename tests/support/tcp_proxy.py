"""A TCP proxy a test puts between a client and a real server, to break the network on purpose.

    async with TcpProxy("127.0.0.1", 5672) as proxy:
        url = proxy.url_for(amqp_url)       # the same URL, host and port replaced by the proxy's
        ...
        proxy.blackhole()   # a partition: nothing flows either way, nothing is closed
        proxy.drop()        # every connection closed (reset), new ones closed at once
        proxy.pass_through()

`blackhole()` behaves like a cable pulled out: existing connections stay open but carry
nothing in either direction (what was read is held, and delivered if the link comes back, as
TCP retransmission would); a new connection is accepted (the kernel completes the handshake)
but never reaches the server until the proxy passes traffic again. `drop()` behaves like a
server that died: every connection is reset and a new one is reset as soon as it is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 65_536


class Mode(enum.Enum):
    PASS = "pass"
    BLACKHOLE = "blackhole"
    DROP = "drop"


class _Link:
    """One client connection and, once traffic may flow, its upstream connection."""

    def __init__(
        self,
        proxy: TcpProxy,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.client_reader = client_reader
        self.client_writer = client_writer
        self.upstream_writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            await self.proxy._flowing.wait()
            upstream_reader, self.upstream_writer = await asyncio.open_connection(
                self.proxy.target_host, self.proxy.target_port
            )
            await asyncio.gather(
                self._pump(self.client_reader, self.upstream_writer),
                self._pump(upstream_reader, self.client_writer),
            )
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await self.proxy._flowing.wait()  # a blackhole stops reading: the sender's buffers fill
            data = await reader.read(_CHUNK)
            if not data:
                break
            await self.proxy._flowing.wait()  # read just before the blackhole: held, not lost
            writer.write(data)
            await writer.drain()
        # AMQP and MongoDB never half-close: one side gone means the link is gone.
        self.abort()

    def abort(self) -> None:
        """Reset both sides (RST, not FIN: what a dead peer or a broken path looks like)."""
        for writer in (self.client_writer, self.upstream_writer):
            if writer is not None and not writer.transport.is_closing():
                writer.transport.abort()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()


class TcpProxy:
    """Listens on a free port of `listen_host` and forwards to `target_host:target_port`."""

    def __init__(
        self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.port = 0
        self.mode = Mode.PASS
        self.accepted = 0  # connections accepted since start, in any mode
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._accepted_changed = asyncio.Condition()

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        """A proxy in front of the server a URL names (`amqp://…`, `mongodb://…`)."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"the URL names no host and port: {parts.scheme}://…")
        return cls(parts.hostname, parts.port)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(
            self._accept, self.listen_host, 0, reuse_address=True
        )
        sock: socket.socket = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and reset every connection."""
        if self._server is not None:
            self._server.close()
        self._reset_all()
        tasks = [link.task for link in self._links if link.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5.0)
            self._server = None

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def active(self) -> int:
        """Client connections currently open through the proxy."""
        return len(self._links)

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's (credentials, path and query kept)."""
        parts = urlsplit(url)
        userinfo, _, _ = parts.netloc.rpartition("@")
        netloc = f"{userinfo}@{self.address}" if userinfo else self.address
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def pass_through(self) -> None:
        """Forward traffic; what a blackhole held is delivered now."""
        self.mode = Mode.PASS
        self._flowing.set()

    def blackhole(self) -> None:
        """Forward nothing, close nothing: existing and new connections hang."""
        self.mode = Mode.BLACKHOLE
        self._flowing.clear()

    def drop(self) -> None:
        """Reset every connection, and every new one as soon as it is accepted."""
        self.mode = Mode.DROP
        self._flowing.clear()
        self._reset_all()

    async def wait_accepted(self, count: int, timeout: float = 20.0) -> None:
        """Wait until `count` connections have been accepted since start (e.g. a reconnection)."""
        async with asyncio.timeout(timeout):
            async with self._accepted_changed:
                await self._accepted_changed.wait_for(lambda: self.accepted >= count)

    def _reset_all(self) -> None:
        for link in list(self._links):
            link.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        async with self._accepted_changed:
            self._accepted_changed.notify_all()
        if self.mode is Mode.DROP:
            writer.transport.abort()
            return
        link = _Link(self, reader, writer)
        link.task = asyncio.current_task()
        self._links.add(link)
        try:
            await link.run()
        except asyncio.CancelledError:
            pass  # reset by drop() or stop(): the connection is gone, not the proxy
        finally:
            self._links.discard(link)

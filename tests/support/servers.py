"""Real servers for the tests: the embedded MongoDB-compatible server, and the local RabbitMQ."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo import MongoClient


def ephemeral_ports_start() -> int:
    """Where the kernel starts handing out ports for outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port below the ephemeral range, for a server a test starts a moment later.

    A port the kernel hands out (bind to 0) is an ephemeral one: any process's outgoing
    connection (a service to the broker, say) may take it before the server binds it.
    """
    high = max(10_001, ephemeral_ports_start())
    while True:
        port = random.randrange(10_000, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def secantusd_command() -> str:
    found = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    if not Path(found).exists():
        raise RuntimeError(
            "secantusd-py not found: install the test extras (pip install -e '.[test]')"
        )
    return found


def secantusd_args(port: int, storage: Path) -> list[str]:
    """The command line of a SecantusDB server on `port`, storing in `storage`."""
    return [
        secantusd_command(),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--storage-path", str(storage), "--log-level", "WARNING"),
    ]


def mongo_url_for(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"


def wait_for_mongo(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    client = MongoClient(url, serverSelectionTimeoutMS=500)
    try:
        while True:
            try:
                client.admin.command("ping")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
    finally:
        client.close()


@contextmanager
def embedded_mongo(storage: Path | None = None) -> Iterator[str]:
    """A SecantusDB server on a free port for the duration of the block; yields its URL."""
    port = free_port()
    owned = storage is None
    storage = storage or Path(tempfile.mkdtemp(prefix="foro-secantus-"))
    log = open(storage.parent / f"{storage.name}.log", "wb")
    process = subprocess.Popen(
        secantusd_args(port, storage),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = mongo_url_for(port)
    try:
        wait_for_mongo(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if owned:
            shutil.rmtree(storage, ignore_errors=True)


def broker_url() -> str:
    return os.environ.get("FORO_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0

"""Session-wide real servers and per-test isolation (random namespace and database names)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest

from shared.logging import configure_logging
from tests.support.bus import delete_namespaces
from tests.support.servers import broker_url, embedded_mongo

configure_logging("tests", "WARNING", "console")


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """The MongoDB-compatible server every test talks to.

    FORO_TEST_MONGO_URL: an existing MongoDB; FORO_TEST_MONGO=docker: a mongod container through
    testcontainers (needs a Docker engine); otherwise an embedded SecantusDB server.
    """
    if url := os.environ.get("FORO_TEST_MONGO_URL"):
        yield url
        return
    if os.environ.get("FORO_TEST_MONGO") == "docker":
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as container:
            yield container.get_connection_url()
        return
    with embedded_mongo() as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return broker_url()


_NAMESPACES: list[str] = []
NAMESPACE_BATCH = 8
"""Finished tests' namespaces are deleted this many at a time (listing the broker's queues costs
a `rabbitmqctl` call). Left until the session's end, a long run's queues pile up on the broker:
quorum queues hold file handles, and a broker out of them stops accepting connections."""


@pytest.fixture
def namespace(amqp_url: str) -> Iterator[str]:
    """A fresh prefix for every exchange and queue of one test; deleted (with whatever other
    services declared under it) soon after the test, once its processes are stopped."""
    name = "t" + uuid.uuid4().hex[:10]
    yield name
    _NAMESPACES.append(name)
    if len(_NAMESPACES) >= NAMESPACE_BATCH:
        finished = _NAMESPACES[:]
        _NAMESPACES.clear()
        asyncio.run(delete_namespaces(amqp_url, finished))


@pytest.fixture(scope="session", autouse=True)
def _broker_left_clean(amqp_url: str) -> Iterator[None]:
    """Whatever the last tests' namespaces declared goes at the end."""
    yield
    if _NAMESPACES:
        asyncio.run(delete_namespaces(amqp_url, _NAMESPACES))


@pytest.fixture
async def amqp(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url)
    yield connection
    await connection.close()

"""The fault suite: each test runs the platform as real processes, does one fault to it, and
accounts for what reached people. Rows are printed, kept in `<pytest basetemp>/faults-results.txt`
and repeated in the terminal summary, so a run's table can be pasted into a note."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.faults import (
    ROW_HEADER,
    Accounting,
    Platform,
    PrivateRabbit,
    RabbitAdmin,
    rabbitmq_available,
    record,
    results_file,
)

_ROWS: list[str] = []
_RESULTS: list[Path] = []


@pytest.fixture(scope="session")
def fault_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = results_file(tmp_path_factory.getbasetemp())
    _RESULTS.append(path)
    return path


@pytest.fixture
def report(fault_results: Path) -> Callable[[Accounting], None]:
    def keep(accounting: Accounting) -> None:
        record(accounting, fault_results, _ROWS)

    return keep


@dataclass
class Broker:
    url: str
    admin: RabbitAdmin


@pytest.fixture(scope="session")
async def fault_broker(
    tmp_path_factory: pytest.TempPathFactory, amqp_url: str
) -> AsyncIterator[Broker]:
    """The suite's broker: a private RabbitMQ node, so that faults (cut connections, killed
    consumers, queues left mid-flight) never reach the node every other test shares.
    FORO_FAULTS_BROKER=shared runs on the shared one instead (cutting only this suite's
    connections, by name)."""
    if os.environ.get("FORO_FAULTS_BROKER") == "shared" or not rabbitmq_available():
        yield Broker(amqp_url, RabbitAdmin())
        return
    node = PrivateRabbit(tmp_path_factory.mktemp("rabbitmq"))
    try:
        await node.start()
        yield Broker(node.url, node.admin)
    finally:
        await node.stop()
        node.kill()


@pytest.fixture
def fault_namespace(request: pytest.FixtureRequest, fault_broker: Broker) -> str:
    """On the private node a namespace of its own (the node goes at the end); on the shared one
    the suite's `namespace`, deleted at the end of the session like every other test's."""
    if fault_broker.admin.node is None:
        return request.getfixturevalue("namespace")
    return "f" + uuid.uuid4().hex[:10]


@pytest.fixture
async def platform(
    tmp_path: Path, fault_namespace: str, fault_broker: Broker
) -> AsyncIterator[Callable[..., Platform]]:
    """A factory: `await platform(services=...)` gives a started platform, stopped at the end."""
    started: list[Platform] = []
    namespace = fault_namespace

    async def make(**options) -> Platform:
        options.setdefault("broker_url", fault_broker.url)
        options.setdefault("admin", fault_broker.admin)
        running = Platform(tmp_path, namespace, **options)
        started.append(running)
        return await running.start()

    yield make
    for running in started:
        await running.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _ROWS:
        return
    terminalreporter.section("fault suite accounting")
    terminalreporter.write_line(ROW_HEADER)
    for row in _ROWS:
        terminalreporter.write_line(row)
    if _RESULTS:
        terminalreporter.write_line(f"(also in {_RESULTS[0]})")

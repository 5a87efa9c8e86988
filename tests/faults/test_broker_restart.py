"""Scenario 10: the broker node restarted mid-stream. A RabbitMQ node of this test's own
(tests/support/faults.py: PrivateRabbit) is stopped and a fresh one started on the same ports and
mnesia directory; durable quorum queues and persistent messages must survive, the services must
reconnect by themselves, and the vendor sends again what it could not publish meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.support.faults import Accounting, Platform, PrivateRabbit, rabbitmq_available

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        not rabbitmq_available(), reason="needs rabbitmq-server on this machine for a private node"
    ),
]

N = 30
RATE = 10.0


@pytest.fixture
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateRabbit]:
    rabbit = PrivateRabbit(tmp_path_factory.mktemp("rabbitmq-restart"))
    try:
        await rabbit.start()
        yield rabbit
    finally:
        await rabbit.stop()
        rabbit.kill()


async def test_broker_node_restarted_mid_stream(
    node: PrivateRabbit, tmp_path: Path, report: Callable[[Accounting], None]
) -> None:
    running = Platform(tmp_path, "frestart", node.url, admin=node.admin, broker_proxy=False)
    try:
        await running.start()
        stream = running.stream(N, RATE)
        await running.vendor.reached(N // 2)
        down = time.monotonic()
        await node.restart()
        fault_end = time.monotonic()
        await asyncio.wait_for(stream, 150)
        accounting = await running.account("10 broker node restart", fault_end)
        accounting.notes.append(
            f"node down for {fault_end - down:.1f}s; vendor re-sent {running.vendor.republished}×"
        )
        report(accounting)
        accounting.assert_guarantees()
    finally:
        await running.stop()

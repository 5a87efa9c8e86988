"""End to end: README command 1's launcher starts the platform; a form vendor's sign-up, sent
with plain aio-pika, comes back as `registration.confirmed` on the bus."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import aio_pika
import pytest

from shared.messaging.topology import Topology
from tests.support.bus import EventTap
from tests.support.factories import signup
from tests.support.servers import free_port, port_free

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def port_base() -> int:
    while True:
        base = random.randrange(20000, 60000, 10)
        if all(port_free(base + offset) for offset in range(1, 30)):
            return base


async def test_launcher_runs_the_platform_and_a_vendor_sign_up_is_confirmed(
    namespace: str, amqp_url: str, amqp: aio_pika.abc.AbstractRobustConnection, tmp_path: Path
) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "deploy/local/devstack.py", "up", "--no-sample", "--data-dir", str(tmp_path / "foro"),
         "--namespace", namespace, "--mongo-port", str(free_port()), "--port-base", str(port_base())],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        while True:  # the launcher prints READY once every service answers /health/ready
            line = await asyncio.wait_for(asyncio.to_thread(launcher.stdout.readline), timeout=180)
            assert line, "launcher exited early:\n" + "".join(output)
            output.append(line)
            if "READY" in line:
                break
        assert any("registration ready" in line for line in output)
        assert any("send-sample" in line for line in output)  # it tells the user how to send one

        topology = Topology(namespace)
        tap = await EventTap.open(amqp, topology, "registration.confirmed")
        connection = await aio_pika.connect(amqp_url)  # a form vendor: plain aio-pika, nothing of foro
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            intake = await channel.get_exchange(f"{namespace}.intake")
            body = signup()
            await intake.publish(
                aio_pika.Message(json.dumps(body).encode(), content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key="registration.submitted",
                mandatory=True,
            )
        confirmed = await tap.wait_for("registration.confirmed", timeout=60)
        assert confirmed[0]["participant"]["email"] == body["email"]
        assert confirmed[0]["correlation_id"] == body["event_id"]
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            launcher.kill()

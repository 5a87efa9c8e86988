"""End to end: README command 1's launcher starts the platform; a form vendor's sign-up, sent
with plain aio-pika, comes back as `registration.confirmed` on the bus."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import aio_pika
import pytest

from shared.messaging.topology import Topology
from tests.support.bus import EventTap
from tests.support.factories import signup
from tests.support.processes import Launcher
from tests.support.servers import ephemeral_ports_start, port_free

pytestmark = pytest.mark.e2e


def port_base() -> int:
    """A base whose ports 1–29 are free, below the kernel's ephemeral range: the services'
    own outgoing connections (broker, database, SMTP) take ephemeral ports, and one of them
    could take a port between this check and the service's bind. The launcher uses base+1 …
    base+5 (services), base+25 (SMTP sink); the tests put SecantusDB on `mongo_port(base)`."""
    ephemeral_low = ephemeral_ports_start()
    while True:
        base = random.randrange(10000, max(10010, ephemeral_low - 30), 10)
        if all(port_free(base + offset) for offset in range(1, 30)):
            return base


def mongo_port(base: int) -> int:
    return base + 27


async def test_launcher_runs_the_platform_and_a_vendor_sign_up_is_confirmed(
    namespace: str, amqp_url: str, amqp: aio_pika.abc.AbstractRobustConnection, tmp_path: Path
) -> None:
    launcher = Launcher(
        tmp_path / "foro",
        "--no-sample",
        "--namespace",
        namespace,
        "--mongo-port",
        str(mongo_port(base := port_base())),
        "--port-base",
        str(base),
        "--forum-start-date",
        "2031-03-06",
    )
    try:
        await launcher.line("READY", 180)  # printed once every service answers /health/ready
        output = launcher.text()
        assert "registration ready" in output
        assert "send-sample" in output  # it tells the user how to send one
        assert (
            "Thursday 06 March 2031 to Friday 07 March 2031" in output
        )  # the forum's dates, as asked

        topology = Topology(namespace)
        tap = await EventTap.open(amqp, topology, "registration.confirmed")
        connection = await aio_pika.connect(
            amqp_url
        )  # a form vendor: plain aio-pika, nothing of foro
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            intake = await channel.get_exchange(f"{namespace}.intake")
            body = signup()
            await intake.publish(
                aio_pika.Message(
                    json.dumps(body).encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="registration.submitted",
                mandatory=True,
            )
        confirmed = await tap.wait_for("registration.confirmed", timeout=60)
        assert confirmed[0]["participant"]["email"] == body["email"]
        assert confirmed[0]["correlation_id"] == body["event_id"]

        # The operator's view of this stack: `.foro/foro.env` holds what the services got (their
        # secrets too, so only its owner reads it), and `foro --env-file` works against it.
        operator_env = tmp_path / "foro" / "foro.env"
        assert operator_env.stat().st_mode & 0o777 == 0o600
        assert f"FORO_NAMESPACE={namespace}\n" in operator_env.read_text()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FORO_")}
        command = [sys.executable, "-m", "shared.cli.app", "--env-file", str(operator_env)]
        listed = await asyncio.to_thread(
            subprocess.run,
            [*command, "dlq", "list", "--json", "--all"],
            env=clean,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert f"{namespace}.registration.registration-submitted.dlq" in listed.stdout
    finally:
        launcher.stop(60)

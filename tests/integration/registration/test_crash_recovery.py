"""A crash between the database write and the publish loses nothing and duplicates no effect."""

from __future__ import annotations

import json
from pathlib import Path

import aio_pika
from pymongo import AsyncMongoClient

from shared.messaging.topology import Topology
from shared.persistence.outbox import CRASH_BEFORE_PUBLISH
from tests.integration.registration.conftest import process_env
from tests.support.bus import EventTap, delete_topology, eventually, publish_json, queue_depth
from tests.support.factories import signup
from tests.support.processes import ServiceProcess


async def test_event_written_but_not_published_is_published_after_restart_once(
    namespace: str,
    mongo_url: str,
    amqp_url: str,
    amqp: aio_pika.abc.AbstractRobustConnection,
    tmp_path: Path,
) -> None:
    database = f"registration_{namespace}"
    env = process_env(namespace, mongo_url, amqp_url)
    topology = Topology(namespace)
    tap = await EventTap.open(amqp, topology, "registration.*")
    mongo = AsyncMongoClient(mongo_url)
    participants = mongo[database]["participants"]
    crashing = ServiceProcess(
        "registration",
        {**env, "REGISTRATION_FAULT": CRASH_BEFORE_PUBLISH},
        tmp_path / "crashing.log",
    )
    restarted = ServiceProcess("registration", env, tmp_path / "restarted.log")
    try:
        await crashing.start().ready()
        await publish_json(
            amqp, topology.intake.name, "registration.submitted", json.dumps(signup()).encode()
        )

        assert await crashing.exited() == 86, crashing.log_tail()
        stored = await participants.find_one({})
        assert (
            stored is not None
            and stored["status"] == "confirmed"
            and stored["outbox_pending"] is True
        )
        assert await tap.drain() == []  # written, never published

        await restarted.start().ready()
        await tap.wait_for("registration.confirmed")

        async def settled() -> bool:
            pending = await participants.count_documents({"outbox_pending": True})
            return (
                pending == 0
                and await queue_depth(
                    amqp, topology.queue_name("registration", "registration-submitted")
                )
                == 0
            )

        await eventually(settled, what="outbox published and intake drained")
        restarted.stop()  # graceful: anything in flight is finished and published before exit
        await tap.drain()
        assert len(tap.of_type("registration.confirmed")) == 1
        assert await participants.count_documents({}) == 1
    finally:
        crashing.stop()
        restarted.stop()
        await delete_topology(
            amqp,
            topology,
            [
                topology.queue_name("registration", q)
                for q in ("registration-submitted", "cancel-requested")
            ],
        )
        await mongo.drop_database(database)
        await mongo.close()

"""A registration process killed (-9) while sign-ups and cancellations of a capacity-limited
category flow: started again, it never gives more seats than the capacity, counts no place
twice, promotes each waiting person at most once and in ticket order."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient

from shared.messaging.topology import Topology
from tests.integration.registration.conftest import process_env
from tests.support.bus import EventTap, delete_topology, eventually, publish_json
from tests.support.factories import FORUM_ID, cancel_request, signup
from tests.support.faults import kill9
from tests.support.processes import ServiceProcess

CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories
CAPACITY, SIGN_UPS, CANCELLED, SEATS_FREED = 10, 100, 40, 8


async def test_a_registration_killed_mid_stream_keeps_every_seat_counted_once(
    namespace: str,
    mongo_url: str,
    amqp_url: str,
    amqp: aio_pika.abc.AbstractRobustConnection,
    tmp_path: Path,
) -> None:
    database = f"registration_{namespace}"
    env = process_env(
        namespace,
        mongo_url,
        amqp_url,
        FORO_PACK_OVERRIDES=json.dumps({f"categories[{CIVIL_SOCIETY}].capacity": CAPACITY}),
    )
    topology = Topology(namespace)
    tap = await EventTap.open(amqp, topology, "registration.*")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    participants = mongo[database]["participants"]
    ledgers = mongo[database]["seat_ledgers"]
    processes = [ServiceProcess("registration", env, tmp_path / f"run{n}.log") for n in range(3)]

    async def count(**query: Any) -> int:
        return await participants.count_documents({"forum_id": FORUM_ID, **query})

    async def true_counters() -> bool:
        """Everything settled: the ledger counts what the participants say, nothing under way,
        no seat free while someone waits."""
        ledger = await ledgers.find_one({"_id": f"{FORUM_ID}:civil_society"}) or {}
        seats, waiting = await count(status="confirmed"), await count(status="waitlisted")
        return (
            not ledger.get("claims")
            and (ledger.get("seats"), ledger.get("waiting")) == (seats, waiting)
            and (seats == CAPACITY or waiting == 0)
            and not await participants.count_documents({"seat_releases.category": {"$gt": ""}})
        )

    try:
        await processes[0].start().ready()
        people = [signup(category="civil_society") for _ in range(SIGN_UPS)]
        await asyncio.gather(
            *(
                publish_json(
                    amqp, topology.intake.name, "registration.submitted", json.dumps(p).encode()
                )
                for p in people
            )
        )
        await eventually(lambda: _at_least(count(), 15), what="sign-ups under way")
        await kill9(processes[0].process)
        assert await count(status={"$exists": True}) < SIGN_UPS  # killed mid-stream

        await processes[1].start().ready()
        decided = {"status": {"$in": ["confirmed", "waitlisted"]}}
        await eventually(lambda: _at_least(count(**decided), SIGN_UPS), 60, "every sign-up")
        # Seats the killed process had taken come back through the seat reconciler, which runs
        # in the replica holding its lease: this one (another port), once the dead holder's lease
        # lapsed (shared/leases.py) — then the first waiting take them.
        await eventually(true_counters, 60, "the ledger counting the participants")
        assert await count(status="confirmed") == CAPACITY

        # Cancellations of seated and of waiting people, each sent twice, killed while they
        # flow: every seat they free goes to the first waiting, once.
        seated = [d["_id"] for d in await participants.find({"status": "confirmed"}).to_list()]
        waiting = [d["_id"] for d in await participants.find({"status": "waitlisted"}).to_list()]
        chance = random.Random(7)
        leaving = seated[:SEATS_FREED] + chance.sample(waiting, CANCELLED - SEATS_FREED)
        requests = [json.dumps(cancel_request(pid)).encode() for pid in leaving] * 2
        chance.shuffle(requests)
        await asyncio.gather(
            *(
                publish_json(amqp, topology.intake.name, "registration.cancel_requested", body)
                for body in requests
            )
        )
        await eventually(lambda: _at_least(count(status="cancelled"), 5), what="cancellations")
        await kill9(processes[1].process)
        assert await count(status="cancelled") < CANCELLED  # killed mid-stream

        await processes[2].start().ready()
        await eventually(
            lambda: _at_least(count(status="cancelled"), CANCELLED), 60, "every cancellation"
        )
        await eventually(true_counters, 60, "the ledger counting the participants")
        assert await count(status="confirmed") == CAPACITY
        documents = await participants.find({"status": {"$exists": True}}).to_list()
        tickets = {d["status"]: [] for d in documents}
        for document in documents:
            tickets[document["status"]].append(document["seat_ticket"])
        assert max(tickets["confirmed"]) < min(tickets["waitlisted"])  # promoted in order

        await tap.drain()
        promoted = {
            e["event_id"]: e["participant"]["participant_id"]
            for e in tap.of_type("registration.promoted")
        }
        # One promotion per freed seat (a waiting person may be promoted before their own
        # cancellation arrives: then it frees a seat too), nobody promoted twice.
        freed = await count(status="cancelled", previous_status="confirmed")
        assert freed >= SEATS_FREED
        assert len(promoted) == freed
        assert len(set(promoted.values())) == freed
        positions = {
            e["participant"]["participant_id"]: e["position"]
            for e in tap.of_type("registration.waitlisted")
        }
        assert sorted(positions.values()) == list(range(1, SIGN_UPS - CAPACITY + 1))
    finally:
        for process in processes:
            process.stop()
        await delete_topology(
            amqp,
            topology,
            [
                topology.queue_name("registration", q)
                for q in (
                    "registration-submitted",
                    "cancel-requested",
                    "erasure-requested",
                    "badges",
                )
            ],
        )
        await mongo.drop_database(database)
        await mongo.close()


async def _at_least(counting: Any, wanted: int) -> bool:
    return await counting >= wanted

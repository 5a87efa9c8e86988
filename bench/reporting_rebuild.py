"""Bench: rebuilding reporting's projections from the event log, against a raw read of the same log.

    .venv/bin/python bench/reporting_rebuild.py [--participants 10000] [--runs 1]

Fills a fresh stream `<ns>.events.log` on the local RabbitMQ (FORO_BENCH_AMQP_URL, else
amqp://guest:guest@127.0.0.1:5672/) with a forum's history — per participant a sign-up
(`registration.confirmed`), for most of them a check-in, and some session sign-ups and expo
activity: about two events per participant — and then times, in the same run, on one database (an
embedded SecantusDB unless FORO_BENCH_MONGO_URL is set):

  raw      aio-pika reading the stream from its first offset to the last message, each body
           parsed as JSON and inserted as it is (`insert_many` of 1,000) into one collection —
           the floor any rebuild pays for reading the log and writing once per event
  rebuild  `services.reporting.rebuild.rebuild(settings)`: the projections dropped and refolded
           from the same log, until the rebuild knows it has read everything

and prints events per second for both and the ratio. The stream and the databases are deleted
afterwards. Run it under the integration lock (`flock /tmp/foro-it.lock ...`): it loads the
shared broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from services.reporting.projections.log import MARKER_HEADER
from services.reporting.rebuild import rebuild
from services.reporting.settings import ReportingSettings
from shared.messaging.namespace import delete_namespace
from shared.messaging.topology import Topology
from tests.integration.reporting import events as ev

PUBLISH_WINDOW = 500


def history(participants: int, rng: random.Random) -> list[dict[str, Any]]:
    """A forum's event log: about two events per participant, in publication order."""
    events: list[dict[str, Any]] = []
    people = [
        ev.person(
            category=rng.choice(["company", "civil_society", "official_delegate", "media"]),
            country=rng.choice(["SV", "GT", "HN", "MX", "US", "CR"]),
            consents={"privacy_policy": True, "listed_publicly": rng.random() < 0.6},
        )
        for _ in range(participants)
    ]
    for minute, who in enumerate(people):
        events.append(ev.registration("registration.confirmed", who, minute % 600))
    for minute, who in enumerate(people):
        if rng.random() < 0.8:
            events.append(ev.checked_in(who, 600 + minute % 300))
    sessions = ["B1.1", "B1.2", "B2.1", "B2.2", "B3.1"]
    for who in people[: participants // 10]:
        events.append(
            ev.session(
                "session.signup_confirmed",
                30,
                rng.choice(sessions),
                participant_id=who["participant_id"],
            )
        )
    for number in range(participants // 10):
        exhibitor = f"ex-{number % 40}"
        events.append(
            ev.expo("lead.captured", 700, lead_id=f"lead-{number}", exhibitor_id=exhibitor)
        )
    return events


async def fill_stream(url: str, stream: str, events: list[dict[str, Any]]) -> None:
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(
            stream,
            durable=True,
            arguments={"x-queue-type": "stream", "x-max-length-bytes": 2_000_000_000},
        )
        for start in range(0, len(events), PUBLISH_WINDOW):
            window = events[start : start + PUBLISH_WINDOW]
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            json.dumps(event).encode(),
                            content_type="application/json",
                            message_id=event["event_id"],
                            headers={"event_type": event["event_type"]},
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=stream,
                    )
                    for event in window
                )
            )
    finally:
        await connection.close()


async def raw_read(
    url: str, stream: str, mongo: AsyncMongoClient, database: str, total: int
) -> float:
    """The floor: read the whole stream, parse each body, insert it once (1,000 per insert)."""
    collection = mongo[database]["raw_events"]
    connection = await aio_pika.connect_robust(url)
    started = time.perf_counter()
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        queue = await channel.declare_queue(stream, passive=True)
        done = asyncio.get_running_loop().create_future()
        pending: list[dict[str, Any]] = []
        seen = 0
        writes: list[asyncio.Task[Any]] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            if (message.headers or {}).get(MARKER_HEADER):  # an earlier rebuild's end mark
                await message.ack()
                return
            body = json.loads(message.body)
            pending.append({"_id": body["event_id"], **body})
            seen += 1
            if len(pending) >= 1000 or seen == total:
                batch = pending[:]
                pending.clear()
                writes.append(asyncio.create_task(collection.insert_many(batch, ordered=False)))
                await message.ack(multiple=True)
            if seen == total and not done.done():
                done.set_result(None)

        tag = await queue.consume(on_message, arguments={"x-stream-offset": "first"})
        await done
        await asyncio.gather(*writes)
        await queue.cancel(tag)
    finally:
        await connection.close()
    return time.perf_counter() - started


async def run(amqp_url: str, mongo_url: str, participants: int, runs: int) -> None:
    namespace = f"benchrb{uuid.uuid4().hex[:8]}"
    stream = Topology(namespace).event_log_name
    rng = random.Random(2004)
    events = history(participants, rng)
    started = time.perf_counter()
    await fill_stream(amqp_url, stream, events)
    print(
        f"participants: {participants:,}  events in the log: {len(events):,} "
        f"(published in {time.perf_counter() - started:.1f} s)"
    )
    mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
    databases = []
    try:
        for attempt in range(runs):
            raw_db = f"bench_raw_{uuid.uuid4().hex[:8]}"
            databases.append(raw_db)
            raw = await raw_read(amqp_url, stream, mongo, raw_db, len(events))
            settings = ReportingSettings(
                namespace=namespace,
                mongo_url=SecretStr(mongo_url),
                broker_url=SecretStr(amqp_url),
                database=f"bench_rebuild_{uuid.uuid4().hex[:8]}",
            )
            databases.append(settings.database)
            started = time.perf_counter()
            outcome = await rebuild(settings)
            elapsed = time.perf_counter() - started
            assert outcome.events == len(events), (outcome.events, len(events))
            print(
                f"run {attempt + 1}: raw {raw:6.2f} s = {len(events) / raw:7,.0f} events/s   "
                f"rebuild {elapsed:6.2f} s = {len(events) / elapsed:7,.0f} events/s   "
                f"ratio rebuild/raw time {elapsed / raw:.1f}×"
            )
    finally:
        for name in databases:
            await mongo.drop_database(name)
        await mongo.close()
        await delete_namespace(namespace, amqp_url, force=True, actor="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    amqp_url = os.environ.get("FORO_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    with ExitStack() as stack:
        url = os.environ.get("FORO_BENCH_MONGO_URL")
        if url is None:
            from tests.support.servers import embedded_mongo

            url = stack.enter_context(embedded_mongo())
        asyncio.run(run(amqp_url, url, args.participants, args.runs))


if __name__ == "__main__":
    main()

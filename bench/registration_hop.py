"""One registration hop against a raw aio-pika + pymongo hop, measured in the same run.

    .venv/bin/python bench/registration_hop.py [--messages 200]

foro hop: a form publishes `registration.submitted` → the registration service validates,
dedups, takes a seat or a waitlist place (ledger) and writes participant + outbox → the relay
publishes `registration.confirmed` or `.waitlisted` (confirmed, persistent) → the bench receives it.
raw hop: publish a JSON message → a bare aio-pika consumer parses it, inserts one document with
pymongo, publishes a reply (confirmed, persistent) → the bench receives it.
Both run against the same RabbitMQ and the same SecantusDB server. Prints latency (serial) and
throughput (pipelined) for each, and the ratios foro/raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import aio_pika
from pydantic import SecretStr
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.registration.bootstrap import create_app
from services.registration.settings import RegistrationSettings
from shared.logging import configure_logging
from tests.support.bus import delete_topology
from tests.support.factories import signup
from tests.support.servers import broker_url, embedded_mongo


async def foro_hop(
    mongo_url: str, amqp: aio_pika.abc.AbstractConnection, n: int, serial: bool
) -> list[float]:
    namespace = "bench" + uuid.uuid4().hex[:6]
    settings = RegistrationSettings(
        namespace=namespace,
        database=f"bench_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(broker_url()),
        log_level="WARNING",
        forum_start_date=(date.today() + timedelta(days=30)).isoformat(),  # registration open
    )
    app = create_app(settings)
    runtime = app.state.runtime
    channel = await amqp.channel(publisher_confirms=True)
    events = await channel.declare_exchange(
        runtime.topology.events.name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    replies = await channel.declare_queue(exclusive=True)
    # A seat or a waitlist place: either answer completes the hop (the category has a capacity).
    await replies.bind(events, "registration.confirmed")
    await replies.bind(events, "registration.waitlisted")
    async with runtime.running():
        intake = await channel.get_exchange(runtime.topology.intake.name)
        latencies = await _drive(
            intake,
            "registration.submitted",
            replies,
            n,
            serial,
            lambda: json.dumps(signup()).encode(),
        )
    await delete_topology(amqp, runtime.topology, runtime.queue_names)
    client = AsyncMongoClient(mongo_url)
    await client.drop_database(settings.database)
    await client.close()
    return latencies


async def raw_hop(
    mongo_url: str, amqp: aio_pika.abc.AbstractConnection, n: int, serial: bool
) -> list[float]:
    # The same durability as foro's client (shared/persistence/mongo.py): writes wait for the journal.
    client = AsyncMongoClient(mongo_url, journal=True)
    collection = client[f"bench_raw_{uuid.uuid4().hex[:6]}"]["participants"]
    channel = await amqp.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=16)
    exchange = await channel.declare_exchange(
        f"bench-raw-{uuid.uuid4().hex[:6]}", aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    work = await channel.declare_queue(exclusive=True)
    await work.bind(exchange, "raw.in")
    replies = await channel.declare_queue(exclusive=True)
    await replies.bind(exchange, "raw.out")

    async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            body = json.loads(message.body)
            await collection.insert_one({"_id": body["event_id"], **body})
            await exchange.publish(
                aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                "raw.out",
            )

    await work.consume(consume)
    latencies = await _drive(
        exchange, "raw.in", replies, n, serial, lambda: json.dumps(signup()).encode()
    )
    await client.drop_database(collection.database.name)
    await client.close()
    return latencies


async def _drive(
    exchange, routing_key: str, replies, n: int, serial: bool, make_body
) -> list[float]:
    received: asyncio.Queue[float] = asyncio.Queue()

    async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await message.ack()
        received.put_nowait(time.perf_counter())

    tag = await replies.consume(on_reply)
    latencies: list[float] = []
    start = time.perf_counter()
    if serial:
        for _ in range(n):
            sent = time.perf_counter()
            await exchange.publish(
                aio_pika.Message(
                    make_body(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type="application/json",
                ),
                routing_key,
            )
            latencies.append(await asyncio.wait_for(received.get(), 30) - sent)
    else:
        for _ in range(n):
            await exchange.publish(
                aio_pika.Message(
                    make_body(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type="application/json",
                ),
                routing_key,
            )
        for _ in range(n):
            await asyncio.wait_for(received.get(), 60)
        latencies = [time.perf_counter() - start]
    await replies.cancel(tag)
    return latencies


async def main(messages: int) -> None:
    configure_logging("bench", "WARNING", "console")
    with embedded_mongo() as mongo_url:
        amqp = await aio_pika.connect_robust(broker_url())
        async with amqp:
            await raw_hop(mongo_url, amqp, 10, serial=True)  # warm-up
            raw_lat = await raw_hop(mongo_url, amqp, messages, serial=True)
            foro_lat = await foro_hop(mongo_url, amqp, messages, serial=True)
            raw_total = (await raw_hop(mongo_url, amqp, messages, serial=False))[0]
            foro_total = (await foro_hop(mongo_url, amqp, messages, serial=False))[0]
    raw_p50, foro_p50 = statistics.median(raw_lat) * 1000, statistics.median(foro_lat) * 1000
    print(f"messages: {messages} (serial latency), {messages} (pipelined throughput)")
    print(f"raw aio-pika + pymongo hop : p50 {raw_p50:7.2f} ms   {messages / raw_total:8.1f} msg/s")
    print(
        f"foro registration hop      : p50 {foro_p50:7.2f} ms   {messages / foro_total:8.1f} msg/s"
    )
    print(
        f"ratio foro/raw             : latency x{foro_p50 / raw_p50:.2f}   throughput x{(messages / foro_total) / (messages / raw_total):.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200)
    asyncio.run(main(parser.parse_args().messages))

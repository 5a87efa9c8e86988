"""Messages per second through the notification service against raw aio-pika + SMTP, same run.

    .venv/bin/python bench/notification_throughput.py [--messages 300]

foro: `registration.confirmed` events published back to back → the notification service projects
the contact, renders the bilingual template (text + HTML + iCal attachment), stores the message
with its outbox → the relay publishes `notification.queued` → a delivery worker claims it, sends
it over SMTP, marks it sent and publishes `notification.sent`. Clock stops when the SMTP sink has
every e-mail.
raw: the same JSON published to a plain queue → a bare aio-pika consumer (same prefetch) builds
a plain-text e-mail with an f-string and sends it with aiosmtplib, then acks. Same broker, same
sink. Prints messages/s for each and the ratio foro/raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aio_pika
import aiosmtplib
from pydantic import SecretStr
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.notification.bootstrap import create_app
from services.notification.settings import NotificationSettings
from services.notification.sink import SmtpSink
from shared.logging import configure_logging
from tests.support.bus import delete_topology
from tests.support.notification import confirmed, participant
from tests.support.servers import broker_url, embedded_mongo, free_port

PREFETCH = 16


async def wait_for_files(sink: SmtpSink, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.files()) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(sink.files())}/{n} e-mails after {timeout}s")
        await asyncio.sleep(0.02)


async def foro(
    mongo_url: str, amqp: aio_pika.abc.AbstractConnection, n: int, folder: Path
) -> float:
    sink = SmtpSink(folder / "foro", port=free_port()).start()
    namespace = "bench" + uuid.uuid4().hex[:6]
    settings = NotificationSettings(
        namespace=namespace,
        database=f"bench_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(broker_url()),
        smtp_port=sink.port,
        prefetch=PREFETCH,
        log_level="WARNING",
        scheduler_tick_seconds=1.0,
    )
    app = create_app(settings)
    service = app.state.service
    bodies = [
        json.dumps(confirmed(participant(language="es" if i % 2 else "en"))).encode()
        for i in range(n)
    ]
    channel = await amqp.channel(publisher_confirms=True)
    try:
        async with service.running():
            events = await channel.get_exchange(service.runtime.topology.events.name)
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    events.publish(
                        aio_pika.Message(
                            body,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            content_type="application/json",
                        ),
                        "registration.confirmed",
                    )
                    for body in bodies
                )
            )
            await wait_for_files(sink, n)
            elapsed = time.perf_counter() - started
    finally:
        sink.stop()
        runtime = service.runtime
        await delete_topology(amqp, runtime.topology, runtime.queue_names)
        for (
            queue
        ) in runtime.queue_names:  # delete_topology's, again: a bench cleans up what it declared
            for name in runtime.topology.retry_queue_names(queue):
                await channel.queue_delete(name)
        await channel.close()
        client = AsyncMongoClient(mongo_url)
        await client.drop_database(settings.database)
        await client.close()
    return n / elapsed


async def raw(amqp: aio_pika.abc.AbstractConnection, n: int, folder: Path) -> float:
    sink = SmtpSink(folder / "raw", port=free_port()).start()
    channel = await amqp.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=PREFETCH)
    queue = await channel.declare_queue(f"bench-raw-{uuid.uuid4().hex[:6]}", durable=True)

    async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        event = json.loads(message.body)
        person = event["participant"]
        email = EmailMessage()
        email["From"] = "Foro <no-reply@foro.example.org>"
        email["To"] = person["email"]
        email["Subject"] = "Inscripción confirmada"
        email.set_content(
            f"Estimada/o {person['given_name']}:\n\nSu inscripción está confirmada.\n"
        )
        await aiosmtplib.send(email, hostname="127.0.0.1", port=sink.port)
        await message.ack()

    bodies = [json.dumps(confirmed(participant())).encode() for _ in range(n)]
    tag = await queue.consume(handle)
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    queue.name,
                )
                for body in bodies
            )
        )
        await wait_for_files(sink, n)
        elapsed = time.perf_counter() - started
    finally:
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        await channel.close()
        sink.stop()
    return n / elapsed


async def run(n: int) -> None:
    configure_logging("bench", "WARNING", "console")
    amqp = await aio_pika.connect_robust(broker_url())
    with (
        embedded_mongo() as mongo_url,
        tempfile.TemporaryDirectory(prefix="foro-bench-mail-") as folder,
    ):
        raw_rate = await raw(amqp, n, Path(folder))
        foro_rate = await foro(mongo_url, amqp, n, Path(folder))
    await amqp.close()
    print(f"messages: {n} (prefetch {PREFETCH}, one SMTP connection per message in both)")
    print(f"raw aio-pika + SMTP : {raw_rate:8.1f} messages/s")
    print(
        f"foro notification   : {foro_rate:8.1f} messages/s  (render, store, outbox, claim, send, mark sent)"
    )
    print(f"ratio foro/raw      : {foro_rate / raw_rate:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()

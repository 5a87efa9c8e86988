"""Messages per second through the notification service against raw aio-pika + SMTP, same run.

    .venv/bin/python bench/notification_throughput.py [--messages 300] [--runs 3]
        [--count-commands]

foro: `registration.confirmed` events published at once → the notification service projects the
contact, renders the bilingual template (text + HTML + iCal attachment), stores the message and
delivers it (claim, SMTP, result and its `notification.sent` in the outbox, the relay publishing
it). The clock stops when the SMTP sink has every e-mail.
raw: the same JSON published to a plain queue → a bare aio-pika consumer (same prefetch) builds
a plain-text e-mail with an f-string and sends it with aiosmtplib (one connection per message),
then acks. Same broker, same database server, same kind of sink. Each run measures raw, then foro;
the bench prints messages/s for each (min / median / max over `--runs`) and the ratio foro/raw per
run.

CPU: the seconds the database server, the broker and this process (the service, the SMTP sink's
thread and the publisher) spent while the messages flowed, per message.

`--count-commands`: a pymongo `CommandListener` (registered before any client exists) counts the
commands sent to the service's database while the messages flow, plus 0.5 s for the last results
and the relay's clears, by command name and collection, per message. The scheduler's passes (every
second) and the delivery sweep (every 5 s) fall in the window too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import aio_pika
import aiosmtplib
from pydantic import SecretStr
from pymongo import AsyncMongoClient, monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import CommandCounter, CpuMeter, broker_pid, database_pid
from services.notification.bootstrap import create_app
from services.notification.settings import NotificationSettings
from services.notification.sink import SmtpSink
from shared.logging import configure_logging
from shared.messaging.namespace import delete_namespace
from tests.support.notification import confirmed, participant
from tests.support.servers import broker_url, embedded_mongo, free_port

PREFETCH = 16
SETTLE_SECONDS = 0.5


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Runs:
    rates: dict[str, list[float]] = field(default_factory=lambda: {"raw": [], "foro": []})
    cpu: dict[str, Counter[str]] = field(
        default_factory=lambda: {"raw": Counter(), "foro": Counter()}
    )
    commands: Counter[str] = field(default_factory=Counter)


async def wait_for_files(sink: SmtpSink, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while sink.saved < n:  # a counter: listing the folder costs more as it fills
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sink.saved}/{n} e-mails after {timeout}s")
        await asyncio.sleep(0.02)


# --- the two sides ------------------------------------------------------------------------------


async def foro(
    mongo_url: str,
    amqp: aio_pika.abc.AbstractConnection,
    n: int,
    folder: Path,
    meter: CpuMeter,
    runs: Runs,
    counter: CommandCounter | None,
) -> float:
    sink = SmtpSink(folder / f"foro-{uuid.uuid4().hex[:6]}", port=free_port()).start()
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
    runtime = app.state.runtime
    bodies = [
        json.dumps(confirmed(participant(language="es" if i % 2 else "en"))).encode()
        for i in range(n)
    ]
    channel = await amqp.channel(publisher_confirms=True)
    try:
        async with app.router.lifespan_context(app):
            await _until_ready(runtime)
            events = await channel.get_exchange(runtime.topology.events.name)
            if counter is not None:
                counter.counts.clear()
                counter.database = settings.database
            before = meter.snapshot()
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
            runs.cpu["foro"] += meter.since(before)
            if counter is not None:
                await asyncio.sleep(SETTLE_SECONDS)  # the last results and the relay's clears
                counter.database = None
                runs.commands += counter.counts
    finally:
        sink.stop()
        await delete_namespace(namespace, broker_url(), force=True, actor="bench")
        await channel.close()
        client = AsyncMongoClient(mongo_url)
        await client.drop_database(settings.database)
        await client.close()
    return n / elapsed


async def _until_ready(runtime: object, timeout: float = 60.0) -> None:
    """The HTTP lifespan starts the service in the background: wait until it has started."""
    deadline = time.monotonic() + timeout
    while not getattr(runtime, "started", False):
        if time.monotonic() > deadline:
            raise TimeoutError("the notification service did not start")
        await asyncio.sleep(0.05)


async def raw(
    amqp: aio_pika.abc.AbstractConnection, n: int, folder: Path, meter: CpuMeter, runs: Runs
) -> float:
    sink = SmtpSink(folder / f"raw-{uuid.uuid4().hex[:6]}", port=free_port()).start()
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
        before = meter.snapshot()
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
        runs.cpu["raw"] += meter.since(before)
    finally:
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        await channel.close()
        sink.stop()
    return n / elapsed


# --- report -------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 1) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}"


def report(runs: Runs, n: int, count: bool) -> None:
    times = len(runs.rates["raw"])
    ratios = [f / r for f, r in zip(runs.rates["foro"], runs.rates["raw"], strict=True)]
    print(
        f"\nmessages: {n} · prefetch {PREFETCH} · {times} runs · min / median / max; ratio per run"
    )
    print(f"raw aio-pika + SMTP  msg/s : {spread(runs.rates['raw'])}")
    print(
        f"foro notification    msg/s : {spread(runs.rates['foro'])}"
        "   (project, render, store, claim, send, record, relay)"
    )
    print(f"ratio foro/raw             : ×{spread(ratios, 2)}   (target ≥ ×0.5)")
    total = times * n
    print("CPU ms per message                 raw      foro   foro−raw")
    for name in ("database", "broker", "bench process"):
        r, f = (runs.cpu[side][name] / total * 1000 for side in ("raw", "foro"))
        print(f"  {name:30}{r:8.2f}{f:10.2f}{f - r:+10.2f}")
    r, f = (sum(runs.cpu[side].values()) / total * 1000 for side in ("raw", "foro"))
    print(f"  {'all':30}{r:8.2f}{f:10.2f}{f - r:+10.2f}")
    if count:
        print("foro database commands per message")
        for name, value in runs.commands.most_common():
            print(f"  {name:40}{value / total:8.2f}")
        print(f"  {'all':40}{sum(runs.commands.values()) / total:8.2f}")


async def run(n: int, times: int, count: bool) -> None:
    configure_logging("bench", "WARNING", "console")
    counter: CommandCounter | None = None
    if count:
        counter = CommandCounter()
        monitoring.register(counter)  # before any client exists: every client reports to it
    runs = Runs()
    amqp = await aio_pika.connect_robust(broker_url())
    with (
        embedded_mongo() as mongo_url,
        tempfile.TemporaryDirectory(prefix="foro-bench-mail-") as folder,
    ):
        port = mongo_url.rsplit(":", 1)[1].split("/", 1)[0]
        meter = CpuMeter(
            database_pid=database_pid(port),
            broker_pid=broker_pid(),
        )
        for _ in range(times):
            runs.rates["raw"].append(await raw(amqp, n, Path(folder), meter, runs))
            runs.rates["foro"].append(
                await foro(mongo_url, amqp, n, Path(folder), meter, runs, counter)
            )
            print(
                f"run: raw {runs.rates['raw'][-1]:.1f} msg/s, foro {runs.rates['foro'][-1]:.1f}"
                " msg/s",
                flush=True,
            )
    await amqp.close()
    report(runs, n, count)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count-commands", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.runs, args.count_commands))


if __name__ == "__main__":
    main()

"""One registration hop against a raw aio-pika + pymongo hop, measured in the same run.

    .venv/bin/python bench/registration_hop.py [--messages 200] [--stored 0,10000,50000]
        [--runs 3] [--count-commands]

foro hop: a form publishes `registration.submitted` → the registration service validates,
dedups, takes a seat or a waitlist place (ledger) and writes participant + outbox → the relay
publishes `registration.confirmed` or `.waitlisted` (confirmed, persistent) → the bench receives it.
raw hop: publish a JSON message → a bare aio-pika consumer parses it, inserts one document with
pymongo, publishes a reply (confirmed, persistent) → the bench receives it.
Both run against the same RabbitMQ and the same SecantusDB server. Each measurement — serial
latency (p50, p99: one message in flight) and pipelined throughput (all `--messages` published at
once) — is repeated `--runs` times; the bench prints min / median / max of each, for raw and foro,
and the ratios foro/raw (per run: raw and foro measured back to back).

`--stored N` (repeatable, or a comma list; default 0): every measurement starts with N
participants of the same forum already stored. The registration database gets them with its
real indexes (`ParticipantRepository.ensure_indexes` runs before the preload, so the preload
pays index maintenance as sign-ups do), inserted with `insert_many` in batches of 1,000. Each
one is shaped like a participant the hop itself leaves behind (details, consents, submission
ids, `status`, its `seat_ticket` in a capacity-limited category, `processed`, an emptied outbox,
a badge with its token when confirmed), with e-mails `preload.NNNNNN@example.org` and submission
ids `preload-NNNNNN`, which no measured sign-up uses. They are spread over the categories that
need no approval. Half of them are in the measured category (`civil_society`, 120 seats): its
seats are held and the rest wait, so at N = 10,000 its ledger counts 120 seats and 4,880
waiting, at 50,000 120 and 24,880 — a ledger whose cost grew with its places would show here
(every measured sign-up is waitlisted behind them; at N = 0 the first 120 get seats). The other
capacity-limited categories (`company`) are filled to capacity; the rest go round-robin to the
categories without a capacity. Each capacity-limited category's seat ledger counts its places
as the service leaves it. The raw hop's collection gets the same N documents, without secondary
indexes (it has none). The preload is made once per N; after each measured hop the bench
deletes what the hop wrote (participants not from the preload, every other collection's
documents) and puts the preloaded ledgers back, outside the timings. The last lines give, for
each N > 0, the median pipelined throughput against the median at N = 0 (the target: at least
0.9×).

`--count-commands`: a pymongo `CommandListener` (registered globally, before any client exists)
counts the commands sent to the registration database while sign-ups are measured (plus 0.3 s
for the relay's last clears), by command name and collection, per sign-up: serial and pipelined
apart; the badge and relay consumers' commands after the publish included. This is
what issue 11 calls round trips. The relay's periodic sweep falls in the window too (a few
`find`s per 2 s). Counting costs a few µs per command: compare timings without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
from pydantic import SecretStr
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import CommandCounter, CpuMeter, broker_pid, database_pid
from services.registration.bootstrap import create_app
from services.registration.repository import ParticipantRepository
from services.registration.settings import RegistrationSettings
from shared.contracts.envelope import derive_id
from shared.logging import configure_logging
from shared.messaging.namespace import delete_namespace
from shared.pack import load_pack
from tests.support.factories import FORUM_ID, signup
from tests.support.servers import broker_url, embedded_mongo

PRELOAD_BATCH = 1000
PRELOAD_EMAIL = re.compile(r"^preload\.")
MEASURED_CATEGORY = signup()["category"]
GIVEN = ("Ana", "José", "María", "Luis", "Carmen", "Jorge", "Lucía", "Pedro", "Rosa", "Óscar")
FAMILY = ("López", "Hernández", "García", "Martínez", "Rivera", "Flores", "Pérez", "Ramírez")
COUNTRIES = ("SV", "GT", "HN", "MX", "CR", "PA", "NI", "BZ", "DO", "US", "CA")


# --- the preload ----------------------------------------------------------------------------


def ledger_id(category: str) -> str:
    return f"{FORUM_ID}:{category}"  # as services/registration/deps.ledger_id


def capacities() -> dict[str, int]:
    """The capacity-limited categories that need no approval: code → capacity."""
    return {
        c.code: c.capacity
        for c in load_pack().categories
        if not c.requires_approval and c.capacity is not None
    }


def preload_plan(n: int) -> list[str]:
    """The category of each of the `n` preloaded participants (see the module's docstring)."""
    open_ = [
        c.code for c in load_pack().categories if not c.requires_approval and c.capacity is None
    ]
    plan = [MEASURED_CATEGORY] * (n // 2)
    for code, capacity in capacities().items():
        if code != MEASURED_CATEGORY:
            plan += [code] * min(capacity, n - len(plan))
    plan += [open_[i % len(open_)] for i in range(n - len(plan))]
    return plan


def preloaded_participant(
    i: int, category: str, now: datetime, place: tuple[str, int | None] = ("confirmed", None)
) -> dict[str, Any]:
    """Participant `i` as the hop leaves one behind: confirmed with its badge, or waitlisted;
    outbox emptied (the shape of the one-write sign-up: its cause in `processed`, `version` 1).
    `place`: its status and, in a capacity-limited category, its seat ticket."""
    email = f"preload.{i:06d}@example.org"
    created = now - timedelta(days=60) + timedelta(seconds=30 * i)  # weeks before the bench
    cause = str(uuid.uuid4())
    status, ticket = place
    return {
        "_id": str(derive_id(FORUM_ID, email)),
        "given_name": GIVEN[i % len(GIVEN)],
        "family_name": FAMILY[i % len(FAMILY)],
        "email": email,
        "phone": None,
        "organisation": f"Organización {i % 997}",
        "job_title": None,
        "country": COUNTRIES[i % len(COUNTRIES)],
        "language": "es" if i % 3 else "en",
        "category": category,
        "forum_id": FORUM_ID,
        "consents": {
            "privacy_policy": True,
            "listed_publicly": bool(i % 2),
            "photos": False,
            "share_with_exhibitors": False,
        },
        "answers": {},
        "submission_ids": [f"preload-{i:06d}"],
        "status": status,
        "seat_ticket": ticket,
        "rejection_reasons": [],
        "erased": False,
        "updated_at": created,
        "created_at": created,
        "version": 1,
        "processed": [cause],
        "outbox": [],
        "outbox_pending": False,
        "badge": {
            "token_id": secrets.token_urlsafe(16),
            "issued_at": created,
            "category": category,
        }
        if status == "confirmed"
        else None,
    }


# The seat ledgers each foro database was preloaded with: `reset_foro` puts them back.
PRELOADED_LEDGERS: dict[str, list[dict[str, Any]]] = {}


async def preload(database: AsyncDatabase, n: int, *, foro: bool) -> float:
    """Store `n` participants (and, for foro, the seat ledgers counting them); seconds."""
    started = time.perf_counter()
    if foro:
        # Indexes first: the preload pays their maintenance, as real sign-ups did.
        await ParticipantRepository(database).ensure_indexes()
    now = datetime.now(UTC)
    plan = preload_plan(n)
    limited = capacities()
    held: dict[str, int] = {}  # places handed out per capacity-limited category: the tickets
    for start in range(0, n, PRELOAD_BATCH):
        batch = []
        for i in range(start, min(n, start + PRELOAD_BATCH)):
            category = plan[i]
            place: tuple[str, int | None] = ("confirmed", None)
            if category in limited:
                held[category] = ticket = held.get(category, 0) + 1
                place = ("confirmed" if ticket <= limited[category] else "waitlisted", ticket)
            batch.append(preloaded_participant(i, category, now, place))
        await database["participants"].insert_many(batch, ordered=False)
    if foro:
        ledgers = [
            {
                "_id": ledger_id(code),
                "seats": min(count, limited[code]),
                "waiting": max(0, count - limited[code]),
                "tickets": count,
                "head": limited[code] + 1,  # the first waiting's ticket
                "open": [],
                "claims": [],
            }
            for code, count in held.items()
        ]
        PRELOADED_LEDGERS[database.name] = ledgers
        if ledgers:
            await database["seat_ledgers"].insert_many(ledgers)
    return time.perf_counter() - started


async def reset_foro(database: AsyncDatabase) -> None:
    """Back to the preloaded state: what a measured hop wrote goes, the ledgers as preloaded."""
    for name in await database.list_collection_names():
        if name == "participants":
            await database[name].delete_many({"email": {"$not": PRELOAD_EMAIL}})
        else:
            await database[name].delete_many({})
    if ledgers := PRELOADED_LEDGERS.get(database.name):
        await database["seat_ledgers"].insert_many([dict(ledger) for ledger in ledgers])


# --- counting database commands ---------------------------------------------------------------


# --- the two hops -----------------------------------------------------------------------------


async def foro_hop(
    mongo_url: str,
    database: str,
    amqp: aio_pika.abc.AbstractConnection,
    n: int,
    serial: bool,
    counter: CommandCounter | None = None,
) -> tuple[list[float], Counter[str]]:
    """The hop on `database` (left as it was found, see `reset_foro`); latencies and commands."""
    namespace = "bench" + uuid.uuid4().hex[:6]
    settings = RegistrationSettings(
        namespace=namespace,
        database=database,
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
    commands: Counter[str] = Counter()
    try:
        async with runtime.running():
            intake = await channel.get_exchange(runtime.topology.intake.name)
            if counter is not None:
                counter.counts.clear()
                counter.database = database
            latencies = await _drive(
                intake,
                "registration.submitted",
                replies,
                n,
                serial,
                lambda: json.dumps(signup()).encode(),
            )
            if counter is not None:
                await asyncio.sleep(0.3)  # the relay's clear of the last outboxes
                counter.database = None
                commands = Counter(counter.counts)
    finally:
        await channel.close()
        await delete_namespace(namespace, broker_url(), force=True, actor="bench")
    client = AsyncMongoClient(mongo_url)
    await reset_foro(client[database])
    await client.close()
    return latencies, commands


async def raw_hop(
    mongo_url: str, database: str, amqp: aio_pika.abc.AbstractConnection, n: int, serial: bool
) -> list[float]:
    # The same durability as foro's client (shared/persistence/mongo.py): writes wait for the journal.
    client = AsyncMongoClient(mongo_url, journal=True)
    collection = client[database]["participants"]
    channel = await amqp.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=16)
    exchange = await channel.declare_exchange(
        f"bench-raw-{uuid.uuid4().hex[:6]}", aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    work = await channel.declare_queue(exclusive=True)
    await work.bind(exchange, "raw.in")
    replies = await channel.declare_queue(exclusive=True)
    await replies.bind(exchange, "raw.out")
    written: list[str] = []

    async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            body = json.loads(message.body)
            await collection.insert_one({"_id": body["event_id"], **body})
            written.append(body["event_id"])
            await exchange.publish(
                aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                "raw.out",
            )

    await work.consume(consume)
    latencies = await _drive(
        exchange, "raw.in", replies, n, serial, lambda: json.dumps(signup()).encode()
    )
    await channel.close()
    await collection.delete_many({"_id": {"$in": written}})  # back to the preloaded state
    await client.close()
    return latencies


async def _drive(
    exchange, routing_key: str, replies, n: int, serial: bool, make_body: Callable[[], bytes]
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
        before = METER.snapshot() if METER is not None else None
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
        if METER is not None and before is not None:
            METER.since(before)
    await replies.cancel(tag)
    return latencies


# --- CPU per component -------------------------------------------------------------------------


METER: CpuMeter | None = None


# --- runs and report --------------------------------------------------------------------------


@dataclass
class Runs:
    """One value per run of each figure, for raw and foro."""

    raw: dict[str, list[float]] = field(default_factory=dict)
    foro: dict[str, list[float]] = field(default_factory=dict)
    serial_commands: Counter[str] = field(default_factory=Counter)
    pipelined_commands: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, Counter[str]] = field(
        default_factory=lambda: {"raw": Counter(), "foro": Counter()}
    )

    def add(self, side: str, serial: list[float], total: float, messages: int) -> None:
        figures = self.raw if side == "raw" else self.foro
        figures.setdefault("p50", []).append(statistics.median(serial) * 1000)
        figures.setdefault("p99", []).append(statistics.quantiles(serial, n=100)[98] * 1000)
        figures.setdefault("msg/s", []).append(messages / total)


FIGURES = (("p50", "serial p50 (ms)"), ("p99", "serial p99 (ms)"), ("msg/s", "pipelined msg/s"))


def spread(values: list[float], digits: int) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}"


def report(stored: int, runs: Runs, baseline: Runs | None, messages: int, count: bool) -> None:
    n_runs = len(runs.raw["p50"])
    print(
        f"\nstored {stored:,} · {messages} messages · {n_runs} runs · min / median / max;"
        " ratios per run"
    )
    print(f"{'':18}{'raw':>24}{'foro':>26}{'foro/raw':>26}")
    for key, label in FIGURES:
        digits = 1 if key == "msg/s" else 2
        ratios = [f / r for f, r in zip(runs.foro[key], runs.raw[key], strict=True)]
        print(
            f"{label:18}{spread(runs.raw[key], digits):>24}{spread(runs.foro[key], digits):>26}"
            f"{'×' + spread(ratios, 2):>26}"
        )
    if baseline is not None and stored > 0:
        foro = statistics.median(runs.foro["msg/s"]) / statistics.median(baseline.foro["msg/s"])
        raw = statistics.median(runs.raw["msg/s"]) / statistics.median(baseline.raw["msg/s"])
        print(
            f"pipelined throughput against stored 0 (median/median): foro ×{foro:.2f}"
            f"  raw ×{raw:.2f}   (target foro ≥ ×0.9)"
        )
    if any(runs.cpu[side] for side in ("raw", "foro")):
        total = n_runs * messages
        print("CPU ms per message, pipelined           raw      foro   foro−raw")
        for name in ("database", "broker", "bench process"):
            raw, foro = (runs.cpu[side][name] / total * 1000 for side in ("raw", "foro"))
            print(f"  {name:34}{raw:8.2f}{foro:10.2f}{foro - raw:+10.2f}")
        raw, foro = (sum(runs.cpu[side].values()) / total * 1000 for side in ("raw", "foro"))
        print(f"  {'all':34}{raw:8.2f}{foro:10.2f}{foro - raw:+10.2f}")
    if count:
        total = n_runs * messages
        names = sorted(
            set(runs.serial_commands) | set(runs.pipelined_commands),
            key=lambda name: -runs.serial_commands[name] - runs.pipelined_commands[name],
        )
        print("foro database commands per sign-up        serial   pipelined")
        for name in names:
            print(
                f"  {name:38}{runs.serial_commands[name] / total:8.2f}"
                f"{runs.pipelined_commands[name] / total:12.2f}"
            )
        print(
            f"  {'all':38}{sum(runs.serial_commands.values()) / total:8.2f}"
            f"{sum(runs.pipelined_commands.values()) / total:12.2f}"
        )


async def main(messages: int, stored: list[int], runs: int, count: bool) -> None:
    configure_logging("bench", "WARNING", "console")
    counter: CommandCounter | None = None
    if count:
        counter = CommandCounter()
        monitoring.register(counter)  # before any client exists: every client reports to it
    results: dict[int, Runs] = {}
    with embedded_mongo() as mongo_url:
        global METER
        port = mongo_url.rsplit(":", 1)[1].split("/", 1)[0]
        METER = CpuMeter(
            database_pid=database_pid(port),
            broker_pid=broker_pid(),
        )
        client = AsyncMongoClient(mongo_url, journal=True)
        amqp = await aio_pika.connect_robust(broker_url())
        async with amqp:
            warm = f"bench_warm_{uuid.uuid4().hex[:6]}"
            await raw_hop(mongo_url, warm + "_raw", amqp, 10, serial=True)
            await foro_hop(mongo_url, warm, amqp, 10, serial=True)
            await client.drop_database(warm + "_raw")
            await client.drop_database(warm)
            for n in stored:
                tag = uuid.uuid4().hex[:6]
                raw_db, foro_db = f"bench_raw_{tag}", f"bench_{tag}"
                if n:
                    seconds = await preload(client[foro_db], n, foro=True)
                    raw_seconds = await preload(client[raw_db], n, foro=False)
                    print(
                        f"preloaded {n:,} participants: foro (with its indexes) {seconds:.1f} s,"
                        f" raw {raw_seconds:.1f} s",
                        flush=True,
                    )
                else:
                    await ParticipantRepository(client[foro_db]).ensure_indexes()
                results[n] = figures = Runs()
                for _ in range(runs):
                    raw_lat = await raw_hop(mongo_url, raw_db, amqp, messages, serial=True)
                    foro_lat, serial_cmds = await foro_hop(
                        mongo_url, foro_db, amqp, messages, serial=True, counter=counter
                    )
                    raw_total = (await raw_hop(mongo_url, raw_db, amqp, messages, serial=False))[0]
                    if METER is not None:
                        figures.cpu["raw"].update(METER.last)
                    (foro_total,), pipelined_cmds = await foro_hop(
                        mongo_url, foro_db, amqp, messages, serial=False, counter=counter
                    )
                    if METER is not None:
                        figures.cpu["foro"].update(METER.last)
                    figures.add("raw", raw_lat, raw_total, messages)
                    figures.add("foro", foro_lat, foro_total, messages)
                    figures.serial_commands += serial_cmds
                    figures.pipelined_commands += pipelined_cmds
                await client.drop_database(raw_db)
                await client.drop_database(foro_db)
                report(n, figures, results.get(0), messages, count)
        await client.close()


def stored_sizes(values: list[str] | None) -> list[int]:
    """The sizes asked for, smallest first: N = 0, the baseline of the others, runs first."""
    sizes = {int(part) for value in values or ["0"] for part in value.split(",") if part.strip()}
    if any(size < 0 for size in sizes):
        raise SystemExit("--stored: sizes are participant counts, 0 or more")
    return sorted(sizes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument(
        "--stored",
        action="append",
        metavar="N[,N...]",
        help="participants already stored before measuring (repeatable; default 0)",
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument(
        "--count-commands",
        action="store_true",
        help="print the database commands per sign-up, by command name",
    )
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.messages,
            stored_sizes(arguments.stored),
            arguments.runs,
            arguments.count_commands,
        )
    )

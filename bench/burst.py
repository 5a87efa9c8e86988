"""A mass invitation: N sign-ups published at once into the whole platform, beside a raw hop.

    .venv/bin/python bench/burst.py [--count 10000] [--expect 2] [--raw 1000]

Starts README command 1's stack on embedded defaults (`foro up`: SecantusDB,
the SMTP sink, the five services) in a scratch data directory, namespace and ports of its own,
so it disturbs nothing running. Then, the way a form vendor would (plain aio-pika, persistent,
confirmed, mandatory), it publishes `--count` sign-ups at once to the intake exchange and
measures:
- until every sign-up is decided (`registration.confirmed`, counted on a queue of its own);
- until every person has `--expect` distinct e-mails in the SMTP sink (confirmation and badge);
- lost (people short of e-mails), duplicated (one Message-ID delivered twice), dead letters in
  every `<namespace>.*.dlq`;
- CPU ms per sign-up of each service process, the database, the SMTP sink and the broker.
Before the burst, the raw baseline: `--raw` messages through a bare aio-pika consumer that
inserts each into the same database and publishes a reply (confirmed, persistent), pipelined.
Issue 12's target: 10,000 sign-ups, every e-mail in under 3 minutes, lost 0, duplicated 0.
The stack is stopped (Ctrl-C, as a person would) and its broker objects deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import aio_pika
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import broker_pid, cpu_seconds  # noqa: E402
from bench.platform_burst import dead_letters, signup  # noqa: E402
from shared.messaging.namespace import delete_namespace  # noqa: E402
from tests.support.servers import free_port, mongo_url_for  # noqa: E402

SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
BROKER_URL = os.environ.get("FORO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


# --- CPU per process -----------------------------------------------------------------------------


def stack_pids(run_dir: Path) -> dict[str, int]:
    pids = {}
    for path in run_dir.glob("*.pid"):
        if path.stem != "devstack":
            try:
                pids[path.stem] = int(path.read_text().strip())
            except (OSError, ValueError):
                continue
    return pids


async def database_top(mongo_url: str) -> dict[str, tuple[int, int]]:
    """Time (µs) and operations per collection since the server started (the `top` command)."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_url)
    try:
        totals = (await client.admin.command("top"))["totals"]
    finally:
        await client.close()
    return {
        name: (entry["total"]["time"], entry["total"]["count"])
        for name, entry in totals.items()
        if isinstance(entry, dict) and "total" in entry
    }


# --- the stack -----------------------------------------------------------------------------------


def start_stack(data: Path, namespace: str, mongo_port: int, port_base: int) -> subprocess.Popen:
    log = open(data.parent / f"{data.name}.log", "wb")
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("foro")),
            "up",
            *("--data-dir", str(data), "--namespace", namespace),
            *("--mongo-port", str(mongo_port), "--port-base", str(port_base), "--no-sample"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def wait_ready(stack: subprocess.Popen, port_base: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(range(1, len(SERVICES) + 1))
    while waiting:
        if stack.poll() is not None:
            raise RuntimeError(f"the stack exited with status {stack.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"services on {sorted(port_base + n for n in waiting)} not ready")
        for n in list(waiting):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port_base + n}/health/ready", timeout=2
                ) as answer:
                    if answer.status == 200:
                        waiting.discard(n)
            except OSError:
                pass
        time.sleep(0.5)  # polling HTTP readiness of separate processes: nothing to await


def stop_stack(stack: subprocess.Popen) -> None:
    if stack.poll() is None:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(60)
        except subprocess.TimeoutExpired:
            stack.kill()
            stack.wait(10)


# --- raw baseline --------------------------------------------------------------------------------


async def raw_rate(mongo_url: str, n: int) -> float:
    """Messages/s of a bare consumer: parse, insert one document, publish a confirmed reply."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, journal=True)
    collection = client[f"raw_{uuid.uuid4().hex[:6]}"]["participants"]
    connection = await aio_pika.connect(BROKER_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=16)
        exchange = await channel.declare_exchange(
            f"bench-raw-{uuid.uuid4().hex[:6]}", aio_pika.ExchangeType.TOPIC, auto_delete=True
        )
        work = await channel.declare_queue(exclusive=True)
        await work.bind(exchange, "raw.in")
        replies = await channel.declare_queue(exclusive=True)
        await replies.bind(exchange, "raw.out")
        done = asyncio.Event()
        received = 0

        async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                body = json.loads(message.body)
                await collection.insert_one({"_id": body["event_id"], **body})
                await exchange.publish(
                    aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    "raw.out",
                )

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == n:
                done.set()

        await work.consume(consume)
        await replies.consume(on_reply)
        started = time.perf_counter()
        for index in range(n):
            body = signup("raw", "raw", index)
            await exchange.publish(
                aio_pika.Message(
                    json.dumps(body).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                ),
                "raw.in",
            )
        await asyncio.wait_for(done.wait(), 300)
        elapsed = time.perf_counter() - started
    await client.drop_database(collection.database.name)
    await client.close()
    return n / elapsed


# --- the burst -----------------------------------------------------------------------------------


class MailCounter:
    """Distinct Message-IDs per recipient of this run; each file is read once."""

    def __init__(self, folder: Path, run: str) -> None:
        self.folder, self.run = folder, run
        self.seen: set[str] = set()
        self.ids: dict[str, list[str]] = {}
        self.parser = BytesParser(policy=policy.default)

    def scan(self) -> None:
        for path in self.folder.glob("*.eml"):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            message = self.parser.parsebytes(path.read_bytes(), headersonly=True)
            to = str(message["To"] or "")
            if f"burst.{self.run}." in to:
                address = to.strip("<> ").split("<")[-1].rstrip(">")
                self.ids.setdefault(address, []).append(str(message["Message-ID"]))

    def complete(self, expect: int) -> int:
        return sum(1 for ids in self.ids.values() if len(set(ids)) >= expect)


async def burst(namespace: str, forum_id: str, count: int) -> tuple[str, float, float]:
    """Publish `count` sign-ups at once; returns the run id, publish and decide seconds."""
    run = uuid.uuid4().hex[:8]
    bodies = [signup(forum_id, run, n) for n in range(count)]
    connection = await aio_pika.connect(BROKER_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        events = await channel.get_exchange(f"{namespace}.events")
        tap = await channel.declare_queue(exclusive=True)
        await tap.bind(events, "registration.confirmed")
        decided: set[str] = set()
        all_decided = asyncio.Event()

        async def on_confirmed(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            body = json.loads(message.body)
            if f"burst.{run}." in body["participant"]["email"]:
                decided.add(body["participant"]["participant_id"])
                if len(decided) == count:
                    all_decided.set()

        await tap.consume(on_confirmed)
        intake = await channel.get_exchange(f"{namespace}.intake")
        started = time.perf_counter()
        await asyncio.gather(
            *(
                intake.publish(
                    aio_pika.Message(
                        json.dumps(body).encode(),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=body["event_id"],
                    ),
                    routing_key="registration.submitted",
                    mandatory=True,
                )
                for body in bodies
            )
        )
        published = time.perf_counter() - started
        await asyncio.wait_for(all_decided.wait(), 1800)
        return run, published, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--expect", type=int, default=2, help="e-mails per person (confirmation and badge)"
    )
    parser.add_argument("--raw", type=int, default=1000, help="messages for the raw baseline")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for the e-mails")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data directory")
    args = parser.parse_args()

    from shared.pack import load_pack

    scratch = Path(tempfile.mkdtemp(prefix="foro-burst-"))
    data, namespace = scratch / "foro", f"burst{uuid.uuid4().hex[:6]}"
    mongo_port, port_base = free_port(), free_port()
    while any(not 1024 < port_base + n < 65000 for n in range(6)):
        port_base = free_port()
    stack = start_stack(data, namespace, mongo_port, port_base)
    try:
        wait_ready(stack, port_base)
        start_date = (data / "forum-start-date").read_text().strip()
        forum_id = load_pack(overrides={"forum.start_date": start_date}).forum.id
        raw = asyncio.run(raw_rate(mongo_url_for(mongo_port), args.raw))
        print(f"raw hop (aio-pika + insert + confirmed reply), pipelined: {raw:.0f} msg/s")

        pids = stack_pids(data / "run")
        pids["rabbitmq (shared)"] = broker_pid() or 0
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        top_before = asyncio.run(database_top(mongo_url_for(mongo_port)))
        dlq_before = sum(dead_letters(namespace).values())
        mail = MailCounter(data / "mail", "")
        started = time.monotonic()
        run, published, decided = asyncio.run(burst(namespace, forum_id, args.count))
        mail.run = run
        print(
            f"{args.count:,} sign-ups published in {published:.1f} s; all confirmed after "
            f"{decided:.1f} s ({args.count / decided:.0f}/s, ×{args.count / decided / raw:.2f} raw)"
        )
        deadline = started + args.timeout
        while True:
            mail.scan()
            if mail.complete(args.expect) == args.count or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the sink writes files: nothing to await
        elapsed = time.monotonic() - started
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        top_after = asyncio.run(database_top(mongo_url_for(mongo_port)))

        complete = mail.complete(args.expect)
        duplicated = sum(len(ids) - len(set(ids)) for ids in mail.ids.values())
        per_person = Counter(len(set(ids)) for ids in mail.ids.values())
        dlq = dead_letters(namespace)
        e_mails = sum(len(set(ids)) for ids in mail.ids.values())
        print(
            f"every e-mail after {elapsed:.1f} s ({e_mails / elapsed:.1f} e-mails/s);"
            f" target: 10,000 sign-ups in 180 s"
        )
        print(
            f"lost {args.count - complete}  duplicated {duplicated}  people by distinct e-mails"
            f" {dict(sorted(per_person.items()))}  dead letters"
            f" {sum(dlq.values()) - dlq_before} new"
            f" ({', '.join(f'{k}={v}' for k, v in dlq.items() if v) or 'every DLQ empty'})"
        )
        print("CPU ms per sign-up (from the first publish to the last e-mail)")
        total = 0.0
        for name in sorted(pids, key=lambda n: -(after[n] - before[n])):
            spent = (after[name] - before[name]) / args.count * 1000
            total += spent
            print(f"  {name:24}{spent:8.2f}")
        print(f"  {'all':24}{total:8.2f}")
        print("database time per sign-up, by collection (the server's `top`): ms, operations")
        spent = {
            name: (
                (top_after[name][0] - top_before.get(name, (0, 0))[0]) / args.count / 1000,
                (top_after[name][1] - top_before.get(name, (0, 0))[1]) / args.count,
            )
            for name in top_after
        }
        for name, (ms, ops) in sorted(spent.items(), key=lambda item: -item[1][0])[:16]:
            if ops:
                print(f"  {name.removeprefix(namespace + '_'):44}{ms:8.2f}{ops:8.2f}")
        print(
            f"  {'all':44}{sum(ms for ms, _ in spent.values()):8.2f}"
            f"{sum(ops for _, ops in spent.values()):8.2f}"
        )
    finally:
        stop_stack(stack)
        # Every queue and exchange the stack declared, messages included.
        asyncio.run(delete_namespace(namespace, BROKER_URL, force=True, actor="bench"))
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")


if __name__ == "__main__":
    main()

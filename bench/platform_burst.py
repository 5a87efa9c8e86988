"""A burst of sign-ups into a running platform, accounted for the way an attendee would.

Start the platform with README command 1 (`./deploy/local/up.sh`), then:

    .venv/bin/python bench/platform_burst.py --count 500 --rate 40

It publishes `--count` sign-ups at `--rate` per second to the intake exchange exactly as a form
vendor does (plain aio-pika, persistent, confirmed, mandatory), waits until every person has
`--expect` distinct e-mails in the SMTP sink's folder (`.foro/mail`, the launcher's default),
and prints the accounting: sent, e-mails per person, lost, duplicated (the same Message-ID
twice), dead letters in every `<namespace>.*.dlq` queue, and the time it took. It measures
the platform against itself; it asserts nothing and leaves nothing on the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from email import policy
from email.parser import BytesParser
from pathlib import Path

import aio_pika

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def signup(forum_id: str, run: str, n: int) -> dict:
    from tests.support.factories import signup as form_signup

    return form_signup(
        producer="burst-form",
        forum_id=forum_id,
        submission_id=f"burst-{run}-{n}",
        category="business_association",
        given_name="Persona",
        family_name=f"Ráfaga {n}",
        email=f"burst.{run}.{n}@example.org",
        organisation="Cámara de Comercio",
        consents={"privacy_policy": True},
    )


async def publish(url: str, namespace: str, bodies: list[dict], rate: float) -> float:
    started = time.monotonic()
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{namespace}.intake")
        for index, body in enumerate(bodies):
            due = started + index / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # the pacing of a form vendor, not a wait for a result
            message = aio_pika.Message(
                json.dumps(body).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=body["event_id"],
            )
            await exchange.publish(message, routing_key="registration.submitted", mandatory=True)
    return time.monotonic() - started


def mail_of_run(folder: Path, run: str) -> dict[str, list[str]]:
    """Message-IDs received per recipient of this run."""
    parser = BytesParser(policy=policy.default)
    found: dict[str, list[str]] = defaultdict(list)
    for path in folder.glob("*.eml"):
        message = parser.parsebytes(path.read_bytes())
        to = str(message["To"] or "")
        if f"burst.{run}." in to:
            found[to.strip("<> ").split("<")[-1].rstrip(">")].append(str(message["Message-ID"]))
    return found


def dead_letters(namespace: str) -> dict[str, int]:
    result = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "messages"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    depths = {}
    for line in result.stdout.splitlines()[1:]:
        name, _, count = line.partition("\t")
        if name.startswith(f"{namespace}.") and name.endswith(".dlq") and count.strip().isdigit():
            depths[name] = int(count)
    return depths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rate", type=float, default=40.0, help="sign-ups per second")
    parser.add_argument(
        "--expect", type=int, default=2, help="e-mails per person (confirmation and badge)"
    )
    parser.add_argument("--namespace", default="foro")
    parser.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--mail", default=str(ROOT / ".foro" / "mail"))
    parser.add_argument(
        "--forum-start-date", default=None, help="the date the platform was started with"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for the e-mails"
    )
    args = parser.parse_args()

    from shared.pack import load_pack

    overrides = {"forum.start_date": args.forum_start_date} if args.forum_start_date else None
    forum_id = load_pack(overrides=overrides).forum.id
    run = uuid.uuid4().hex[:8]
    bodies = [signup(forum_id, run, n) for n in range(args.count)]
    before = sum(dead_letters(args.namespace).values())
    started = time.monotonic()
    publish_seconds = asyncio.run(publish(args.broker_url, args.namespace, bodies, args.rate))
    folder = Path(args.mail)
    deadline = started + args.timeout
    while True:
        received = mail_of_run(folder, run)
        complete = sum(1 for ids in received.values() if len(set(ids)) >= args.expect)
        if complete == args.count or time.monotonic() > deadline:
            break
        time.sleep(1.0)  # polling a folder of files: nothing to await
    elapsed = time.monotonic() - started
    per_person = Counter(len(set(ids)) for ids in received.values())
    duplicated = sum(len(ids) - len(set(ids)) for ids in received.values())
    lost = args.count - complete
    dlq = dead_letters(args.namespace)
    print(
        f"sent {args.count} in {publish_seconds:.1f}s; all e-mails after {elapsed:.1f}s "
        f"({args.count * args.expect / elapsed:.1f} e-mails/s)"
    )
    print(
        f"people with n distinct e-mails: {dict(sorted(per_person.items()))}; without any: {args.count - len(received)}"
    )
    print(
        f"lost {lost}  duplicated {duplicated}  dead letters {sum(dlq.values()) - before} new "
        f"({', '.join(f'{k}={v}' for k, v in dlq.items() if v) or 'every DLQ empty'})"
    )


if __name__ == "__main__":
    main()

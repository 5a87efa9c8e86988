"""Bench: a Memoria for a 10,000-participant forum against reading the same data raw.

    .venv/bin/python bench/reporting_memoria.py [--participants 10000] [--out DIR] [--fold 2000 --in-flight 16]

Seeds reporting's database (an embedded SecantusDB unless FORO_BENCH_MONGO_URL is set) with the
participant projection of N people (about 60 % consenting to be listed), approved conclusions for
every session and an action plan; then times, in the same run:
  raw      reading the documents the Memoria is made of (participants, conclusions, items, budget)
  memoria  statistics + HTML + PDF (es) + storing both by hash + recording the version
and prints the ratio. `--fold N` also times folding N registration events through the live code path
(without the broker), `--in-flight` at a time as the consumer's prefetch hands them over, and counts
the database commands (round trips) per event by command and collection. `--out DIR` keeps the files (docs/memoria-sample-*.png come from such a run).

The PDF is the HTML printed by WeasyPrint, and it is most of the time: at 10,000 participants
(5,136 listed, 59 pages) the Memoria takes about 24 s, 22 s of them the PDF, and the process peaks
at about 420 MB (2-core machine, December 2026). The participant list is the bulk of it; it is laid
out as plain lines in two columns filled in turn, which WeasyPrint handles about twice as fast as
a table or balanced columns (docs/reporting.md, Bench).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr
from pymongo import monitoring

from bench.measure import CommandCounter
from services.reporting.action_plan.handlers import create_action_item
from services.reporting.bootstrap import build_deps
from services.reporting.budget.handlers import record_budget_entry
from services.reporting.conclusions.handlers import draft_conclusion, move_conclusion
from services.reporting.deps import Reporting
from services.reporting.projections.handlers import LiveFold, project_event
from services.reporting.publishing.content import build_memoria
from services.reporting.publishing.handlers import (
    generate_document,
    memoria_inputs,
    report_content,
    write_files,
)
from services.reporting.publishing.render import render_html, render_pdf
from services.reporting.settings import ReportingSettings
from shared.persistence.mongo import create_mongo_client

GIVEN = [
    "Ana",
    "José",
    "María",
    "Óscar",
    "Lucía",
    "Andrés",
    "Sofía",
    "Héctor",
    "Inés",
    "Raúl",
    "Camila",
    "Íñigo",
]
FAMILY = [
    "López",
    "Hernández",
    "Núñez",
    "Pérez",
    "García",
    "Martínez",
    "Castañeda",
    "Ramírez",
    "Peña",
    "Ortiz",
    "Muñoz",
]
ORGANISATIONS = [
    "Cámara de Comercio",
    "Asociación de Salvadoreños en Los Ángeles",
    "OIM",
    "Banco Agrícola",
    "Fundación Migración y Desarrollo",
    "Ministerio de Relaciones Exteriores",
    "TACA",
    "Remesas Express",
]


def participant_documents(pack, count: int, rng: random.Random) -> list[dict]:
    categories = [c.code for c in pack.categories]
    countries = [c.code for c in pack.countries]
    days = [d.isoformat() for d in pack.forum.dates]
    documents = []
    for _ in range(count):
        listed = rng.random() < 0.6
        status = rng.choices(
            ["confirmed", "waitlisted", "cancelled", "pending_approval"], [85, 5, 7, 3]
        )[0]
        checkins = {}
        for day in days:
            if status == "confirmed" and rng.random() < 0.8:
                # at the entrance, then in the plenary during its first session (09:10 local)
                checkins[f"{day}__entrance"] = {
                    "day": day,
                    "point": "entrance",
                    "as_of": f"{day}T14:50:00.000000Z|b",
                }
                if rng.random() < 0.7:
                    checkins[f"{day}__plenary"] = {
                        "day": day,
                        "point": "plenary",
                        "as_of": f"{day}T15:10:00.000000Z|b",
                    }
        category = rng.choice(categories)
        # signed up in the eight weeks before the forum, more of them as it nears
        signed_up = pack.forum.dates[0] - timedelta(days=int(56 * rng.random() ** 2))
        documents.append(
            {
                "_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "forum_id": pack.forum.id,
                "status": status,
                "status_as_of": "2004",
                "registered_as_of": f"{signed_up.isoformat()}T16:00:00.000000Z|r",
                "category": category,
                "country": rng.choice(countries),
                "language": rng.choice(["es", "es", "en"]),
                "listed_publicly": listed,
                "erased": False,
                "checkins": checkins,
                "given_name": rng.choice(GIVEN) if listed else None,
                "family_name": rng.choice(FAMILY) if listed else None,
                "organisation": rng.choice(ORGANISATIONS) if listed else None,
                "version": 1,
                "processed": [],
            }
        )
    return documents


async def seed(deps: Reporting, participants: int, ledger: bool) -> None:
    rng = random.Random(2004)
    docs = participant_documents(deps.pack, participants, rng)
    for start in range(0, len(docs), 1000):
        await deps.repository.database["participants"].insert_many(docs[start : start + 1000])
    if ledger:  # the events those documents were folded from: a sign-up, then each check-in
        entries = [
            {
                "_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "type": kind,
                "forum_id": doc["forum_id"],
            }
            for doc in docs
            for kind in ["registration.confirmed"] + ["attendee.checked_in"] * len(doc["checkins"])
        ]
        for start in range(0, len(entries), 5000):
            await deps.repository.ledger.insert_many(entries[start : start + 5000])
    sessions = [i for i in deps.pack.programme.items if i.kind == "session"]
    approved = []
    for number, session in enumerate(sessions):
        texts = {
            lang: {
                "title": f"{session.title.get(lang)} — {'conclusión' if lang == 'es' else 'conclusion'} {number + 1}",
                "key_issues": "Costo de las remesas, acceso a servicios financieros y protección del migrante. "
                * 3,
                "discussion": "Los panelistas coincidieron en la necesidad de alianzas público-privadas. "
                * 6,
                "way_forward": "Conformar una mesa de trabajo regional con el sector privado. " * 2,
            }
            for lang in ("es", "en")
        }
        document = await draft_conclusion(deps, session.code, texts, "Relatoría")
        await move_conclusion(deps, document["_id"], "submit")
        await move_conclusion(deps, document["_id"], "approve", actor="secretaría")
        approved.append(document["_id"])
    owners = [
        ("country", "SV", "El Salvador"),
        ("organisation", "iom", "OIM"),
        ("sector", "finance_remittances", "Remesadoras"),
        ("country", "MX", "México"),
        ("organisation", "sica", "SICA"),
    ]
    for number in range(15):
        kind, code, name = owners[number % len(owners)]
        await create_action_item(
            deps,
            title={
                "es": f"Línea de acción {number + 1}: fortalecer la alianza",
                "en": f"Line of action {number + 1}: strengthen the partnership",
            },
            owner={"kind": kind, "code": code, "name": name, "language": "es"},
            deadline=f"2005-{(number % 12) + 1:02d}-28",
            conclusion_ids=approved[number % len(approved) :][:1],
        )
    await seed_activity(deps, rng)
    for line, cents in (
        ("consultancies", 1_520_000),
        ("equipment_refreshments", 830_000),
        ("panelist_support", 410_000),
    ):
        await record_budget_entry(deps, line, "expense", cents, "bench")


async def seed_activity(deps: Reporting, rng: random.Random) -> None:
    """Expo, job fair, messages and panelist support, folded as the other services' events."""
    from tests.integration.reporting import events as ev

    bodies = []
    for number, booth in enumerate(deps.pack.booths[:18]):
        exhibitor = f"ex-{number}"
        sector = rng.choice(deps.pack.sectors).code
        bodies += [
            ev.expo("exhibitor.approved", 1, exhibitor_id=exhibitor, sector=sector),
            ev.expo("booth.assigned", 2, booth_code=booth.code, exhibitor_id=exhibitor),
        ]
        bodies += [
            ev.expo("lead.captured", 3, lead_id=f"lead-{number}-{i}", exhibitor_id=exhibitor)
            for i in range(rng.randint(0, 4))
        ]
    bodies += [ev.expo("launch.announced", 4, launch_id=f"launch-{i}") for i in range(3)]
    bodies += [ev.expo("meeting.accepted", 5, meeting_id=f"m-{i}") for i in range(9)]
    bodies += [ev.expo("job.posted", 6, job_id=f"job-{i}") for i in range(6)]
    bodies += [
        ev.expo("job.application_submitted", 7, application_id=f"app-{i}", job_id=f"job-{i % 6}")
        for i in range(14)
    ]
    bodies += [
        ev.notification("notification.sent" if i % 25 else "notification.failed", 8, f"msg-{i}")
        for i in range(50)
    ]
    bodies += [ev.panelist_support("granted", 9, f"support-{i}", 450) for i in range(6)]
    for body in bodies:
        await project_event(body, deps)


async def read_raw(deps: Reporting, ledger: bool) -> int:
    repo, forum = deps.repository, deps.forum_id
    rows = await repo.database["participants"].find({"forum_id": forum}).to_list()
    if ledger:
        rows += await repo.ledger.find({}).to_list()
    rows += await repo.conclusions.collection.find({"forum_id": forum}).to_list()
    rows += await repo.action_items.collection.find({"forum_id": forum}).to_list()
    rows += await repo.budget.collection.find({"forum_id": forum}).to_list()
    return len(rows)


COMMANDS = CommandCounter()
monitoring.register(COMMANDS)  # before any client exists


async def fold_events(deps: Reporting, count: int, in_flight: int) -> float:
    """`count` events (sign-ups, then their check-ins) through the live fold, `in_flight` at a
    time as the consumer's prefetch hands them over; database commands counted meanwhile."""
    from tests.integration.reporting import events as ev

    people = [ev.person() for _ in range(count // 2)]
    bodies = [ev.registration("registration.confirmed", p, 1) for p in people] + [
        ev.checked_in(p, 2) for p in people
    ]
    slots = asyncio.Semaphore(in_flight)
    live = LiveFold(deps)  # what the consumer does: deliveries in flight written together

    async def fold(body: dict) -> None:
        async with slots:
            await live.project(body)

    COMMANDS.database, COMMANDS.counts = deps.repository.database.name, Counter()
    started = time.perf_counter()
    await asyncio.gather(*(fold(body) for body in bodies))
    elapsed = time.perf_counter() - started
    COMMANDS.database = None
    return elapsed


async def run(
    url: str, participants: int, out: Path | None, fold: int, in_flight: int, ledger: bool
) -> None:
    settings = ReportingSettings(
        mongo_url=SecretStr(url), database=f"bench_reporting_{uuid.uuid4().hex[:8]}"
    )
    mongo = create_mongo_client(url)
    deps = build_deps(settings, mongo, clock=lambda: datetime(2004, 11, 19, 18, 0, tzinfo=UTC))
    try:
        await deps.repository.ensure_indexes()
        await seed(deps, participants, ledger)
        raw_times, memoria_times = [], []
        for _ in range(3):
            started = time.perf_counter()
            rows = await read_raw(deps, ledger)
            raw_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = await generate_document(deps, "memoria", "es")
            memoria_times.append(time.perf_counter() - started)
        raw, memoria = min(raw_times), min(memoria_times)
        started = time.perf_counter()
        inputs = await memoria_inputs(deps)
        read_and_count = time.perf_counter() - started
        document = build_memoria(deps.pack, "es", inputs, deps.clock(), today=deps.today())
        started = time.perf_counter()
        render_html(document)
        html_time = time.perf_counter() - started
        started = time.perf_counter()
        render_pdf(document)
        pdf_time = time.perf_counter() - started
        pdf = next(f for f in report["files"] if f["format"] == "pdf")
        print(f"participants: {participants:,}  documents read raw: {rows:,}")
        print(f"raw read:   {raw * 1000:8.0f} ms  (best of 3)")
        print(
            f"memoria es: {memoria * 1000:8.0f} ms  (best of 3; statistics + HTML + PDF {pdf['size'] / 1e6:.1f} MB + store)"
        )
        print(f"ratio memoria / raw read: {memoria / raw:.1f}×")
        print(
            f"  of which: read + statistics {read_and_count * 1000:.0f} ms, HTML {html_time * 1000:.0f} ms, "
            f"PDF {pdf_time * 1000:.0f} ms ({len(inputs['participants']):,} people listed)"
        )
        if fold:
            elapsed = await fold_events(deps, fold, in_flight)
            total = sum(COMMANDS.counts.values())
            print(
                f"fold: {fold:,} events, {in_flight} in flight, in {elapsed:.2f} s = "
                f"{fold / elapsed:,.0f} events/s (no broker); "
                f"{total / fold:.2f} database commands per event"
            )
            for command, n in COMMANDS.counts.most_common():
                print(f"  {n / fold:6.3f}  {command}")
        if out is not None:
            for fmt in ("pdf", "html"):
                content, _ = await report_content(deps, report["_id"], fmt)
                write_files(out, report["_id"], {fmt: content})
            print(f"written: {out / report['_id']}.pdf|.html")
    finally:
        await mongo.drop_database(settings.database)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--fold", type=int, default=0, help="Also time folding this many events.")
    parser.add_argument(
        "--in-flight", type=int, default=16, help="Events folded at once (the prefetch)."
    )
    parser.add_argument(
        "--ledger",
        action="store_true",
        help="Also seed the event ledger those participants came from (a sign-up and each "
        "check-in: about 2.4 entries each), which the Memoria counts by type; the raw read "
        "then reads it too.",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        url = os.environ.get("FORO_BENCH_MONGO_URL")
        if url is None:
            from tests.support.servers import embedded_mongo

            url = stack.enter_context(embedded_mongo())
        asyncio.run(run(url, args.participants, args.out, args.fold, args.in_flight, args.ledger))


if __name__ == "__main__":
    main()

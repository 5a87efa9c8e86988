"""Booth allocation for 300 exhibitors: the pure rule, and the guarded writes, against raw baselines.

    .venv/bin/python bench/expo_allocation.py [--exhibitors 300] [--booths 300] [--mongo-url URL]

Without --mongo-url (or FORO_BENCH_MONGO_URL) it starts the embedded SecantusDB server. It prints:
- the pure allocation (`booths.rules.allocate`) against a baseline that only sorts the same applicants
  and scans the booth list once per applicant (what any allocator must at least do);
- the whole floor written through `booths.handlers.allocate_floor` (per exhibitor: the conditional booth
  claim and the exhibitor's versioned write with its outbox event) against a baseline of the same
  number of raw `update_one` calls on the same server — the ratio is the price of the guarantees.
No broker is needed: outbox entries are written, not published.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.expo.booths import rules as domain
from services.expo.booths.handlers import allocate_floor
from services.expo.deps import Expo
from services.expo.repository import ExpoRepository
from services.expo.settings import ExpoSettings
from shared.logging import configure_logging
from shared.pack import DEFAULT_PACK, load_pack
from shared.persistence.mongo import create_mongo_client

T0 = datetime(2004, 10, 1, tzinfo=UTC)


def synthetic_pack(directory: Path, booths: int) -> Path:
    data = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    zones = [zone["code"] for zone in data["zones"]]
    tiers = ["standard"] * 6 + ["premium"] * 3 + ["sponsor"]
    columns = 20
    data["booths"] = [
        {
            "code": f"B{n:03d}",
            "zone": zones[n % len(zones)],
            "x": 3 * (n % columns),
            "y": 4 * (n // columns),
            "width": 3,
            "height": 3,
            "size_m2": 9,
            "tier": tiers[n % len(tiers)],
            "price_usd": 500,
        }
        for n in range(booths)
    ]
    path = directory / "pack.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def applicants(count: int, pack, rng: random.Random) -> list[domain.Applicant]:
    zones = [zone.code for zone in pack.zones]
    codes = [booth.code for booth in pack.booths]
    return [
        domain.Applicant(
            str(uuid.UUID(int=rng.getrandbits(128))),
            rng.choice(zones),
            rng.choice(["standard", "standard", "premium", "sponsor"]),
            tuple(rng.sample(codes, 3)),
            T0 + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_pure(pack, people: list[domain.Applicant]) -> None:
    booths = [domain.BoothSlot(b.code, b.zone, b.tier, b.x, b.y) for b in pack.booths]

    def baseline() -> None:
        free = {b.code: b for b in booths}
        for person in sorted(people, key=lambda p: (p.approved_at, p.exhibitor_id)):
            for booth in free.values():
                if booth.zone == person.zone:
                    del free[booth.code]
                    break

    rule = best_of(5, lambda: domain.allocate(pack, people, booths))
    raw = best_of(5, baseline)
    placed = sum(1 for a in domain.allocate(pack, people, booths) if a.booth)
    print(f"pure allocation   : {len(people)} exhibitors, {len(booths)} booths, {placed} placed")
    print(f"  rules.allocate  : {rule * 1000:8.1f} ms")
    print(f"  baseline scan   : {raw * 1000:8.1f} ms   ratio {rule / raw:5.1f}x")


async def bench_database(url: str, pack_path: Path, people: list[domain.Applicant]) -> None:
    settings = ExpoSettings(database=f"bench_expo_{uuid.uuid4().hex[:8]}", pack_path=pack_path)
    pack = load_pack(pack_path)
    client = create_mongo_client(url)
    repository = ExpoRepository(client[settings.database])
    try:
        await repository.ensure_indexes()
        await repository.seed_booths(pack)
        await repository.exhibitors.collection.insert_many(
            [
                {
                    "_id": p.exhibitor_id,
                    "forum_id": pack.forum.id,
                    "name": f"Exhibitor {n}",
                    "status": "approved",
                    "exhibitor_type": "company",
                    "country": "SV",
                    "contact": {"name": "Bench", "email": f"bench.{n}@example.org"},
                    "zone": p.zone,
                    "tier": p.tier,
                    "booth_preferences": list(p.preferences),
                    "approved_at": p.approved_at,
                    "booth": None,
                    "version": 1,
                    "processed": [],
                    "outbox": [],
                }
                for n, p in enumerate(people)
            ]
        )
        deps = Expo(pack=pack, repository=repository, settings=settings)
        started = time.perf_counter()
        answers = await allocate_floor(deps)
        guarded = time.perf_counter() - started

        scratch = client[settings.database]["baseline"]
        await scratch.insert_many([{"_id": n, "v": 0} for n in range(len(people))])
        started = time.perf_counter()
        for n in range(len(people)):  # the same two writes per exhibitor, with no rule and no check
            await scratch.update_one({"_id": n}, {"$set": {"v": 1}})
            await scratch.update_one({"_id": n}, {"$set": {"v": 2}})
        raw = time.perf_counter() - started

        placed = sum(1 for a in answers if a.booth)
        held = await repository.booths.count_documents({"exhibitor_id": {"$ne": None}})
        assert held == placed, "a booth was written twice"
        print(
            f"database          : {len(people)} exhibitors through allocate_floor, {placed} placed ({url.split('?')[0]})"
        )
        print(
            f"  allocate_floor  : {guarded * 1000:8.1f} ms   ({guarded / len(people) * 1000:.2f} ms per exhibitor)"
        )
        print(f"  2×update_one raw: {raw * 1000:8.1f} ms   ratio {guarded / raw:5.1f}x")
    finally:
        await client.drop_database(settings.database)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exhibitors", type=int, default=300)
    parser.add_argument("--booths", type=int, default=300)
    parser.add_argument("--mongo-url", default=os.environ.get("FORO_BENCH_MONGO_URL"))
    parser.add_argument("--seed", type=int, default=2004)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", "console")

    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="foro-bench-")))
        pack_path = synthetic_pack(directory, args.booths)
        pack = load_pack(pack_path)
        people = applicants(args.exhibitors, pack, random.Random(args.seed))
        bench_pure(pack, people)
        url = args.mongo_url
        if url is None:
            from tests.support.servers import embedded_mongo

            url = stack.enter_context(embedded_mongo())
        asyncio.run(bench_database(url, pack_path, people))


if __name__ == "__main__":
    main()

"""Conflict detection on a large programme: sort-and-sweep against all pairs, in the same run.

    .venv/bin/python bench/scheduling_conflicts.py [--sessions 500] [--repeat 20]

Builds a random two-day programme (12 rooms filled back to back, 1200 people, 1-4 per session, a
few deliberate double bookings), then times `conflicts.rules.find_conflicts` (sort per room and per person, sweep) and a
raw baseline that compares every pair of sessions for the same two overlap rules. Prints the
median time of each, the ratio, and checks both found the same overlapping pairs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.scheduling.conflicts import rules as domain
from services.scheduling.documents import ROLES
from shared.pack import load_pack


def programme(count: int, seed: int = 7) -> list[domain.Scheduled]:
    """A realistic programme: rooms filled back to back from 08:00, two days, 1200 people each in a
    couple of sessions, plus a handful of deliberate double bookings (rooms and people)."""
    rng = random.Random(seed)
    rooms = [f"room_{i}" for i in range(12)]
    people = [f"p-{i:04d}" for i in range(1200)]
    first = datetime(2004, 11, 18, 14, 0, tzinfo=UTC)  # 08:00 in San Salvador
    cursor = {(day, room): first + timedelta(days=day) for day in range(2) for room in rooms}
    sessions = []
    for index in range(count):
        day, room = index % 2, rooms[(index // 2) % len(rooms)]
        start = cursor[(day, room)]
        end = start + timedelta(minutes=rng.choice((20, 25, 30)))
        cursor[(day, room)] = end
        if index % 97 == 0:  # a deliberate room double booking
            start -= timedelta(minutes=10)
        who = tuple((p, p, rng.choice(ROLES)) for p in rng.sample(people, rng.randrange(1, 5)))
        sessions.append(
            domain.Scheduled(
                code=f"S{index:04d}",
                kind="session",
                start=start,
                end=end,
                room=room,
                expected_audience=rng.randrange(10, 120),
                people=who,
            )
        )
    return sessions


def all_pairs(sessions: list[domain.Scheduled]) -> set[tuple[str, str, str]]:
    """The naive baseline: every pair, both rules (same room, same person)."""
    found = set()
    for a, b in combinations(sessions, 2):
        if a.start < b.end and b.start < a.end and a.parent != b.code and b.parent != a.code:
            if a.room == b.room:
                found.add(("room", *sorted((a.code, b.code))))
            for key in {k for k, _, _ in a.people} & {k for k, _, _ in b.people}:
                found.add((key, *sorted((a.code, b.code))))
    return found


def swept_pairs(conflicts: list[domain.Conflict]) -> set[tuple[str, str, str]]:
    out = set()
    for c in conflicts:
        if c.kind == "room_double_booked":
            out.add(("room", *sorted(c.sessions)))
        elif c.kind == "person_double_booked":
            out.add((c.person_id, *sorted(c.sessions)))
    return out


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    pack = load_pack()
    sessions = programme(args.sessions)
    venue = domain.VenueRules(
        rooms={f"room_{i}": 100 for i in range(12)},
        dates=tuple(pack.forum.dates),
        opens=clock(8),
        closes=clock(20),
        tz=pack.forum.tz,
    )
    sweep_s, conflicts = timed(lambda: domain.find_conflicts(sessions, venue), args.repeat)
    overlap_s, _ = timed(
        lambda: (
            list(domain.overlapping_pairs(sessions, lambda x: [x.room])),
            list(domain.overlapping_pairs(sessions, lambda x: [k for k, _, _ in x.people])),
        ),
        args.repeat,
    )
    pairs_s, pairs = timed(lambda: all_pairs(sessions), max(3, args.repeat // 4))
    same = swept_pairs(conflicts) == pairs  # type: ignore[arg-type]
    by_kind: dict[str, int] = {}
    for c in conflicts:  # type: ignore[union-attr]
        by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
    print(f"sessions: {len(sessions)}  conflicts found: {sum(by_kind.values())} {by_kind}")
    print(
        f"find_conflicts (sort-and-sweep, all five checks): {sweep_s * 1000:8.2f} ms  (median of {args.repeat})"
    )
    print(f"sweep, the two overlap rules only:                {overlap_s * 1000:8.2f} ms")
    print(f"all-pairs baseline, the two overlap rules only:   {pairs_s * 1000:8.2f} ms")
    print(
        f"ratio sweep/all-pairs (same work): {overlap_s / pairs_s:.3f}  "
        f"(all five checks/all-pairs: {sweep_s / pairs_s:.3f})   same overlapping pairs: {same}"
    )
    if not same:
        raise SystemExit("the sweep and the all-pairs baseline disagree")


if __name__ == "__main__":
    main()

"""One replica runs a periodic pass: the lease's holder (shared/leases.py, shared/periodic.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo import AsyncMongoClient

from shared.leases import Lease
from shared.periodic import Periodic
from shared.persistence.mongo import create_mongo_client


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_one_holder_at_a_time_until_it_lapses_or_gives_the_lease_back(
    mongo_url: str,
) -> None:
    client: AsyncMongoClient = create_mongo_client(mongo_url)
    collection = client[f"leases_{uuid.uuid4().hex[:8]}"]["leases"]
    clock = Clock()
    first, second = (
        Lease(collection, "reconciler", ttl=15, holder=name, clock=clock) for name in ("a", "b")
    )
    try:
        assert await first.hold()
        assert not await second.hold()
        renewed = (await collection.find_one({"_id": "reconciler"}) or {})["renewed_at"]
        clock.now += timedelta(seconds=5)  # within half the ttl: nobody asks the database
        assert await first.hold()
        assert not await second.hold()
        assert (await collection.find_one({"_id": "reconciler"}) or {})["renewed_at"] == renewed
        clock.now += timedelta(seconds=5)
        assert await first.hold()  # renewed: lasts 15 s from now
        clock.now += timedelta(seconds=14)
        assert not await second.hold()  # it asks (half a ttl since it last did): still held
        clock.now += timedelta(seconds=2)  # the holder missed its renewal: the lease lapsed...
        assert not await second.hold()  # ...but the other asks again half a ttl after its last
        clock.now += timedelta(seconds=6)
        assert await second.hold()
        assert not await first.hold()
        await second.release()  # a graceful stop: the other takes it when it next asks
        clock.now += timedelta(seconds=7.5)
        assert await first.hold()
        # Another pass's lease is its own.
        assert await Lease(collection, "scheduler", ttl=15, holder="b", clock=clock).hold()
    finally:
        await client.drop_database(collection.database.name)
        await client.close()


class Counting(Periodic):
    """A pass that counts its runs and lets a test await "after n passes asked for the lease"."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__(0.01)
        self.passes = 0
        self.asked = asyncio.Condition()

    async def tick(self) -> None:
        self.passes += 1

    def watch(self, lease: Lease) -> None:
        hold = lease.hold

        async def holding() -> bool:
            held = await hold()
            async with self.asked:
                self.asked.notify_all()
            return held

        lease.hold = holding  # type: ignore[method-assign]
        self.lease = lease

    async def until(self, reached: Callable[[], bool]) -> None:
        async with asyncio.timeout(10), self.asked:
            await self.asked.wait_for(reached)


async def test_of_two_replicas_only_the_holder_runs_the_pass_and_the_other_takes_over_when_it_stops(
    mongo_url: str,
) -> None:
    client: AsyncMongoClient = create_mongo_client(mongo_url)
    database = client[f"leases_{uuid.uuid4().hex[:8]}"]
    replicas = [Counting(), Counting()]
    for port, replica in zip((8001, 9001), replicas, strict=True):
        # A short grace: the replica refused asks again after half the lease's ttl.
        replica.watch(
            Lease.for_pass(database, replica.name, replica.interval, port=port, grace=0.5)
        )
    try:
        first, second = replicas
        await first.start()
        await first.until(lambda: first.passes >= 3)
        await second.start()
        await second.until(lambda: second.skipped >= 5)
        assert second.passes == 0

        await first.stop()  # gives the lease back
        await second.until(lambda: second.passes >= 3)
    finally:
        for replica in replicas:
            await replica.stop()
        await client.drop_database(database.name)
        await client.close()

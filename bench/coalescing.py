"""Does coalescing concurrent database work pay? Individual commands against grouped ones.

    .venv/bin/python bench/coalescing.py [--mongo-url URL] [--ops 2000] [--concurrency 1,8,32,128]
        [--stored 10000] [--runs 3]

C workers run at once (C = 1, 8, 32, 128 in flight), each sending its share of `--ops` requests
one after the other, in two ways:
- individual: each request is its own command;
- grouped: a tiny group commit. Requests queue up; a single flushing task sends whatever has
  accumulated as ONE command, and while that command is in flight the next requests queue for
  the following one. Each request waits for the flush that carried it, as a handler would.
The requests:
1. insert: `insert_one(doc)` | one `insert_many(docs, ordered=False)` per flush;
2. update by _id: `update_one({_id}, u)` | one `bulk_write([UpdateOne, ...], ordered=False)`;
   `u` is shaped like an `AggregateStore.apply` write: `$set` updated_at and `outbox_pending`
   (an indexed field, flipped each time so its index is maintained), `$inc` version, `$push`
   a cause id to `processed` (`$slice` -200); each request picks a random stored participant;
3. find by _id: `find_one({_id})` | one `find({_id: {$in: [...]}})` per flush, answers handed
   back by _id.
The collection is `participants` with registration's indexes (`ParticipantRepository.
ensure_indexes`), holding `--stored` participants shaped as in bench/registration_hop.py; inserts
add new ones with distinct e-mails. The client is the services' own (`create_mongo_client`:
journal=True) on a URL with `directConnection=true&retryWrites=false`.

Prints, per operation and C, the median ops/s of `--runs` runs each way, the mean number of
requests per grouped command, and the ratio grouped/individual. Without `--mongo-url` it starts
an embedded SecantusDB (as the tests do); with one, it uses a throw-away database on that server
and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from registration_hop import PRELOAD_BATCH, preload_plan, preloaded_participant

from services.registration.repository import ParticipantRepository
from shared.persistence.mongo import create_mongo_client
from tests.support.servers import embedded_mongo

Flush = Callable[[list[Any]], Awaitable[list[Any]]]


class GroupCommit:
    """Requests queue up; one task flushes all that accumulated as one command, then the next."""

    def __init__(self, flush: Flush) -> None:
        self._flush = flush
        self._pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0
        self.requests = 0

    async def __aenter__(self) -> GroupCommit:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def submit(self, request: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            self.flushes += 1
            self.requests += len(batch)
            try:
                answers = await self._flush([request for request, _ in batch])
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)


# --- the three operations, each way -----------------------------------------------------------


class Operation:
    """One kind of request: `individual` sends it alone, `flush` sends a batch of them."""

    name = ""

    def __init__(self, collection: AsyncCollection, ids: list[str]) -> None:
        self.collection = collection
        self.ids = ids

    def request(self) -> Any:
        raise NotImplementedError

    async def individual(self, request: Any) -> Any:
        raise NotImplementedError

    async def flush(self, requests: list[Any]) -> list[Any]:
        raise NotImplementedError


class Insert(Operation):
    name = "insert"
    _next = 10_000_000  # beyond any preloaded participant's number: distinct e-mails

    def request(self) -> dict[str, Any]:
        Insert._next += 1
        return preloaded_participant(Insert._next, "business_association", datetime.now(UTC))

    async def individual(self, request: dict[str, Any]) -> Any:
        return (await self.collection.insert_one(request)).inserted_id

    async def flush(self, requests: list[dict[str, Any]]) -> list[Any]:
        await self.collection.insert_many(requests, ordered=False)
        return [document["_id"] for document in requests]


class Update(Operation):
    name = "update by _id"
    _flip = False

    def request(self) -> tuple[dict[str, Any], dict[str, Any]]:
        Update._flip = not Update._flip
        return {"_id": random.choice(self.ids)}, {
            "$set": {"updated_at": datetime.now(UTC), "outbox_pending": Update._flip},
            "$inc": {"version": 1},
            "$push": {"processed": {"$each": [str(uuid.uuid4())], "$slice": -200}},
        }

    async def individual(self, request: tuple[dict[str, Any], dict[str, Any]]) -> int:
        return (await self.collection.update_one(*request)).matched_count

    async def flush(self, requests: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[int]:
        await self.collection.bulk_write(
            [UpdateOne(query, update) for query, update in requests], ordered=False
        )
        return [1] * len(requests)


class Find(Operation):
    name = "find by _id"

    def request(self) -> str:
        return random.choice(self.ids)

    async def individual(self, request: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": request})

    async def flush(self, requests: list[str]) -> list[dict[str, Any] | None]:
        found = {
            document["_id"]: document
            async for document in self.collection.find({"_id": {"$in": list(set(requests))}})
        }
        return [found.get(request) for request in requests]


# --- measuring --------------------------------------------------------------------------------


async def measure(
    operation: Operation, concurrency: int, ops: int, grouped: bool
) -> tuple[float, float]:
    """ops/s with `concurrency` workers; and requests per command (1 when individual)."""
    share = [ops // concurrency + (1 if i < ops % concurrency else 0) for i in range(concurrency)]
    requests = [[operation.request() for _ in range(n)] for n in share]
    if not grouped:

        async def worker(mine: list[Any]) -> None:
            for request in mine:
                await operation.individual(request)

        started = time.perf_counter()
        await asyncio.gather(*(worker(mine) for mine in requests))
        return ops / (time.perf_counter() - started), 1.0
    async with GroupCommit(operation.flush) as group:

        async def grouped_worker(mine: list[Any]) -> None:
            for request in mine:
                await group.submit(request)

        started = time.perf_counter()
        await asyncio.gather(*(grouped_worker(mine) for mine in requests))
        elapsed = time.perf_counter() - started
    return ops / elapsed, group.requests / max(group.flushes, 1)


def with_direct_connection(url: str) -> str:
    """`url` with directConnection=true&retryWrites=false unless it says otherwise."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    lower = {key.lower() for key in query}
    for key, value in (("directConnection", "true"), ("retryWrites", "false")):
        if key.lower() not in lower:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with embedded_mongo() as embedded:
            yield embedded


async def main(url: str | None, ops: int, levels: list[int], stored: int, runs: int) -> None:
    with server(url) as mongo_url:
        client = create_mongo_client(with_direct_connection(mongo_url), app_name="foro-bench")
        database = client[f"bench_coalescing_{uuid.uuid4().hex[:6]}"]
        collection = database["participants"]
        await ParticipantRepository(database).ensure_indexes()
        started = time.perf_counter()
        plan = preload_plan(stored)
        now = datetime.now(UTC)
        ids: list[str] = []
        for start in range(0, stored, PRELOAD_BATCH):
            batch = [
                preloaded_participant(i, plan[i], now)
                for i in range(start, min(stored, start + PRELOAD_BATCH))
            ]
            await collection.insert_many(batch, ordered=False)
            ids += [document["_id"] for document in batch]
        server_name = "SecantusDB (embedded)" if url is None else urlsplit(mongo_url).netloc
        print(
            f"{server_name} · {stored:,} participants stored ({time.perf_counter() - started:.1f} s)"
            f" · {ops} requests per measurement · median of {runs} runs"
        )
        print(
            f"{'':16}{'C':>5}{'individual':>13}{'grouped':>11}{'req/cmd':>9}{'grouped/indiv':>15}"
        )
        for kind in (Insert, Update, Find):
            operation = kind(collection, ids)
            for concurrency in levels:
                single: list[float] = []
                group: list[float] = []
                per_command: list[float] = []
                for _ in range(runs):  # alternated, so a drift of the machine hits both
                    single.append((await measure(operation, concurrency, ops, False))[0])
                    rate, size = await measure(operation, concurrency, ops, True)
                    group.append(rate)
                    per_command.append(size)
                a, b = statistics.median(single), statistics.median(group)
                print(
                    f"{operation.name:16}{concurrency:>5}{a:>13.0f}{b:>11.0f}"
                    f"{statistics.median(per_command):>9.1f}{'×' + format(b / a, '.2f'):>15}",
                    flush=True,
                )
        await client.drop_database(database.name)
        await client.close()


def levels(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mongo-url", help="a MongoDB server to measure instead of SecantusDB")
    parser.add_argument("--ops", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--concurrency", type=levels, default=[1, 8, 32, 128])
    parser.add_argument("--stored", type=int, default=10_000, help="participants stored first")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.mongo_url,
            arguments.ops,
            arguments.concurrency,
            arguments.stored,
            arguments.runs,
        )
    )

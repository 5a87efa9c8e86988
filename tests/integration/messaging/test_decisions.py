"""`AggregateStore.apply` hands a rule's typed result back, on an insert and on an update."""

from __future__ import annotations

import uuid

from pymongo import AsyncMongoClient

from shared.decisions import Change, Decision
from shared.persistence.aggregates import AggregateStore
from shared.persistence.mongo import create_mongo_client


async def test_apply_returns_the_decisions_result_whether_it_inserts_or_updates(
    mongo_url: str,
) -> None:
    client: AsyncMongoClient = create_mongo_client(mongo_url)
    database = client[f"decisions_{uuid.uuid4().hex[:8]}"]
    store = AggregateStore(database["counters"])

    def bump(document: dict | None) -> Decision[int]:
        value = (document or {}).get("n", 0) + 1
        return Decision(value, Change(set={"n": value}))

    try:
        created = await store.apply("c", "cause-1", bump)
        updated = await store.apply("c", "cause-2", bump)
        again = await store.apply("c", "cause-2", bump)
        assert (created.result, updated.result) == (1, 2)
        assert again.duplicate and again.result is None
        assert (await store.get("c"))["n"] == 2
    finally:
        await client.drop_database(database.name)
        await client.close()

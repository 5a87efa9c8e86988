"""Identity's collections in registration's database: `accounts` (one per staff account, `_id`
the lower-cased username: unique by construction), `api_tokens` (one per machine token, `_id`
its jti) and `oidc_links` (an identity provider's subject linked to an account). All are
`AggregateStore`s, so a revocation is written with its `access.revoked` event in one update and published by registration's outbox relay — also when
the write came from the `foro` command, which runs no relay: the running service's sweep
publishes it.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.persistence.aggregates import AggregateStore, StoreRegistry

INTERNAL_FIELDS = {"processed": 0, "outbox": 0, "outbox_pending": 0, "version": 0}


class IdentityRepository:
    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], *, stores: StoreRegistry | None = None
    ) -> None:
        self.accounts = AggregateStore(database["accounts"], stores=stores)
        self.tokens = AggregateStore(database["api_tokens"], stores=stores)
        # An identity provider's subject → account (`oidc.py`); `_id` `<provider>:<subject>`.
        self.links = AggregateStore(database["oidc_links"], stores=stores)

    async def ensure_indexes(self) -> None:
        await self.accounts.ensure_indexes()
        await self.tokens.ensure_indexes()
        await self.links.ensure_indexes()
        # `GET /auth/tokens`, `foro tokens list`: newest first.
        await self.tokens.collection.create_index([("created_at", DESCENDING)])

    async def account(self, username: str) -> dict[str, Any] | None:
        return await self.accounts.collection.find_one({"_id": username}, INTERNAL_FIELDS)

    async def list_accounts(self, limit: int = 1000) -> list[dict[str, Any]]:
        cursor = self.accounts.collection.find({}, INTERNAL_FIELDS, sort=[("_id", 1)], limit=limit)
        return await cursor.to_list()

    async def token(self, token_id: str) -> dict[str, Any] | None:
        return await self.tokens.collection.find_one({"_id": token_id}, INTERNAL_FIELDS)

    async def list_tokens(self, limit: int = 1000) -> list[dict[str, Any]]:
        cursor = self.tokens.collection.find(
            {}, INTERNAL_FIELDS, sort=[("created_at", DESCENDING)], limit=limit
        )
        return await cursor.to_list()

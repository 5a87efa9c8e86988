"""The MongoDB client factory: PyMongo's AsyncMongoClient, the same code for SecantusDB and mongod."""

from __future__ import annotations

from pymongo import AsyncMongoClient


def create_mongo_client(url: str, *, app_name: str = "foro") -> AsyncMongoClient:
    """A client that connects lazily (nothing happens until the first command)."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        uuidRepresentation="standard",
        appname=app_name,
        serverSelectionTimeoutMS=10_000,
    )


async def ping(client: AsyncMongoClient) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:  # noqa: BLE001 - readiness reports any failure as "not ready"
        return False
    return True

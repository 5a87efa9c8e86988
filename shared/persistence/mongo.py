"""The MongoDB client factory: PyMongo's AsyncMongoClient, the same code for SecantusDB and mongod.

Every wait is bounded: opening a connection (`connect_timeout`), finding a reachable server
(`server_selection_timeout`: an operation fails, instead of queueing forever, while the database
is down) and a reply on an open connection (`socket_timeout`, generous: it only cuts a silent
network, never an ordinary slow query). The client reconnects by itself when the server is back.

Every write waits for the journal (`journal=true`): an acknowledged write survives a crash of the
database process. Without it SecantusDB lost up to every write of the last moments on kill -9
(0 of 200 acknowledged updates survived in one trial; with the journal, 200 of 200, for about
0.2 ms more per write), and mongod with `w:1` alone may lose the last 100 ms. foro's exactly-once
rests on "the consumed event's id is stored with the change": an acknowledged write must stay.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

# The server's answer to an index whose keys exist with other options (an earlier release's).
INDEX_CONFLICTS = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict


def create_mongo_client(
    url: str,
    *,
    app_name: str = "foro",
    connect_timeout: float = 5.0,
    server_selection_timeout: float = 10.0,
    socket_timeout: float = 120.0,
) -> AsyncMongoClient:
    """A client that connects lazily (nothing happens until the first command); times in
    seconds, `socket_timeout=0` for no limit. Options written in `url` win."""
    timeouts: dict[str, Any] = {
        "connectTimeoutMS": int(connect_timeout * 1000),
        "serverSelectionTimeoutMS": int(server_selection_timeout * 1000),
        "socketTimeoutMS": int(socket_timeout * 1000) if socket_timeout else None,
        # An acknowledged write is on disk (see the module's docstring).
        "journal": True,
    }
    in_url = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    if in_url & {"w", "journal", "j"}:
        in_url.add("journal")  # the operator chose a write concern: theirs, whole
    return AsyncMongoClient(
        url,
        tz_aware=True,
        uuidRepresentation="standard",
        appname=app_name,
        # PyMongo lets keywords override the URL; an operator's URL option must win instead.
        **{key: value for key, value in timeouts.items() if key.lower() not in in_url},
    )


async def ping(client: AsyncMongoClient, *, timeout: float = 2.0) -> bool:
    """The database answers within `timeout` seconds (readiness must answer fast when it does not)."""
    try:
        async with asyncio.timeout(timeout):
            await client.admin.command("ping")
    except Exception:
        return False
    return True


async def ensure_index(
    collection: AsyncCollection, keys: list[tuple[str, Any]], **options: Any
) -> str:
    """`create_index`, replacing an index on the same keys created with other options (by an
    earlier release: a key made unique, say), so a database kept across upgrades follows the code.
    The replacement fails, and says why, when existing documents break the new option."""
    try:
        return await collection.create_index(keys, **options)
    except OperationFailure as error:
        if error.code not in INDEX_CONFLICTS:
            raise
    for name, spec in (await collection.index_information()).items():
        if [tuple(key) for key in spec["key"]] == [tuple(key) for key in keys]:
            await collection.drop_index(name)
    return await collection.create_index(keys, **options)


async def drop_indexes(collection: AsyncCollection, names: tuple[str, ...]) -> None:
    """Drop those of the named indexes that exist (retired ones: each costs every write)."""
    existing = set(await collection.index_information())
    for name in names:
        if name in existing:
            await collection.drop_index(name)

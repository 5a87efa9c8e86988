"""An acknowledged write survives a kill -9 of the database: the client writes with the journal.

Exactly-once rests on the consumed event's id being stored with the change; a write the
database acknowledged and then forgot would let a redelivered event apply twice (the fault
suite saw an e-mail recorded as sent come back as "sending" after a database restart)."""

from __future__ import annotations

import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from shared.persistence.mongo import create_mongo_client
from tests.support.servers import free_port, mongo_url_for, secantusd_args, wait_for_mongo


def start(storage: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        secantusd_args(port, storage), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_mongo(mongo_url_for(port))
    return process


async def test_every_acknowledged_write_survives_a_kill_of_the_database() -> None:
    storage, port = Path(tempfile.mkdtemp(prefix="foro-durable-")), free_port()
    process = start(storage, port)
    try:
        client = create_mongo_client(mongo_url_for(port))
        collection = client["durable"]["writes"]
        for n in range(100):
            await collection.update_one({"_id": n}, {"$set": {"n": n}}, upsert=True)
        process.send_signal(signal.SIGKILL)
        process.wait(15)
        await client.close()

        process = start(storage, port)
        client = create_mongo_client(mongo_url_for(port))
        assert await client["durable"]["writes"].count_documents({}) == 100
        await client.close()
    finally:
        process.kill()
        process.wait(15)


def test_an_operators_write_concern_in_the_url_wins() -> None:
    client = create_mongo_client("mongodb://127.0.0.1:1/?directConnection=true&w=majority")
    assert client.write_concern.document == {"w": "majority"}
    assert create_mongo_client("mongodb://127.0.0.1:1/").write_concern.document == {"j": True}


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

"""`foro backup create` then `foro backup restore`: the restored server holds what was written,
in every database, as of the backup (and nothing written after it)."""

from __future__ import annotations

from pathlib import Path

from pymongo import MongoClient
from typer.testing import CliRunner

from shared.cli.app import app
from tests.support.servers import embedded_mongo


def test_a_backup_restores_every_database_as_of_its_moment(tmp_path: Path) -> None:
    runner = CliRunner()
    archive = tmp_path / "foro.tar.gz"
    with embedded_mongo(tmp_path / "live") as url:
        with MongoClient(url) as client:
            client.registration.participants.insert_one({"_id": "p1"})
            client.reporting.statistics.insert_one({"_id": "s1"})
            created = runner.invoke(
                app, ["backup", "create", "--output", str(archive), "--mongo-url", url]
            )
            assert created.exit_code == 0, created.output
            client.registration.participants.insert_one({"_id": "after-the-backup"})

    again = runner.invoke(app, ["backup", "create", "--output", str(archive), "--mongo-url", url])
    assert again.exit_code == 1 and "exists" in again.output

    restored = runner.invoke(
        app, ["backup", "restore", "--archive", str(archive), "--storage-path", str(tmp_path / "r")]
    )
    assert restored.exit_code == 0, restored.output
    with embedded_mongo(tmp_path / "r") as url, MongoClient(url) as client:
        assert [d["_id"] for d in client.registration.participants.find()] == ["p1"]
        assert client.reporting.statistics.count_documents({}) == 1

    refused = runner.invoke(
        app, ["backup", "restore", "--archive", str(archive), "--storage-path", str(tmp_path / "r")]
    )
    assert refused.exit_code == 1 and "not empty" in refused.output

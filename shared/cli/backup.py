"""`foro backup`: a consistent copy of every service's database, and putting one back.

One SecantusDB server holds the five services' databases, so one archive of it is one consistent
point in time for all of them: `secantusAdmin.backupArchive` forces a WiredTiger checkpoint and
tars the storage directory, while the server keeps serving. The archive is written by the server,
on the server's machine. A real MongoDB is backed up with `mongodump --archive --gzip` (from the
MongoDB Database Tools, when on PATH) or with the operator's own backups; see docs/operations.md.

Restoring a SecantusDB archive needs the server stopped: the archive is unpacked into a new
storage directory (`secantus-restore-archive`), and the server started on it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from rich.console import Console

DEFAULT_MONGO_URL = "mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false"
BACKUP_COMMAND = "secantusAdmin.backupArchive"

app = typer.Typer(
    help="Back up every service's database in one consistent archive, and restore one.",
    no_args_is_help=True,
)
console = Console(stderr=True)

MongoUrl = Annotated[
    str,
    typer.Option(
        "--mongo-url",
        envvar="FORO_MONGO_URL",
        help="The database server (env FORO_MONGO_URL).",
        show_default=False,
    ),
]


def _default_archive() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(".foro/backups") / f"foro-{stamp}.tar.gz"


def _server_kind(client: MongoClient[dict[str, Any]]) -> str:
    """`secantusdb` or `mongodb`: SecantusDB names itself in `buildInfo`."""
    return "secantusdb" if "secantusVersion" in client.admin.command("buildInfo") else "mongodb"


@app.command()
def create(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Archive to write (.tar.gz); default .foro/backups/foro-<UTC time>.tar.gz.",
        ),
    ] = None,
    mongo_url: MongoUrl = DEFAULT_MONGO_URL,
) -> None:
    """Write one archive holding every database of the server, at one point in time."""
    archive = (output or _default_archive()).resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    if archive.exists():
        console.print(f"[red]{archive} exists; choose another --output[/red]")
        raise typer.Exit(1)
    try:
        client: MongoClient[dict[str, Any]]
        with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as client:
            kind = _server_kind(client)
            if kind == "secantusdb":
                reply = client.admin.command(BACKUP_COMMAND, outputPath=str(archive))
                size = int(reply.get("sizeBytes", 0))
                console.print(
                    f"[green]backup written[/green] {archive} ({size:,} bytes, SecantusDB)"
                )
                return
    except PyMongoError as error:
        console.print(f"[red]database: {type(error).__name__}: {error}[/red]")
        raise typer.Exit(1) from error
    mongodump = shutil.which("mongodump")
    if mongodump is None:
        console.print(
            "[red]a MongoDB server: install the MongoDB Database Tools (mongodump) or use the "
            "operator's backups (docs/operations.md#back-up-and-restore)[/red]"
        )
        raise typer.Exit(1)
    done = subprocess.run(
        [mongodump, f"--uri={mongo_url}", f"--archive={archive}", "--gzip"], check=False
    )
    if done.returncode != 0:
        raise typer.Exit(done.returncode)
    console.print(f"[green]backup written[/green] {archive} (mongodump)")


@app.command()
def restore(
    archive: Annotated[
        Path, typer.Option("--archive", help="An archive written by `foro backup create`.")
    ],
    storage_path: Annotated[
        Path,
        typer.Option(
            "--storage-path",
            help="SecantusDB: a new, empty storage directory to unpack into; start the server "
            "on it afterwards (`secantusd-py --storage-path …`).",
        ),
    ],
) -> None:
    """Unpack a SecantusDB archive into a new storage directory (the server stays stopped)."""
    if not archive.is_file():
        console.print(f"[red]--archive: {archive} is not a file[/red]")
        raise typer.Exit(1)
    if storage_path.exists() and any(storage_path.iterdir()):
        console.print(f"[red]--storage-path: {storage_path} is not empty[/red]")
        raise typer.Exit(1)
    tool = Path(sys.executable).with_name("secantus-restore-archive")
    command = str(tool) if tool.exists() else shutil.which("secantus-restore-archive")
    if command is None:
        console.print("[red]secantus-restore-archive not found: pip install secantusdb[/red]")
        raise typer.Exit(1)
    done = subprocess.run(
        [command, "--archive", str(archive), "--target-dir", str(storage_path)], check=False
    )
    if done.returncode != 0:
        raise typer.Exit(done.returncode)
    console.print(f"[green]restored[/green] into {storage_path}")

"""Write the Memoria (and optionally the base document) into a directory.

    foro memoria --out build/memoria [--lang es --lang en] [--final] [--base-document]

    foro memoria --url http://127.0.0.1:8005 --token $FORO_API_TOKEN --out DIR

(the command is shared/cli/reporting.py). For the local launcher: `fetch_memoria(url, token, directory)` asks a running reporting service over
HTTP (what `up.sh` does after the sample run); `await write_memoria(deps, directory)` works on a
service's `app.state.deps`; `await write_memoria_with(settings, directory)` on its own Mongo connection.
Each version is stored in reporting's database with its content hash and announced with
`report.generated` (the service's outbox relay publishes it). Each function takes an optional
`progress(step, done, total)`: called before each document with what is being made, and once at
the end with step "done".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from services.reporting.bootstrap import build_deps
from services.reporting.deps import Reporting
from services.reporting.publishing.handlers import generate_document, report_content, write_files
from services.reporting.settings import ReportingSettings
from shared.persistence.mongo import create_mongo_client

ProgressCallback = Callable[[str, int, int], None]
"""`(step, documents done, documents in all)`."""


async def write_memoria(
    deps: Reporting,
    directory: Path,
    languages: Sequence[str] = ("es", "en"),
    *,
    final: bool = False,
    base_document: bool = False,
    progress: ProgressCallback | None = None,
) -> dict[str, dict[str, Path]]:
    """Generate, store and write `<report_id>.html|.pdf` per language; returns {report_id: {fmt: path}}."""
    written: dict[str, dict[str, Path]] = {}
    kinds = ["memoria", *(["base_document"] if base_document else [])]
    total = len(kinds) * len(languages)
    for kind in kinds:
        for language in languages:
            if progress is not None:
                progress(f"{kind} ({language})", len(written), total)
            report = await generate_document(deps, kind, language, final=final)
            contents = {}
            for fmt in ("html", "pdf"):
                found = await report_content(deps, report["_id"], fmt)
                assert found is not None  # just stored
                contents[fmt] = found[0]
            written[report["_id"]] = write_files(Path(directory), report["_id"], contents)
    if progress is not None:
        progress("done", total, total)
    return written


async def write_memoria_with(
    settings: ReportingSettings,
    directory: Path,
    languages: Sequence[str] = ("es", "en"),
    *,
    final: bool = False,
    base_document: bool = False,
    progress: ProgressCallback | None = None,
) -> dict[str, dict[str, Path]]:
    mongo = create_mongo_client(
        settings.mongo_url.get_secret_value(), app_name="foro-reporting-memoria"
    )
    try:
        deps = build_deps(settings, mongo)
        await deps.repository.ensure_indexes()
        return await write_memoria(
            deps,
            directory,
            languages,
            final=final,
            base_document=base_document,
            progress=progress,
        )
    finally:
        await mongo.close()


def fetch_memoria(
    url: str,
    token: str,
    directory: Path,
    languages: Sequence[str] = ("es", "en"),
    *,
    wait_for_participants: int = 0,
    timeout: float = 30.0,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Ask a running reporting service for the Memoria in each language; write and return the files.

    `wait_for_participants`: first wait (up to `timeout` s) until the statistics count that many
    registered participants, so a Memoria asked for right after a sample run includes it."""
    directory = Path(directory)
    written: list[Path] = []
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        deadline = time.monotonic() + timeout
        while wait_for_participants and time.monotonic() < deadline:
            registered = (
                client.get("/statistics").raise_for_status().json()["participants"]["registered"]
            )
            if registered >= wait_for_participants:
                break
            time.sleep(0.25)
        for done, language in enumerate(languages):
            if progress is not None:
                progress(f"memoria ({language})", done, len(languages))
            report = client.post("/memoria", params={"lang": language}).raise_for_status().json()
            for entry in report["files"]:
                content = client.get(entry["url"]).raise_for_status().content
                written.extend(
                    write_files(directory, report["report_id"], {entry["format"]: content}).values()
                )
    if progress is not None:
        progress("done", len(languages), len(languages))
    return written

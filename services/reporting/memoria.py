"""Write the Memoria (and optionally the base document) into a directory.

    python -m services.reporting.memoria --out build/memoria [--lang es --lang en] [--final] [--base-document]

    python -m services.reporting.memoria --url http://127.0.0.1:8005 --token $FORO_API_TOKEN --out DIR

For the local launcher: `fetch_memoria(url, token, directory)` asks a running reporting service over
HTTP (what `up.sh` does after the sample run); `await write_memoria(deps, directory)` works on a
service's `app.state.deps`; `await write_memoria_with(settings, directory)` on its own Mongo connection.
Each version is stored in reporting's database with its content hash and announced with
`report.generated` (the service's outbox relay publishes it).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from services.reporting.bootstrap import build_deps
from services.reporting.deps import Reporting
from services.reporting.publishing.handlers import generate_document, report_content, write_files
from services.reporting.settings import ReportingSettings
from shared.logging import configure_logging
from shared.persistence.mongo import create_mongo_client


async def write_memoria(
    deps: Reporting,
    directory: Path,
    languages: Sequence[str] = ("es", "en"),
    *,
    final: bool = False,
    base_document: bool = False,
) -> dict[str, dict[str, Path]]:
    """Generate, store and write `<report_id>.html|.pdf` per language; returns {report_id: {fmt: path}}."""
    written: dict[str, dict[str, Path]] = {}
    kinds = ["memoria", *(["base_document"] if base_document else [])]
    for kind in kinds:
        for language in languages:
            report = await generate_document(deps, kind, language, final=final)
            contents = {}
            for fmt in ("html", "pdf"):
                found = await report_content(deps, report["_id"], fmt)
                assert found is not None  # just stored
                contents[fmt] = found[0]
            written[report["_id"]] = write_files(Path(directory), report["_id"], contents)
    return written


async def write_memoria_with(
    settings: ReportingSettings,
    directory: Path,
    languages: Sequence[str] = ("es", "en"),
    **options: bool,
) -> dict[str, dict[str, Path]]:
    mongo = create_mongo_client(
        settings.mongo_url.get_secret_value(), app_name="foro-reporting-memoria"
    )
    try:
        deps = build_deps(settings, mongo)
        await deps.repository.ensure_indexes()
        return await write_memoria(deps, directory, languages, **options)
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
        for language in languages:
            report = client.post("/memoria", params={"lang": language}).raise_for_status().json()
            for entry in report["files"]:
                content = client.get(entry["url"]).raise_for_status().content
                written.extend(
                    write_files(directory, report["report_id"], {entry["format"]: content}).values()
                )
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Write the Memoria (HTML and PDF) into a directory."
    )
    parser.add_argument("--out", type=Path, default=Path("build/memoria"))
    parser.add_argument(
        "--lang",
        action="append",
        choices=["es", "en"],
        help="Repeat for several (default: es and en).",
    )
    parser.add_argument("--final", action="store_true", help="The published, end-of-forum version.")
    parser.add_argument(
        "--base-document", action="store_true", help="Also write the base document."
    )
    parser.add_argument("--url", help="Ask this running reporting service instead of its database.")
    parser.add_argument("--token", help="Secretariat token for --url.")
    args = parser.parse_args()
    if args.url:
        for path in fetch_memoria(args.url, args.token or "", args.out, args.lang or ["es", "en"]):
            print(path)
        return
    settings = ReportingSettings()
    configure_logging("reporting-memoria", settings.log_level, settings.log_format)
    written = asyncio.run(
        write_memoria_with(
            settings,
            args.out,
            args.lang or ["es", "en"],
            final=args.final,
            base_document=args.base_document,
        )
    )
    for paths in written.values():
        for path in paths.values():
            print(path)


if __name__ == "__main__":
    main()

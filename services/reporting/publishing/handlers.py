"""Publishing's use cases: the Memoria and the base document, generated, stored and announced.

Each version is rendered in HTML and PDF, both stored by content hash (`report_files`), recorded
in `reports` and announced with `report.generated`; the same data at the same time gives the
same hash. Rendering runs in a worker thread, so the service keeps consuming meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from services.reporting.budget.handlers import budget_execution
from services.reporting.common import PRODUCER
from services.reporting.deps import Reporting, on_report
from services.reporting.documents import ReportRecord
from services.reporting.projections.statistics import statistics
from services.reporting.publishing.base_document import build_base_document
from services.reporting.publishing.content import build_memoria
from services.reporting.publishing.render import html_to_pdf, render_html
from services.reporting.repository import public_list
from shared.contracts.envelope import derive_id
from shared.contracts.reporting import ReportGenerated
from shared.decisions import Change
from shared.pack import EventPack

log = structlog.get_logger("foro.reporting")


async def memoria_inputs(deps: Reporting) -> dict[str, Any]:
    """What the Memoria is made of. One read of the participants serves both the statistics and
    the published list; the reads go out together."""
    repo, forum = deps.repository, deps.forum_id
    participants, entities, counts, conclusions, items, budget = await asyncio.gather(
        repo.participant_states(forum),
        repo.entity_states(forum),
        repo.event_counts(),
        repo.list_conclusions(forum, "approved"),
        repo.list_action_items(forum),
        budget_execution(deps),
    )
    return {
        "statistics": statistics(deps.pack, participants, entities, counts),
        "conclusions": conclusions,
        "action_items": items,
        "budget": budget,
        "participants": public_list(participants),
    }


def render(document: dict[str, Any]) -> tuple[bytes, bytes]:
    """The HTML, and the PDF printed from that very HTML (charts drawn once for both)."""
    html = render_html(document)
    return html.encode(), html_to_pdf(html)


async def generate_document(
    deps: Reporting, kind: str, language: str, *, final: bool = False
) -> dict[str, Any]:
    """Render a version of the Memoria or the base document in HTML and PDF, store both by content
    hash, record the version and announce it with `report.generated`. Returns the report record."""
    now = deps.clock()
    if kind == "memoria":
        inputs = await memoria_inputs(deps)
        document = build_memoria(deps.pack, language, inputs, now, today=deps.today())
    else:
        document = build_base_document(deps.pack, language, now)
    html, pdf = await asyncio.to_thread(render, document)
    contents = (
        ("html", html, "text/html; charset=utf-8"),
        ("pdf", pdf, "application/pdf"),
    )
    digests = [hashlib.sha256(content).hexdigest() for _, content, _ in contents]
    await asyncio.gather(
        *(
            deps.repository.store_file(digest, content, media_type)
            for digest, (_, content, media_type) in zip(digests, contents, strict=True)
        )
    )
    files: list[dict[str, Any]] = [
        {"format": fmt, "sha256": digest, "size": len(content)}
        for digest, (fmt, content, _) in zip(digests, contents, strict=True)
    ]
    version = hashlib.sha256("".join(digests).encode()).hexdigest()[:12]
    report_id = f"{kind}-{language}-{version}"
    event = ReportGenerated.model_validate(
        {
            "event_id": derive_id(deps.forum_id, "report", report_id, final),
            "producer": PRODUCER,
            "forum_id": deps.forum_id,
            "report_id": report_id,
            "kind": kind,
            "language": language,
            "files": files,
            "final": final,
        }
    )
    record = {
        "forum_id": deps.forum_id,
        "kind": kind,
        "language": language,
        "files": files,
        "final": final,
        "generated_at": now,
    }

    def decide(stored: ReportRecord | None) -> Change | None:
        if stored is not None and (stored.final or not final):
            return None  # identical content already recorded and announced
        return Change(set=record, events=[event])

    await deps.repository.reports.apply(report_id, None, on_report(decide))
    if deps.output_dir is not None:
        write_files(deps.output_dir, report_id, {"html": html, "pdf": pdf})
    log.info("document generated", report_id=report_id, kind=kind, language=language)
    return {"_id": report_id, **record}


def forum_ends_at(pack: EventPack) -> datetime:
    """When the last programme item of the last day ends, on the venue's clock."""
    last_day = pack.forum.days - 1
    items = [item for item in pack.programme.items if item.day == last_day] or list(
        pack.programme.items
    )
    return max(pack.item_datetimes(item)[1] for item in items)


async def generate_final_if_due(deps: Reporting) -> list[str]:
    """At the end of the forum, the final Memoria in every language of the forum — once each."""
    if deps.clock() < forum_ends_at(deps.pack) or not await deps.repository.has_events():
        return []  # not over yet, or a deployment that never saw the forum (its dates long past)
    made = []
    for language in deps.pack.forum.languages:
        if not await deps.repository.has_final(deps.forum_id, "memoria", language):
            made.append((await generate_document(deps, "memoria", language, final=True))["_id"])
    return made


def write_files(directory: Path, report_id: str, contents: dict[str, bytes]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, content in contents.items():
        path = directory / f"{report_id}.{fmt}"
        path.write_bytes(content)
        paths[fmt] = path
    return paths


async def report_content(deps: Reporting, report_id: str, fmt: str) -> tuple[bytes, str] | None:
    report = await deps.repository.get_report(report_id)
    if report is None:
        return None
    for entry in report["files"]:
        if entry["format"] == fmt:
            stored = await deps.repository.file(entry["sha256"])
            if stored is not None:
                return bytes(stored["content"]), stored["media_type"]
    return None

"""Reporting's use cases: fold events, keep conclusions, the action plan and the budget, generate documents.

Every write goes through `AggregateStore.apply` with the cause's id, so a redelivered event or a
retried request changes nothing; events reporting publishes leave through the outbox.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from services.reporting import domain, projections
from services.reporting.documents import build_base_document, build_memoria
from services.reporting.render import render_html, render_pdf
from services.reporting.repository import ReportingRepository, public_list
from services.reporting.statistics import statistics
from shared.contracts.envelope import derive_id
from shared.contracts.reporting import ReportGenerated
from shared.messaging.consumer import InvalidMessage
from shared.pack import EventPack

log = structlog.get_logger("foro.reporting")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Reporting:
    """Everything reporting's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ReportingRepository
    clock: Callable[[], datetime] = utc_now
    output_dir: Path | None = None

    @property
    def forum_id(self) -> str:
        return self.pack.forum.id

    def today(self) -> date:
        """Today on the forum's calendar (deadlines are local dates)."""
        return self.clock().astimezone(self.pack.forum.tz).date()


# --- projections -------------------------------------------------------------------------------


async def project_event(body: dict[str, Any], deps: Reporting) -> str:
    """Fold any domain event into the projections; returns its type. Idempotent per event id.

    What an event is comes from its envelope's `event_type`, never from how it was routed: a
    retried message comes back with its queue's name as routing key, a replay from the stream
    with the original one, and both are folded exactly as the first delivery."""
    try:
        event = projections.EventView.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage(
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in error.errors(include_input=False)
            )
        ) from None
    cause = str(event.event_id)
    try:
        for target in projections.targets(event):
            store = deps.repository.projection(target.collection)
            if target.collection == "participants":
                await store.apply(
                    target.doc_id,
                    cause,
                    lambda doc: projections.fold_participant(doc, event, deps.forum_id),
                )
            else:
                await store.apply(
                    target.doc_id,
                    cause,
                    lambda doc, t=target: projections.fold_entity(doc, event, t, deps.forum_id),
                )
    except ValidationError as error:
        raise InvalidMessage(
            f"participant: {error.errors(include_input=False)[0]['msg']}"
        ) from None
    if entry := projections.budget_entry_from(event):
        await _apply_budget_entry(deps, entry)
    # Last, so a crash before it leaves the event to be redelivered and counted then.
    await deps.repository.record_event(
        cause, event.event_type, event.occurred_at, event.payload.get("forum_id")
    )
    return event.event_type


async def current_statistics(deps: Reporting) -> dict[str, Any]:
    repo = deps.repository
    participants = await repo.participant_states(deps.forum_id)
    entities = await repo.entity_states(deps.forum_id)
    return statistics(deps.pack, participants, entities, await repo.event_counts())


# --- conclusions -------------------------------------------------------------------------------


async def draft_conclusion(
    deps: Reporting,
    session_code: str,
    texts: dict[str, dict[str, str]],
    rapporteur: str | None,
    conclusion_id: str | None = None,
) -> dict[str, Any]:
    if deps.pack.programme.item(session_code) is None:
        raise domain.RuleViolation(f"session_code: {session_code!r} is not in the programme")
    conclusion_id = conclusion_id or str(uuid.uuid4())
    now = deps.clock()
    applied = await deps.repository.conclusions.apply(
        conclusion_id,
        None,
        lambda doc: domain.draft_conclusion(
            doc, conclusion_id, deps.forum_id, session_code, texts, rapporteur, now
        ),
    )
    return applied.document


async def move_conclusion(
    deps: Reporting, conclusion_id: str, action: str, actor: str | None = None
) -> dict[str, Any]:
    now = deps.clock()
    decide = {
        "submit": lambda doc: domain.submit_conclusion(doc, now),
        "approve": lambda doc: domain.approve_conclusion(doc, actor, now),
        "return": lambda doc: domain.return_conclusion(doc, now),
    }[action]
    applied = await deps.repository.conclusions.apply(conclusion_id, None, decide)
    return applied.document


# --- action plan -------------------------------------------------------------------------------


async def create_action_item(
    deps: Reporting, item: dict[str, Any], item_id: str | None = None
) -> dict[str, Any]:
    item_id = item_id or str(uuid.uuid4())
    known = {c["_id"] for c in await deps.repository.list_conclusions(deps.forum_id)}
    if missing := [c for c in item.get("conclusion_ids", []) if c not in known]:
        raise domain.RuleViolation(f"conclusion_ids: unknown conclusions {missing}")
    now = deps.clock()
    fields = {**item, "_id": item_id, "forum_id": deps.forum_id}
    applied = await deps.repository.action_items.apply(
        item_id, None, lambda doc: domain.create_action_item(doc, fields, now)
    )
    return applied.document


async def update_action_item(
    deps: Reporting, item_id: str, change: domain.ItemUpdate
) -> dict[str, Any]:
    now, today = deps.clock(), deps.today()
    applied = await deps.repository.action_items.apply(
        item_id, None, lambda doc: domain.update_action_item(doc, change, now, today)
    )
    return applied.document


async def check_follow_ups(deps: Reporting) -> int:
    """Flag overdue items and remind owners (once per item and deadline); returns reminders made."""
    today, now = deps.today(), deps.clock()
    reminders = 0
    for item_id in await deps.repository.open_action_item_ids(deps.forum_id, today.isoformat()):
        applied = await deps.repository.action_items.apply(
            item_id, None, lambda doc: domain.follow_up(doc, today, now)
        )
        reminders += len(applied.events)
    if reminders:
        log.info("action items followed up", reminders=reminders)
    return reminders


# --- budget ------------------------------------------------------------------------------------


def _planned(deps: Reporting, line: str) -> int:
    for planned in deps.pack.budget.lines:
        if planned.code == line:
            return int(planned.amount * 100)
    raise domain.RuleViolation(f"line: {line!r} is not a budget line of this forum")


async def _apply_budget_entry(deps: Reporting, entry: projections.BudgetEntry) -> None:
    try:
        planned = _planned(deps, entry.line)
    except domain.RuleViolation as refused:
        raise InvalidMessage(str(refused)) from None
    await deps.repository.budget.apply(
        f"{deps.forum_id}:{entry.line}",
        None,
        lambda doc: domain.record_budget_entry(
            doc,
            forum_id=deps.forum_id,
            line=entry.line,
            planned_cents=planned,
            currency=deps.pack.budget.currency,
            entry_id=entry.entry_id,
            kind=entry.kind,
            amount_cents=entry.amount_cents,
            description=entry.description,
            as_of=entry.as_of,
            source=entry.source,
        ),
    )


async def record_budget_entry(
    deps: Reporting,
    line: str,
    kind: str,
    amount_cents: int,
    description: str,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """The secretariat records a commitment or an expense; the same `entry_id` again changes nothing."""
    planned = _planned(deps, line)
    entry_id = projections.safe(f"manual-{entry_id or uuid.uuid4()}")
    stamp = projections.now_stamp(deps.clock())
    applied = await deps.repository.budget.apply(
        f"{deps.forum_id}:{line}",
        f"entry:{entry_id}",
        lambda doc: domain.record_budget_entry(
            doc,
            forum_id=deps.forum_id,
            line=line,
            planned_cents=planned,
            currency=deps.pack.budget.currency,
            entry_id=entry_id,
            kind=kind,
            amount_cents=amount_cents,
            description=description,
            as_of=stamp,
            source="secretariat",
        ),
    )
    return applied.document or {}


async def budget_execution(deps: Reporting) -> list[dict[str, Any]]:
    plan = [(line.code, int(line.amount * 100)) for line in deps.pack.budget.lines]
    return domain.budget_summary(await deps.repository.budget_lines(deps.forum_id), plan)


# --- documents -----------------------------------------------------------------------------------


async def memoria_inputs(deps: Reporting) -> dict[str, Any]:
    repo = deps.repository
    # One read of the participants serves both the statistics and the published list.
    participants = await repo.participant_states(deps.forum_id)
    entities = await repo.entity_states(deps.forum_id)
    return {
        "statistics": statistics(deps.pack, participants, entities, await repo.event_counts()),
        "conclusions": await repo.list_conclusions(deps.forum_id, "approved"),
        "action_items": await repo.list_action_items(deps.forum_id),
        "budget": await budget_execution(deps),
        "participants": public_list(participants),
    }


async def generate_document(
    deps: Reporting, kind: str, language: str, *, final: bool = False
) -> dict[str, Any]:
    """Render a version of the Memoria or the base document in HTML and PDF, store both by content
    hash, record the version and announce it with `report.generated`. Returns the report record."""
    now = deps.clock()
    if kind == "memoria":
        document = build_memoria(
            deps.pack, language, await memoria_inputs(deps), now, today=deps.today()
        )
    else:
        document = build_base_document(deps.pack, language, now)
    html = render_html(document).encode()
    pdf = render_pdf(document)
    files = []
    for fmt, content, media_type in (
        ("html", html, "text/html; charset=utf-8"),
        ("pdf", pdf, "application/pdf"),
    ):
        digest = hashlib.sha256(content).hexdigest()
        await deps.repository.store_file(digest, content, media_type)
        files.append({"format": fmt, "sha256": digest, "size": len(content)})
    version = hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()[:12]
    report_id = f"{kind}-{language}-{version}"
    event = ReportGenerated(
        event_id=derive_id(deps.forum_id, "report", report_id, final),
        producer=domain.PRODUCER,
        forum_id=deps.forum_id,
        report_id=report_id,
        kind=kind,
        language=language,
        files=files,
        final=final,
    )
    record = {
        "forum_id": deps.forum_id,
        "kind": kind,
        "language": language,
        "files": files,
        "final": final,
        "generated_at": now,
    }

    def decide(doc: dict[str, Any] | None) -> domain.Change | None:
        if doc is not None and (doc.get("final") or not final):
            return None  # identical content already recorded and announced
        return domain.Change(set=record, events=[event])

    await deps.repository.reports.apply(report_id, None, decide)
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

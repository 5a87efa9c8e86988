"""Publishing the draft as a release, and what a release changes for attendees' held times."""

from __future__ import annotations

from functools import partial
from typing import Any

import structlog

from services.scheduling.conflicts.rules import find_conflicts, hard, scheduled
from services.scheduling.deps import Refused, Scheduling, on_attendance, on_release
from services.scheduling.documents import (
    SCHEDULED,
    ParticipantProjection,
    ReleaseDocument,
    SessionDocument,
)
from services.scheduling.programme.handlers import Seeded
from services.scheduling.releases import rules
from services.scheduling.signups.rules import release_time, retime_hold
from shared.decisions import Change

log = structlog.get_logger("foro.scheduling")


async def publish(deps: Scheduling, note: str | None = None) -> dict[str, Any]:
    """Publish the draft as the next release; refused while hard conflicts exist."""
    repo, now = deps.repository, deps.clock()
    documents = [SessionDocument.model_validate(d) for d in await repo.draft(deps.forum_id)]
    found = find_conflicts(scheduled(documents), deps.venue)
    if errors := hard(found):
        raise Refused(
            409,
            f"programme: {len(errors)} conflict(s) must be fixed before publishing",
            [c.as_dict() for c in errors],
        )
    previous = ReleaseDocument.read(await repo.latest_release(deps.forum_id))
    number = previous.number + 1 if previous else 1
    previous_sessions = previous.sessions if previous else ()
    changes = rules.changelog(previous_sessions, [rules.snapshot(d) for d in documents])
    if previous is not None and not any(changes.model_dump().values()):
        raise Refused(409, "programme: nothing changed since the last release")
    touched = set(changes.moved) | set(changes.cancelled)
    stored = await repo.participants_by_id(
        rules.participants_on(d for d in documents if d.code in touched)
    )
    attendees = {pid: ParticipantProjection.model_validate(doc) for pid, doc in stored.items()}
    release = rules.build_release(
        deps.pack,
        number,
        documents,
        previous_sessions,
        [c for c in found if c.severity == "warning"],
        attendees,
        now,
        note,
    )
    applied = await repo.releases.apply(
        f"{deps.forum_id}:{number}",
        None,
        on_release(
            lambda existing: (
                None if existing else Change(set=release.document, events=release.events)
            )
        ),
    )
    if applied.change is None:
        raise Refused(
            409, f"programme: release {number} was published meanwhile; review and publish again"
        )
    await _follow_published_changes(deps, number, documents, touched)
    log.info(
        "programme published",
        release=number,
        **{k: len(v) for k, v in changes.model_dump().items()},
    )
    return applied.document or {}


async def _follow_published_changes(
    deps: Scheduling, number: int, documents: list[SessionDocument], touched: set[str]
) -> None:
    """Attendees' held times follow what the release moved or cancelled (each step idempotent)."""
    for doc in documents:
        if doc.code not in touched:
            continue
        for participant_id in (*doc.confirmed, *doc.waitlist):
            if doc.status == SCHEDULED:
                decide = on_attendance(
                    partial(retime_hold, code=doc.code, start=doc.starts_at, end=doc.ends_at)
                )
            else:
                decide = on_attendance(partial(release_time, code=doc.code))
            await deps.repository.attendance.apply(
                deps.attendance_id(participant_id), f"release:{number}:{doc.code}", decide
            )


async def publish_on_start(deps: Scheduling, seeded: Seeded) -> dict[str, Any] | None:
    """At start-up: release 1 from the seeded draft, or a release of what the pack changed in it,
    unless conflicts forbid it (then the secretariat fixes and publishes)."""
    if seeded.updated == 0 and await deps.repository.latest_release(deps.forum_id) is not None:
        return None
    try:
        return await publish(
            deps, note="Programa del paquete del foro / Programme from the event pack"
        )
    except Refused as refused:
        log.warning("programme not published at start-up", reason=refused.reason)
        return None

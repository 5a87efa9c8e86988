"""The delivery safety net, every `sweep_seconds` (the scheduler runs it): lapsed leases, lost
queue messages, and the count of triggers still waiting for a contact; and the secretariat's
replay. What must go (again) to the delivery queue goes through the outbox, in the same write
as the change that decided it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import structlog

from services.notification.delivery import rules
from services.notification.deps import Notification, on
from services.notification.documents import MessageDocument
from services.notification.domain import QUEUED
from services.notification.metrics import MESSAGES, WAITING

log = structlog.get_logger("foro.notification")


async def recover_lapsed(deps: Notification) -> int:
    """Messages whose sender stopped renewing its lease (killed, or cut off from the database for
    longer than a sweep) are *possibly sent*: `rules.after_lapsed_lease` decides (send again with
    the same Message-ID, or fail once the attempts are used up).

    A lapse is acted on at the second sweep that sees it, so a worker that only lost the database
    for a moment renews or records its result first."""
    repo, now = deps.repository, deps.wall_clock()
    noticed_before = now - timedelta(seconds=deps.sweep_seconds / 2)
    recovered = 0
    for document in await repo.lapsed(now):
        noticed = document.get("lapse_noticed_at")
        if noticed is None:
            await repo.notice_lapse(document["_id"], now)
            continue
        if noticed > noticed_before:
            continue  # noticed by the sweep just before: give its worker until the next one
        rule = partial(
            rules.after_lapsed_lease,
            policy=deps.policy,
            now=now,
            claimed_at=document["claimed_at"],
        )
        applied = await repo.messages.apply(
            document["_id"], None, on(MessageDocument, rule), current=document
        )
        if applied.change is None or applied.document is None:
            continue
        recovered += 1
        status = applied.document["status"]
        log.warning(
            "lease lapsed while sending: the message was possibly sent",
            message_id=document["_id"],
            outcome=status,
            attempts=applied.document["attempts"],
        )
        if status != QUEUED:
            MESSAGES.labels(applied.document["channel"], status).inc()
    return recovered


async def requeue_stale(deps: Notification) -> int:
    """Safety net: a deliverable message whose queue message was lost is queued again."""
    now = deps.wall_clock()
    before = now - timedelta(seconds=deps.stale_seconds)
    requeued = 0
    for document in await deps.repository.stale(before):
        rule = partial(rules.requeue_stale, now=now, before=before)
        applied = await deps.repository.messages.apply(
            document["_id"], None, on(MessageDocument, rule), current=document
        )
        requeued += applied.change is not None
    if requeued:
        log.warning("stale messages queued again", count=requeued)
    return requeued


async def sweep(deps: Notification) -> None:
    await recover_lapsed(deps)
    await requeue_stale(deps)
    WAITING.set(await deps.repository.waiting_count())


async def replay(message_id: str, deps: Notification) -> dict[str, Any] | None:
    """Queue a failed or suppressed message again (the secretariat's decision)."""
    rule = partial(rules.replay, now=deps.wall_clock())
    applied = await deps.repository.messages.apply(message_id, None, on(MessageDocument, rule))
    return applied.document if applied.change else None

"""The action plan's use cases: lines of action, their progress, and reminders when overdue."""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from services.reporting.action_plan import rules
from services.reporting.common import RuleViolation
from services.reporting.deps import Reporting, on_action_item

log = structlog.get_logger("foro.reporting")


async def create_action_item(
    deps: Reporting,
    title: dict[str, str],
    owner: dict[str, Any],
    deadline: str,
    conclusion_ids: list[str],
    item_id: str | None = None,
) -> dict[str, Any]:
    known = await deps.repository.conclusion_ids(deps.forum_id)
    if missing := [c for c in conclusion_ids if c not in known]:
        raise RuleViolation(f"conclusion_ids: unknown conclusions {missing}")
    new = rules.NewItem(
        item_id or str(uuid.uuid4()), deps.forum_id, title, owner, deadline, conclusion_ids
    )
    now = deps.clock()
    applied = await deps.repository.action_items.apply(
        new.item_id, None, on_action_item(lambda item: rules.create_action_item(item, new, now))
    )
    return applied.document or {}


async def update_action_item(
    deps: Reporting, item_id: str, change: rules.ItemUpdate
) -> dict[str, Any]:
    now, today = deps.clock(), deps.today()
    applied = await deps.repository.action_items.apply(
        item_id,
        None,
        on_action_item(lambda item: rules.update_action_item(item, change, now, today)),
    )
    return applied.document or {}


async def check_follow_ups(deps: Reporting) -> int:
    """Flag overdue items and remind owners (once per item and deadline); returns reminders made."""
    today, now = deps.today(), deps.clock()
    reminders = 0
    for item_id in await deps.repository.open_action_item_ids(deps.forum_id, today.isoformat()):
        applied = await deps.repository.action_items.apply(
            item_id, None, on_action_item(lambda item: rules.follow_up(item, today, now))
        )
        reminders += len(applied.events)
    if reminders:
        log.info("action items followed up", reminders=reminders)
    return reminders

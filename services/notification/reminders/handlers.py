"""Reminders: scheduled by triggers, fired by the scheduler when due, each exactly once.

State lives in the database (each reminder with its due time), so a restart loses none; a due
reminder is claimed by one conditional update, so two passes (or replicas) never fire it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog

from services.notification.deps import Notification
from services.notification.documents import ContactDocument, ReminderDocument
from services.notification.domain import Cause
from services.notification.messages.handlers import create_messages
from services.notification.reminders.rules import reminders_of
from services.notification.templates import Trigger
from services.notification.triggers.rules import TriggerEnvelope

log = structlog.get_logger("foro.notification")

BATCH = 100


async def schedule_reminders(
    deps: Notification,
    trigger: Trigger,
    envelope: TriggerEnvelope,
    body: Mapping[str, Any],
    person_id: str,
) -> None:
    """(Re)schedule or cancel the person's reminders the trigger names."""
    scheduled, cancelled = reminders_of(
        trigger,
        body,
        person_id,
        deps.pack,
        deps.clock(),
        envelope.correlation_id or str(envelope.event_id),
    )
    for reminder in scheduled:
        await deps.repository.schedule_reminder(
            reminder.reminder_id,
            reminder.fields,
            scheduled_by=str(envelope.event_id),
            event_at=envelope.occurred_at,
        )
    for reminder_id in cancelled:
        await deps.repository.cancel_reminder(reminder_id, envelope.occurred_at)


async def fire_due_reminders(deps: Notification) -> int:
    """Turn every due reminder into messages (queued for the delivery workers), each once."""
    repo, now = deps.repository, deps.clock()
    await repo.recover_reminders(now - timedelta(seconds=deps.stale_seconds))
    fired = 0
    while due := await repo.due_reminders(now, BATCH):
        for stored in due:
            if not await repo.claim_reminder(stored["_id"], now):
                continue  # another pass took it
            reminder = ReminderDocument.model_validate(stored)
            await _fire(deps, reminder, now)
            await repo.finish_reminder(reminder.id, now)
            log.info("reminder fired", reminder_id=reminder.id, person_id=reminder.person_id)
            fired += 1
        if len(due) < BATCH:
            break
    return fired


async def _fire(deps: Notification, reminder: ReminderDocument, now: Any) -> None:
    contact = ContactDocument.read(await deps.repository.contact(reminder.person_id))
    if (
        reminder.anchor <= now  # the service was down past its anchor: dropped
        or contact is None
        or contact.erased
        or contact.status in ("cancelled", "rejected")
    ):
        return
    cause = Cause(
        f"{reminder.id}:{reminder.scheduled_by}",
        f"reminder:{reminder.key}",
        reminder.correlation_id,
        {"reminder_id": reminder.id},
    )
    await create_messages(
        deps,
        cause,
        reminder.message_type,
        reminder.person_id,
        contact,
        channels=("email", "sms"),
        essential=False,
        context={
            "reminder": {
                "key": reminder.key,
                "anchor": reminder.anchor,
                "due_at": reminder.due_at,
            }
        },
        event=reminder.event,
    )

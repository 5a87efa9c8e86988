"""What one trigger does for one reachable person: their messages (delivered at once by the
caller; only when the event meets the trigger's `send_when`) and the reminders it (re)schedules
or cancels; idempotent (derived ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.notification.deps import Notification
from services.notification.documents import ContactDocument
from services.notification.domain import Cause
from services.notification.messages.handlers import Created, create_messages
from services.notification.reminders.handlers import schedule_reminders
from services.notification.templates import Trigger
from services.notification.triggers.rules import TriggerEnvelope, sends_message


async def tell(
    deps: Notification,
    trigger: Trigger,
    envelope: TriggerEnvelope,
    body: Mapping[str, Any],
    person_id: str,
    contact: ContactDocument,
) -> Created:
    created = Created()
    if trigger.message_type and sends_message(trigger.send_when, body):
        cause = Cause(
            str(envelope.event_id),
            envelope.event_type,
            envelope.correlation_id or str(envelope.event_id),
            {},
        )
        created = await create_messages(
            deps,
            cause,
            trigger.message_type,
            person_id,
            contact,
            channels=trigger.channels,
            essential=trigger.essential,
            context={},
            event=body,
            attachment_kinds=trigger.attachments,
            claim=True,
        )
    await schedule_reminders(deps, trigger, envelope, body, person_id)
    return created

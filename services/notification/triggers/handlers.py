"""Triggers: one event from another service — project contacts, create messages and deliver
them at once, (re)schedule reminders, or erase a person.

What the event is comes from its envelope (`event_type`), never from how it was routed: a
retried copy comes back to the queue under the queue's own name and is handled the same. A
registration snapshot of a person foro has not seen costs two writes: the contact upserted, the
message created already claimed (the attempt recorded with it); then the send and its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import structlog

from services.notification.delivery.handlers import attempt_now
from services.notification.deps import Notification
from services.notification.documents import ContactDocument
from services.notification.domain import dig
from services.notification.messages.handlers import Created
from services.notification.parked.handlers import complete_parked, park
from services.notification.templates import Trigger
from services.notification.triggers.rules import (
    Recipient,
    TriggerEnvelope,
    contact_for,
    mapped_contact,
    resolve_recipients,
)
from services.notification.triggers.tell import tell
from services.notification.webhooks.handlers import fan_out
from services.notification.webhooks.rules import WEBHOOK_EVENTS
from shared.errors import InvalidMessage

log = structlog.get_logger("foro.notification")


async def handle_trigger(body: Mapping[str, Any], deps: Notification) -> dict[str, int]:
    envelope = TriggerEnvelope.model_validate(body)
    # Outbound webhooks first: the endpoints that receive this event get it whether or not it
    # tells a person anything.
    hooks = await fan_out(deps, envelope, body)
    # Attempted beside the person's messages: a slow endpoint never holds up an e-mail.
    sending = asyncio.ensure_future(attempt_now(deps, hooks.claimed))
    try:
        return {**hooks.counts, **await _trigger(deps, envelope, body)}
    finally:
        await sending


async def _trigger(
    deps: Notification, envelope: TriggerEnvelope, body: Mapping[str, Any]
) -> dict[str, int]:
    trigger = deps.book.triggers.get(envelope.event_type)
    if trigger is None:
        if envelope.event_type in WEBHOOK_EVENTS:
            return {}
        raise InvalidMessage(
            f"event_type: no trigger is configured for {envelope.event_type[:100]!r}"
        )
    if trigger.erase is not None:
        person_id = dig(body, trigger.erase)
        if not person_id:
            raise InvalidMessage(f"{trigger.erase}: missing")
        await deps.repository.erase_person(str(person_id), envelope.occurred_at)
        log.info("personal data erased", person_id=str(person_id))
        return {"erased": 1}
    recipients = resolve_recipients(body, trigger.recipients)
    if trigger.contact is not None and (
        mapped := mapped_contact(body, trigger.contact.model_dump())
    ):
        recipients.append(mapped)
    if not recipients:
        log.info("trigger names nobody to tell", event_type=envelope.event_type)
        return {}
    created = Created()
    try:
        for recipient in recipients:
            created.add(await _for(deps, trigger, envelope, body, recipient))
    finally:
        # What was created claimed is attempted even if a later recipient failed.
        outcomes = await attempt_now(deps, created.claimed)
    for outcome in outcomes:
        created.counts[outcome] = created.counts.get(outcome, 0) + 1
    return created.counts


async def _for(
    deps: Notification,
    trigger: Trigger,
    envelope: TriggerEnvelope,
    body: Mapping[str, Any],
    recipient: Recipient,
) -> Created:
    repo, person_id = deps.repository, recipient.person_id
    if recipient.is_snapshot and recipient.contact is not None:
        projected = await repo.project_contact(person_id, recipient.contact, envelope.occurred_at)
        stored = ContactDocument.read(projected.contact)
    else:
        stored = ContactDocument.read(await repo.contact(person_id))
    if stored is not None and stored.erased:
        return Created({"erased": 1})  # nothing goes to an erased person
    contact = contact_for(stored, recipient)
    if not contact.reachable:
        # Events from different services race: the person's contact has not been projected
        # yet. Not a failure: the trigger waits for it.
        return await park(deps, envelope, body, person_id)
    created = await tell(deps, trigger, envelope, body, person_id, contact)
    if stored is not None and stored.parked_triggers and stored.reachable:
        created.add(await complete_parked(deps, stored))
    return created

"""Outbound webhooks' use cases: an event fanned out to the endpoints that receive it; the
secretariat's commands on endpoints; the delivery log; a delivery sent again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from services.notification.delivery import rules as delivery_rules
from services.notification.deps import Notification, on
from services.notification.documents import MessageDocument
from services.notification.domain import Cause, message_id, stamp
from services.notification.messages.handlers import Created
from services.notification.messages.rules import Plan, new_message
from services.notification.triggers.rules import TriggerEnvelope
from services.notification.webhooks import rules
from services.notification.webhooks.rules import EndpointDocument


async def receiving(deps: Notification, event_type: str) -> list[EndpointDocument]:
    """The enabled endpoints that receive `event_type`, from memory (`cache.py`)."""
    endpoints = await deps.webhooks.current(deps.repository)
    return [endpoint for endpoint in endpoints if endpoint.receives(event_type)]


async def fan_out(
    deps: Notification, envelope: TriggerEnvelope, body: Mapping[str, Any]
) -> Created:
    """One delivery per endpoint that receives the event, created claimed (its first attempt is
    the caller's, at once); a redelivered event finds its deliveries and creates nothing."""
    created = Created()
    if envelope.event_type not in rules.WEBHOOK_EVENTS or not deps.providers.get(rules.CHANNEL):
        return created
    endpoints = await receiving(deps, envelope.event_type)
    if not endpoints:
        return created
    now = stamp(deps.wall_clock())
    until = now + timedelta(seconds=deps.lease_seconds)
    content = {"text": rules.payload(body)}
    for endpoint in endpoints:
        mid = message_id(envelope.event_id, endpoint.id, rules.CHANNEL)
        cause = Cause(
            str(envelope.event_id),
            envelope.event_type,
            envelope.correlation_id or str(envelope.event_id),
            {"endpoint_id": endpoint.id},
        )
        change = new_message(
            mid,
            cause,
            Plan(rules.CHANNEL, endpoint.id),
            message_type=rules.MESSAGE_TYPE,
            person_id=rules.subject_of(body, endpoint.id),
            language="en",
            essential=True,  # a machine's feed: no person's opt-out applies
            content=content,
            now=now,
            claim_until=until,
        )
        applied = await deps.repository.messages.create(mid, None, change)
        if applied is None:
            continue  # made by an earlier copy of this event
        created.counts["webhook"] = created.counts.get("webhook", 0) + 1
        created.claimed.append(MessageDocument.model_validate(applied.document))
    return created


async def deliveries(
    deps: Notification, endpoint_id: str, *, limit: int, status: str | None = None
) -> Sequence[dict[str, Any]]:
    query: dict[str, Any] = {"endpoint_id": endpoint_id}
    if status:
        query["status"] = status
    cursor = deps.repository.collection.find(
        query, {"outbox": 0, "processed": 0, "version": 0}, sort=[("created_at", -1)], limit=limit
    )
    return await cursor.to_list()


async def resend(deps: Notification, delivery_id: str) -> dict[str, Any] | None:
    """Send a delivery again, failed or delivered (the receiver sees the same `webhook-id`)."""
    rule = partial(delivery_rules.replay, now=deps.wall_clock(), also_sent=True)
    current = await deps.repository.messages.get(delivery_id)
    if current is None or current.get("channel") != rules.CHANNEL:
        return None
    applied = await deps.repository.messages.apply(
        delivery_id, None, on(MessageDocument, rule), current=current
    )
    return applied.document if applied.change else None

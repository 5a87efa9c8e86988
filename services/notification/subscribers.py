"""Thin FastStream adapters: validate (by annotation), bind log context, call one handler."""

from __future__ import annotations

from typing import Any

import structlog
from faststream.rabbit import RabbitQueue, RabbitRouter

from services.notification.campaigns.handlers import request_campaign
from services.notification.delivery.handlers import deliver
from services.notification.deps import Notification
from services.notification.publishers import SERVICE
from services.notification.triggers.handlers import handle_trigger
from shared.contracts.notification import CampaignRequested, NotificationQueued
from shared.messaging.topology import Topology


def register_subscribers(router: RabbitRouter, topology: Topology, deps: Notification) -> list[str]:
    """Attach notification's consumers to `router`; returns their queue names."""
    keys = sorted(deps.book.triggers)
    triggers = topology.queue(SERVICE, "triggers", keys[0])
    deliveries = topology.queue(SERVICE, "deliveries", "notification.queued")
    campaigns = topology.queue(SERVICE, "campaign-requested", "campaign.requested")

    @router.subscriber(
        triggers,
        topology.events,
        title="notification triggers",
        description=(
            "Every event that tells a person something, bound by routing key from the event pack's "
            "templates/triggers.yaml: "
            + ", ".join(f"`{key}`" for key in keys)
            + ". Only the envelope "
            "and the fields the mapping names are read; other fields are ignored. Messages are "
            "delivered while the trigger is handled."
        ),
    )
    async def on_trigger(body: dict[str, Any]) -> None:
        # The envelope's event_type says what this is; the delivery's routing key does not (a
        # retried copy comes back under the queue's own name).
        structlog.contextvars.bind_contextvars(event_id=str(body.get("event_id")))
        counts = await handle_trigger(body, deps)
        structlog.contextvars.bind_contextvars(messages=counts)

    @router.subscriber(
        deliveries,
        topology.events,
        title="notification deliveries",
        description="Delivery work that waits or comes back: retries after their backoff (held in "
        "the retry queues), rate-limit deferrals, replays, reminders, campaigns, and messages the "
        "sweep recovers.",
    )
    async def on_delivery(body: NotificationQueued) -> None:
        structlog.contextvars.bind_contextvars(
            event_id=str(body.event_id), message_id=str(body.message_id)
        )
        outcome = await deliver(body, deps)
        structlog.contextvars.bind_contextvars(delivery=outcome)

    @router.subscriber(
        campaigns,
        topology.intake,
        title="campaign.requested",
        description="Information campaigns from the secretariat (AMQP or POST /campaigns).",
    )
    async def on_campaign_requested(body: CampaignRequested) -> None:
        structlog.contextvars.bind_contextvars(
            event_id=str(body.event_id), campaign_id=body.campaign_id
        )
        await request_campaign(body, deps)

    return [triggers.name, deliveries.name, campaigns.name]


def trigger_bindings(topology: Topology, keys: list[str]) -> list[tuple[RabbitQueue, str]]:
    """A FastStream queue binds one routing key; the triggers queue needs one per trigger
    (`runtime.extra_bindings`, declared at start)."""
    queue = topology.queue(SERVICE, "triggers", keys[0])
    return [(queue, key) for key in keys]

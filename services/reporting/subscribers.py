"""Thin FastStream adapter: every domain event, whatever its type, goes to the projection fold."""

from __future__ import annotations

from typing import Any

import structlog
from faststream.rabbit import RabbitRouter

from services.reporting.deps import Reporting
from services.reporting.projections.handlers import LiveFold
from shared.messaging.topology import Topology

SERVICE = "reporting"


def register_subscribers(router: RabbitRouter, topology: Topology, deps: Reporting) -> list[str]:
    """Attach reporting's consumer to `router`; returns its queue names."""
    projections = topology.queue(SERVICE, "projections", "#")
    fold = LiveFold(deps)

    @router.subscriber(
        projections,
        topology.events,
        title="reporting.projections",
        description=(
            "Every domain event (bound with `#`): folded idempotently into participation, programme, "
            "expo, job-fair, notification and budget statistics, the deliveries in flight written "
            "together. Unknown types are counted by type."
        ),
    )
    async def on_domain_event(body: dict[str, Any]) -> None:
        # The envelope says what the event is; the delivery's routing key does not (a retry
        # comes back with the queue's own name).
        structlog.contextvars.bind_contextvars(event_id=str(body.get("event_id")))
        await fold.project(body)

    return [projections.name]

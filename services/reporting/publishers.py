"""The events reporting publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.reporting import (
    ActionItemCreated,
    ActionItemFollowUpDue,
    ActionItemUpdated,
    BudgetThresholdCrossed,
    ConclusionApproved,
    ConclusionDrafted,
    ConclusionSubmitted,
    ReportGenerated,
)
from shared.messaging.topology import Topology

PUBLISHED = (
    ConclusionDrafted,
    ConclusionSubmitted,
    ConclusionApproved,
    ActionItemCreated,
    ActionItemUpdated,
    ActionItemFollowUpDue,
    BudgetThresholdCrossed,
    ReportGenerated,
)


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    for event in PUBLISHED:
        router.publisher(
            exchange=topology.events,
            routing_key=event.type_name(),
            schema=event,
            persist=True,
            title=event.type_name(),
            description=(event.__doc__ or "").strip(),
        )

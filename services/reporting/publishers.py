"""The events reporting publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.reporting import (
    ActionItemCreated,
    ActionItemFollowUpDue,
    ActionItemUpdated,
    BudgetEntryRecorded,
    BudgetThresholdCrossed,
    ConclusionApproved,
    ConclusionDrafted,
    ConclusionSubmitted,
    ReportGenerated,
)
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (
    ConclusionDrafted,
    ConclusionSubmitted,
    ConclusionApproved,
    ActionItemCreated,
    ActionItemUpdated,
    ActionItemFollowUpDue,
    BudgetEntryRecorded,
    BudgetThresholdCrossed,
    ReportGenerated,
)


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)

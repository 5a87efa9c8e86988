"""The events scheduling publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.scheduling import (
    PanelistAccepted,
    PanelistDeclined,
    PanelistInvited,
    ProgrammePublished,
    SessionCancelled,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
    SessionSignupWaitlisted,
    TravelSupportCancelled,
    TravelSupportCommitted,
)
from shared.messaging.topology import Topology

PUBLISHED = (
    ProgrammePublished,
    SessionRescheduled,
    SessionCancelled,
    SessionSignupConfirmed,
    SessionSignupWaitlisted,
    SessionSignupPromoted,
    SessionSignupCancelled,
    PanelistInvited,
    PanelistAccepted,
    PanelistDeclined,
    TravelSupportCancelled,
    TravelSupportCommitted,
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

"""The events scheduling publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.scheduling import (
    PanelistAccepted,
    PanelistDeclined,
    PanelistInvited,
    ProgrammePublished,
    SessionCancelled,
    SessionDraftCreated,
    SessionDraftEdited,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
    SessionSignupWaitlisted,
    TravelSupportCancelled,
    TravelSupportCommitted,
)
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (
    SessionDraftCreated,
    SessionDraftEdited,
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
    declare_event_publishers(router, topology, PUBLISHED)

"""The events expo publishes (through its outbox), declared for the AsyncAPI document. Staff
sign-ups (`registration.submitted`) go to registration's intake exchange: the contract says so."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.expo import (
    BoothAssigned,
    BoothReleased,
    BoothRequestRefused,
    ExhibitorAccessIssued,
    ExhibitorApplied,
    ExhibitorApproved,
    ExhibitorRejected,
    InterviewScheduled,
    JobApplicationReceived,
    JobPosted,
    LaunchScheduled,
    LeadCaptured,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingRequested,
)
from shared.contracts.registration import RegistrationSubmitted
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (
    ExhibitorApplied,
    ExhibitorApproved,
    ExhibitorAccessIssued,
    ExhibitorRejected,
    BoothAssigned,
    BoothReleased,
    BoothRequestRefused,
    LaunchScheduled,
    LeadCaptured,
    MeetingRequested,
    MeetingConfirmed,
    MeetingDeclined,
    JobPosted,
    JobApplicationReceived,
    InterviewScheduled,
)


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)
    router.publisher(
        exchange=topology.intake,
        routing_key=RegistrationSubmitted.type_name(),
        schema=RegistrationSubmitted,
        persist=True,
        title="registration.submitted (exhibitor staff)",
        description="One sign-up per staff member of an approved exhibitor, category `exhibitor_staff`, "
        "published to registration's intake exchange with ids derived from exhibitor and person.",
    )

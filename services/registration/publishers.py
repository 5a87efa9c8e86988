"""The events registration publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.registration import (
    AccessRevoked,
    AccessTokenIssued,
    AccountCreated,
    AccountDisabled,
    AccountRolesChanged,
    AccreditationApproved,
    AccreditationRejected,
    AccreditationRequested,
    AttendeeCheckedIn,
    BadgeIssued,
    BadgeRevoked,
    DelegationMemberNominated,
    DelegationMemberSubstituted,
    DelegationMemberWithdrawn,
    DelegationNominationRefused,
    DelegationRegistered,
    DelegationUpdated,
    ParticipantConsentChanged,
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationRejected,
    RegistrationUpdated,
    RegistrationWaitlisted,
)
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationRejected,
    RegistrationUpdated,
    AccreditationRequested,
    RegistrationCancelled,
    RegistrationPromoted,
    AccreditationApproved,
    AccreditationRejected,
    DelegationRegistered,
    DelegationUpdated,
    DelegationMemberNominated,
    DelegationMemberSubstituted,
    DelegationMemberWithdrawn,
    DelegationNominationRefused,
    BadgeIssued,
    BadgeRevoked,
    AttendeeCheckedIn,
    ParticipantConsentChanged,
    ParticipantErased,
    # identity/: staff accounts created, their roles changed, disabled; API tokens issued; an
    # API token or a staff sign-in revoked before it expired.
    AccountCreated,
    AccountRolesChanged,
    AccountDisabled,
    AccessTokenIssued,
    AccessRevoked,
)


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)

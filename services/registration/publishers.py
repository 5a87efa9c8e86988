"""The events registration publishes (through its outbox), declared for the AsyncAPI document."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.registration import (
    AccessRevoked,
    AccessSubjectRevoked,
    AccessTokenIssued,
    AccountCreated,
    AccountDisabled,
    AccountLinked,
    AccountRolesChanged,
    AccreditationApproved,
    AccreditationRejected,
    AccreditationRequested,
    AttendeeCheckedIn,
    BadgeIssued,
    BadgeRevoked,
    DelegationFocalPointAccessIssued,
    DelegationMemberNominated,
    DelegationMemberSubstituted,
    DelegationMemberWithdrawn,
    DelegationNominationRefused,
    DelegationRegistered,
    DelegationUpdated,
    ParticipantAccessIssued,
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
    DelegationFocalPointAccessIssued,
    BadgeIssued,
    BadgeRevoked,
    AttendeeCheckedIn,
    ParticipantConsentChanged,
    ParticipantErased,
    # access/: a participant's personal code issued; every link of a participant revoked (also
    # by their erasure).
    ParticipantAccessIssued,
    AccessSubjectRevoked,
    # identity/: staff accounts created, their roles changed, disabled, linked to an identity
    # provider; API tokens issued; an API token or a staff sign-in revoked before it expired.
    AccountCreated,
    AccountRolesChanged,
    AccountDisabled,
    AccountLinked,
    AccessTokenIssued,
    AccessRevoked,
)


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)

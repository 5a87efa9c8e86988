"""The attendee projection: registration's events as expo needs them.

The hot path is one round trip per event for a person not seen before: the first snapshot
(`registration.confirmed` or `.promoted`) is inserted at once (`AggregateStore.create`), and a
badge token is added by one conditional upsert (`ExpoRepository.add_badge_token`) whichever of
the two arrives first. Everything else goes through
`AggregateStore.apply` keyed by the event's id, so a redelivered event changes nothing.
"""

from __future__ import annotations

from functools import partial

import structlog

from services.expo.attendees import rules
from services.expo.deps import Expo, calendar_id, on
from services.expo.documents import ApplicationDocument, AttendeeDocument, MeetingDocument
from services.expo.jobfair.rules import erased as application_erased
from services.expo.leads.handlers import wipe_leads
from services.expo.meetings.rules import erased as meeting_erased
from shared.contracts.registration import (
    BadgeIssued,
    BadgeRevoked,
    ParticipantConsentChanged,
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationUpdated,
)
from shared.persistence.aggregates import Applied

log = structlog.get_logger("foro.expo")

Snapshot = (
    RegistrationConfirmed | RegistrationUpdated | RegistrationPromoted | RegistrationCancelled
)


async def project_participant(event: Snapshot, deps: Expo) -> None:
    """registration.confirmed / updated / promoted / cancelled → the attendee a badge resolves to.

    A confirmation or a promotion is usually the first news of a person: tried as one insert,
    and only when the attendee exists (or this very event comes again) read and decided."""
    participant = event.participant
    pid, cause = str(participant.participant_id), str(event.event_id)
    applied: Applied | None = None
    if isinstance(event, RegistrationConfirmed | RegistrationPromoted):
        first = rules.project(None, participant, event.occurred_at)
        assert first.change is not None  # a first snapshot always writes
        applied = await deps.repository.attendees.create(pid, cause, first.change)
    if applied is None:
        rule = partial(rules.project, participant=participant, at=event.occurred_at)
        applied = await deps.repository.attendees.apply(pid, cause, on(AttendeeDocument, rule))
    await _after_consent(deps, pid, cause, applied)


async def change_consent(event: ParticipantConsentChanged, deps: Expo) -> None:
    """participant.consent_changed: consents apply from now on."""
    pid, cause = str(event.participant_id), str(event.event_id)
    applied = await deps.repository.attendees.apply(
        pid,
        cause,
        on(
            AttendeeDocument,
            partial(rules.consent_changed, consents=event.consents, at=event.occurred_at),
        ),
    )
    await _after_consent(deps, pid, cause, applied)


async def _after_consent(deps: Expo, pid: str, cause: str, applied: Applied) -> None:
    attendee = AttendeeDocument.read(applied.document)
    sharing = attendee is not None and attendee.shares_contact
    # A redelivery finishes a wipe a crash cut short.
    if applied.result or (applied.duplicate and not sharing):
        # Consent withdrawn: exhibitors keep that they met the person (the count), not the contact.
        await wipe_leads(deps, pid, cause, {"consent_withdrawn": True})


async def record_badge(event: BadgeIssued, deps: Expo) -> None:
    """badge.issued: the token in the badge's QR resolves to the participant (one upsert)."""
    await deps.repository.add_badge_token(
        str(event.participant_id), str(event.token_id), str(event.event_id), rules.TOKENS_KEPT
    )


async def revoke_badge(event: BadgeRevoked, deps: Expo) -> None:
    await deps.repository.attendees.apply(
        str(event.participant_id),
        str(event.event_id),
        on(AttendeeDocument, partial(rules.badge_revoked, token_id=str(event.token_id))),
    )


async def erase_participant(event: ParticipantErased, deps: Expo) -> None:
    """Remove names and contact details from the projection, leads and applications; keep the
    counts (a lead stays a lead, an application stays an application) for the statistics."""
    pid, cause = str(event.participant_id), str(event.event_id)
    repo = deps.repository
    await repo.attendees.apply(
        pid, cause, on(AttendeeDocument, partial(rules.erased, at=event.occurred_at))
    )
    await wipe_leads(deps, pid, cause, {"erased": True})
    application_ids = await repo.application_ids_of_participant(pid)
    for application_id in application_ids:
        await repo.applications.apply(
            application_id, cause, on(ApplicationDocument, application_erased)
        )
    for meeting_id in await repo.meeting_ids_of_party(calendar_id("participant", pid)):
        await repo.meetings.apply(meeting_id, cause, on(MeetingDocument, meeting_erased))
    for application_id in application_ids:
        for cv_id in await repo.cv_history(application_id):
            await repo.delete_cv(cv_id)
    log.info("participant erased from expo", participant_id=pid)

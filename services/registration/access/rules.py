"""Parties' own access, free of I/O: when a new link may be signed, and what issuing and
revoking a participant's access write.

A party's links are link-signed tokens (`shared.auth.tokens.LinkSigner`) whose `iat` counts
whole seconds; a revocation names every token of the party issued at or before a time
(`access.subject_revoked`, or `revoke_subject_here` for a focal point's). So registration signs a
new link at least one second after the revocation it must survive (`issue_time`): revoking
"everything before the new one" never catches the new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import PRODUCER
from shared.auth.tokens import party_subject
from shared.contracts.envelope import Cause
from shared.contracts.registration import AccessSubjectRevoked, ParticipantAccessIssued
from shared.decisions import Change, Decision

ONE_SECOND = timedelta(seconds=1)


def whole_second(moment: datetime) -> datetime:
    """A time as a token's `iat` holds it."""
    return moment.replace(microsecond=0)


def issue_time(now: datetime, *after: datetime | None) -> datetime:
    """When a new link may be signed: now in whole seconds, and at least one second after each
    time of `after` (a revocation it must survive, the previous link it replaces)."""
    at = whole_second(now)
    for moment in after:
        if moment is not None:
            at = max(at, whole_second(moment) + ONE_SECOND)
    return at


def participant_subject(participant_id: str) -> str:
    """`participant:<id>`: whose links a revocation names."""
    return party_subject("participant", participant_id)


def may_have_access(document: ParticipantDocument | None) -> bool:
    """A person registration knows (not a parked cancellation, not erased) may get a code."""
    return document is not None and document.forum_id is not None and not document.erased


def issue_participant_access(
    document: ParticipantDocument | None, issued_at: datetime, token_id: str, expires_at: datetime
) -> Decision[bool]:
    """Record a personal code signed at `issued_at` (announced: `participant.access_issued`).
    False, writing nothing, when the person may not have one or a revocation since the code was
    signed would catch it (the caller signs again, later)."""
    if not may_have_access(document):
        return Decision(False)
    assert document is not None and document.forum_id is not None
    revoked = document.access_revoked_before
    if revoked is not None and issued_at <= revoked:
        return Decision(False)
    issued = max(issued_at, document.access_issued_at or issued_at)
    return Decision(
        True,
        Change(
            set={"access_issued_at": issued},
            events=[
                ParticipantAccessIssued(
                    producer=PRODUCER,
                    forum_id=document.forum_id,
                    participant_id=uuid.UUID(document.id),
                    token_id=token_id,
                    expires_at=expires_at,
                )
            ],
        ),
    )


def revocation(
    document: ParticipantDocument, now: datetime, lifetime: timedelta, cause: Cause | None = None
) -> tuple[datetime, Change | None]:
    """Revoke every link of the person issued so far — those e-mailed by other services, and
    the codes issued here, which may be signed up to a second ahead (`issue_time`): the time
    before which they are refused, and the write announcing it (`access.subject_revoked`, the
    consequence of `cause` when an event asked for it); None when a revocation at that time or
    later is recorded already (a retried call)."""
    before = max(whole_second(now), document.access_issued_at or whole_second(now))
    if document.access_revoked_before is not None and document.access_revoked_before >= before:
        return document.access_revoked_before, None
    payload: dict[str, Any] = {
        "subject": participant_subject(document.id),
        "issued_before": before,
        "expires_at": before + lifetime,
    }
    revoked = (
        AccessSubjectRevoked.model_validate({"producer": PRODUCER, **payload})
        if cause is None
        else AccessSubjectRevoked.caused_by(cause, producer=PRODUCER, **payload)
    )
    return before, Change(set={"access_revoked_before": before}, events=[revoked])


def revoke_participant_access(
    document: ParticipantDocument | None, now: datetime, lifetime: timedelta
) -> Decision[datetime | None]:
    """Revoke the person's links (see `revocation`); the result is the time before which they
    are refused, None when registration knows no such person."""
    if document is None or document.forum_id is None:
        return Decision(None)
    before, change = revocation(document, now, lifetime)
    return Decision(before, change)

"""Participants' own access, issued and revoked one at a time by registration (which owns
identity), for the secretariat's routes (`api.py`) and `foro tokens revoke --participant`.

A personal code is a link token (`LinkSigner.participant`), shown once and never stored; what
the participant's document keeps is when the latest was issued and the time before which every
link of theirs is revoked. Both are announced in the same write (`participant.access_issued`,
`access.subject_revoked`, through the document's outbox); every service consumes the revocation
(`shared.auth.revocations`) and refuses those links within seconds. Logs carry ids only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from services.registration.access import rules
from services.registration.deps import on_participant
from services.registration.documents import ParticipantDocument
from shared.auth.tokens import LinkSigner
from shared.persistence.aggregates import AggregateStore, ConcurrencyConflict

log = structlog.get_logger("foro.registration.access")

ATTEMPTS = 5
"""Signings of one code a revocation written meanwhile may send back (never more than one in
practice)."""


class ParticipantUnknown(LookupError):
    """No participant (or an erased one) with that id."""


@dataclass(frozen=True)
class IssuedAccess:
    token: str  # shown once: never stored, never logged
    token_id: str
    expires_at: datetime


async def issue_participant_access(
    participant_id: str,
    participants: AggregateStore,
    signer: LinkSigner,
    clock: Callable[[], datetime],
) -> IssuedAccess:
    """A new personal code for the participant, signed after any revocation of their links, so
    none catches it; `ParticipantUnknown` when there is nobody to give it to."""
    for _ in range(ATTEMPTS):
        issued = await _issue_once(participant_id, participants, signer, clock)
        if issued is not None:
            log.info(
                "participant access issued",
                participant_id=participant_id,
                token_id=issued.token_id,
                expires_at=issued.expires_at.isoformat(),
            )
            return issued
        # Revoked since it was signed: signed again, after the revocation.
    raise ConcurrencyConflict(f"participants/{participant_id}: access revoked while issuing")


async def _issue_once(
    participant_id: str,
    participants: AggregateStore,
    signer: LinkSigner,
    clock: Callable[[], datetime],
) -> IssuedAccess | None:
    stored = await participants.get(participant_id)
    document = ParticipantDocument.read(stored)
    if not rules.may_have_access(document):
        raise ParticipantUnknown(participant_id)
    assert document is not None
    issued_at = rules.issue_time(clock(), document.access_revoked_before)
    signed = signer.participant(participant_id, now=issued_at)
    applied = await participants.apply(
        participant_id,
        None,
        on_participant(
            lambda doc: rules.issue_participant_access(
                doc, issued_at, signed.jti, signed.expires_at
            )
        ),
        current=stored,
    )
    if not applied.result:
        if not rules.may_have_access(ParticipantDocument.read(applied.document)):
            raise ParticipantUnknown(participant_id)  # erased meanwhile
        return None
    return IssuedAccess(signed.token, signed.jti, signed.expires_at)


async def revoke_participant_access(
    participant_id: str,
    participants: AggregateStore,
    clock: Callable[[], datetime],
    lifetime: timedelta,
) -> datetime:
    """Revoke every link of the participant issued so far (`access.subject_revoked`, in the same
    write as the document's record of it); the time before which they are refused. Repeating it
    in the same second changes nothing; later, it also revokes what was issued meanwhile."""
    applied = await participants.apply(
        participant_id,
        None,
        on_participant(lambda doc: rules.revoke_participant_access(doc, clock(), lifetime)),
    )
    before: datetime | None = applied.result
    if before is None:
        raise ParticipantUnknown(participant_id)
    log.info(
        "participant access revoked",
        participant_id=participant_id,
        issued_before=before.isoformat(),
        first=applied.change is not None,
    )
    return before

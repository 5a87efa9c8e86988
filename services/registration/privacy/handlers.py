"""Privacy use cases.

Consent: the secretariat records a change of the participant's optional consents. The privacy
policy cannot be withdrawn there: withdrawing it means erasure.

Erasure: `participant.erasure_requested` anonymises the participant everywhere in registration's
database and publishes `participant.erased` (see its contract for what every other service must
then do). Logs carry the participant id only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from services.registration.delegations import rules as domain_delegations
from services.registration.deps import Registration, on_delegation, on_participant
from services.registration.documents import DelegationDocument
from services.registration.privacy import rules as domain_privacy
from services.registration.seats import handlers as seats
from shared.contracts.registration import ParticipantErasureRequested
from shared.decisions import Change
from shared.messaging.consumer import InvalidMessage

log = structlog.get_logger("foro.registration.erasure")
consent_log = structlog.get_logger("foro.registration.consent")


async def change_consents(
    participant_id: str, wanted: dict[str, bool], deps: Registration
) -> tuple[dict[str, Any] | None, list[str]]:
    applied = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(lambda doc: domain_privacy.change_consents(doc, wanted, deps.clock())),
    )
    changed = list(applied.events[0].changed) if applied.events else []  # type: ignore[attr-defined]
    consent_log.info("consents recorded", participant_id=participant_id, changed=changed)
    return await deps.repository.get(participant_id), changed


async def erase_participant(request: ParticipantErasureRequested, deps: Registration) -> str:
    repo, now = deps.repository, deps.clock()
    participant_id = str(request.participant_id)
    document = await repo.participants.get(participant_id)
    if document is None or document.get("forum_id") != request.forum_id:
        raise InvalidMessage("participant_id: no participant of this forum matches")
    # Delegations first, while the e-mail is still known: a focal-point contact is found by it, and a
    # retry after a failure further down still finds it (the participant is erased last).
    email = None if document.get("erased") else document.get("email")
    for delegation_id in await repo.delegations_with_member_or_contact(participant_id, email):
        await repo.delegations.apply(
            delegation_id, None, on_delegation(lambda doc: _leave(doc, participant_id, email, now))
        )
    applied = await repo.participants.apply(
        participant_id,
        str(request.event_id),
        on_participant(lambda doc: domain_privacy.erase(doc, request, now, deps.party_lifetime)),
    )
    # The place the erasure ends is counted out once per ticket: a redelivery frees nothing
    # twice, and completes a release a crash interrupted.
    await seats.release_left_places(deps, applied.document, request)
    log.info("participant erased", participant_id=participant_id, duplicate=applied.duplicate)
    return participant_id


def _leave(
    document: DelegationDocument | None, participant_id: str, email: str | None, now: datetime
) -> Change | None:
    """The erased person leaves the delegation: their seat, and its focal-point contact if theirs."""
    if document is None:
        return None
    withdrawn = domain_delegations.withdraw(document, participant_id, now)
    current = document.updated(withdrawn.set) if withdrawn is not None else document
    forgotten = domain_delegations.forget_contact(current, email, now) if email else None
    return forgotten if withdrawn is None else withdrawn.then(forgotten)

"""Accreditation use cases: the secretariat approves or rejects a pending participant.

Approve: (official delegates) a seat in the country's delegation → the approval (status
`allocating`, `accreditation.approved` in the outbox) → the seat ledger, exactly as a sign-up
that needs no approval (`seats.allocate`). Every step is idempotent, so a repeated call
publishes nothing new and completes whatever an earlier call left undone (a place a rejection
left is counted out on every call, see `seats.release_left_places`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from services.registration.accreditation import rules as domain_accreditation
from services.registration.delegations import rules as domain_delegations
from services.registration.deps import Registration, on_delegation, on_participant
from services.registration.documents import DelegationDocument, ParticipantDocument
from services.registration.intake import rules as domain
from services.registration.seats import handlers as seats
from shared import decisions
from shared.contracts.envelope import FieldProblem

log = structlog.get_logger("foro.registration.accreditation")


@dataclass(frozen=True)
class Decision:
    outcome: str  # approved | already_decided | rejected | refused
    participant_id: str
    status: str | None
    reasons: tuple[FieldProblem, ...] = ()


class ParticipantNotFound(LookupError):
    pass


async def _current(deps: Registration, participant_id: str) -> dict[str, Any]:
    document = await deps.repository.participants.get(participant_id)
    if document is None or document.get("erased") or document.get("forum_id") != deps.pack.forum.id:
        raise ParticipantNotFound(participant_id)
    return document


async def _delegation_seat(deps: Registration, document: dict[str, Any]) -> FieldProblem | None:
    """Official delegates count against their country's delegation quota; None when a seat is held."""
    category = deps.pack.category(document["category"])
    if category is None or not category.uses_delegation_quota:
        return None
    participant_id = document["_id"]
    if await deps.repository.delegations_with_member_or_contact(participant_id, None):
        return None  # nominated by a focal point: the seat was taken then
    if deps.pack.country(document["country"]) is None:
        return domain.problem(
            "country",
            "not_a_delegation_country",
            "El país no es miembro ni observador: no puede acreditar delegados oficiales.",
            "The country is neither a member nor an observer: it cannot accredit official delegates.",
        )
    forum_id = deps.pack.forum.id
    spec = domain_delegations.DelegationSpec(
        code=document["country"], category=document["category"]
    )
    doc_id = domain_delegations.delegation_id(forum_id, spec.code)
    await deps.repository.delegations.apply(
        doc_id,
        None,
        on_delegation(
            lambda doc: (
                None
                if doc is not None
                else domain_delegations.register(
                    doc, doc_id, forum_id, spec, deps.pack, deps.clock()
                )
            )
        ),
    )

    def decide(doc: DelegationDocument | None) -> decisions.Decision[str]:
        assert doc is not None, "registered just above; a delegation is never deleted"
        change, result = domain_delegations.claim_seat(doc, participant_id, deps.clock())
        return decisions.Decision(result, change)

    applied = await deps.repository.delegations.apply(doc_id, None, on_delegation(decide))
    if applied.result == "refused":
        delegation = DelegationDocument.read(applied.document)
        assert delegation is not None, "a delegation is never deleted"
        return domain_delegations.full_reason(delegation).problem
    return None


async def approve(participant_id: str, deps: Registration) -> Decision:
    document = await _current(deps, participant_id)
    if document["status"] in {"rejected", "cancelled"}:
        return Decision(
            "refused",
            participant_id,
            document["status"],
            (
                domain.problem(
                    "status",
                    f"registration_{document['status']}",
                    "La inscripción ya no está activa: la persona debe inscribirse de nuevo.",
                    "The registration is no longer active: the person must register again.",
                ),
            ),
        )
    if document["status"] == "pending_approval":
        refused = await _delegation_seat(deps, document)
        if refused is not None:
            log.info("approval refused", participant_id=participant_id, reason=refused.code)
            return Decision("refused", participant_id, document["status"], (refused,))
    applied = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(lambda doc: domain_accreditation.approve(doc, deps.clock())),
    )
    document = applied.document or document
    approved = ParticipantDocument.model_validate(document)
    if approved.status == domain.ALLOCATING and (
        cause := domain_accreditation.ApprovalCause.of(approved)
    ):
        # First call, or a call repeated after a crash right after the approval: allocate now.
        await seats.allocate(deps, document, cause, deps.clock())
    current = await deps.repository.get(participant_id) or document
    outcome = "approved" if applied.change is not None else "already_decided"
    log.info("accreditation decided", participant_id=participant_id, outcome=outcome)
    return Decision(outcome, participant_id, current["status"])


async def reject(
    participant_id: str, reason_es: str, reason_en: str, deps: Registration
) -> Decision:
    await _current(deps, participant_id)
    applied = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(
            lambda doc: domain_accreditation.reject(doc, reason_es, reason_en, deps.clock())
        ),
    )
    document = applied.document or {}
    # The place a rejection ends (its marker, written with it) is counted out; also on a call
    # repeated after a crash.
    cause = applied.change.events[0] if applied.change is not None else None
    await seats.release_left_places(deps, applied.document, cause)
    if applied.change is not None:
        for delegation_id in await deps.repository.delegations_with_member_or_contact(
            participant_id, None
        ):
            await deps.repository.delegations.apply(
                delegation_id,
                None,
                on_delegation(
                    lambda doc: (
                        domain_delegations.withdraw(doc, participant_id, deps.clock())
                        if doc is not None
                        else None
                    )
                ),
            )
    log.info(
        "accreditation decided",
        participant_id=participant_id,
        outcome="rejected" if applied.change else "already_decided",
    )
    return Decision(
        "rejected" if applied.change else "already_decided", participant_id, document.get("status")
    )

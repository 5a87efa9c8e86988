"""Delegation use cases: register a delegation, issue its focal point's access; the focal point
nominates, substitutes, withdraws.

Each command is a short sequence of single-document writes, each idempotent on its own:
the delegation write (the seat) comes first, then the participant's registration goes through
the very same path as a form's sign-up (`handlers.register_submission`) or cancellation. A call
retried after a failure finds the seat already taken and completes what is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from services.registration.access.handlers import IssuedAccess
from services.registration.access.rules import ONE_SECOND
from services.registration.delegations import rules
from services.registration.deps import Registration, on_delegation
from services.registration.documents import DelegationDocument
from services.registration.intake.handlers import cancel_registration, register_submission
from services.registration.intake.rules import ACTIVE
from shared.auth.tokens import LinkSigner, party_subject
from shared.contracts.envelope import FieldProblem, Language, derive_id
from shared.contracts.registration import (
    Consents,
    RegistrationCancelRequested,
    RegistrationSubmitted,
)
from shared.decisions import Decision
from shared.messaging.consumer import InvalidMessage
from shared.persistence.aggregates import ConcurrencyConflict

log = structlog.get_logger("foro.registration.delegations")

PRODUCER = "registration-delegations"
ISSUE_ATTEMPTS = 5
"""Signings of a focal point's access that concurrent issues may send back."""


@dataclass(frozen=True)
class Nominee:
    """The person a focal point nominates; the delegation gives category, country and organisation."""

    given_name: str
    family_name: str
    email: str
    consents: Consents
    phone: str | None = None
    job_title: str | None = None
    organisation: str | None = None
    country: str | None = None
    language: Language = "es"


@dataclass(frozen=True)
class MemberResult:
    outcome: str  # nominated | already_member | substituted | withdrawn | refused
    participant_id: str | None = None
    status: str | None = None
    reasons: tuple[FieldProblem, ...] = ()


class DelegationNotFound(LookupError):
    pass


def _id(deps: Registration, code: str) -> str:
    return rules.delegation_id(deps.pack.forum.id, code)


async def register_delegation(
    spec: rules.DelegationSpec, deps: Registration
) -> tuple[DelegationDocument, bool]:
    """Create or change a delegation; returns the document and whether anything changed."""
    doc_id = _id(deps, spec.code)
    applied = await deps.repository.delegations.apply(
        doc_id,
        None,
        on_delegation(
            lambda doc: rules.register(
                doc, doc_id, deps.pack.forum.id, spec, deps.pack, deps.clock()
            )
        ),
    )
    written = DelegationDocument.read(await deps.repository.get_delegation(doc_id))
    return _existing(written), applied.change is not None


def _existing(doc: DelegationDocument | None) -> DelegationDocument:
    """The delegation document `apply` read: the caller has just found it, and delegations are
    never deleted."""
    assert doc is not None, "a delegation document is never deleted"
    return doc


async def delegation(code: str, deps: Registration) -> DelegationDocument:
    found = DelegationDocument.read(await deps.repository.get_delegation(_id(deps, code)))
    if found is None:
        raise DelegationNotFound(code)
    return found


RevokeHere = Callable[[str, datetime, datetime], Awaitable[None]]
"""Revokes a party's tokens only registration accepts (`revoke_subject_here` on its runtime):
subject, issued before, expires at."""


async def issue_focal_point_access(
    code: str, deps: Registration, signer: LinkSigner, revoke_here: RevokeHere
) -> IssuedAccess:
    """The focal point's new access (a link token scoped to the delegation, shown once); every
    earlier one stops working. The earlier ones are revoked before the new one is recorded and
    announced, so a crash between the two leaves none of them working, never two."""
    for _ in range(ISSUE_ATTEMPTS):
        issued = await _issue_focal_point_access_once(code, deps, signer, revoke_here)
        if issued is not None:
            log.info(
                "focal point access issued",
                delegation_id=_id(deps, code),
                token_id=issued.token_id,
                expires_at=issued.expires_at.isoformat(),
            )
            return issued
        # Another was issued meanwhile: this one is signed again, after it.
    raise ConcurrencyConflict(f"delegations/{_id(deps, code)}: focal point access issued at once")


async def _issue_focal_point_access_once(
    code: str, deps: Registration, signer: LinkSigner, revoke_here: RevokeHere
) -> IssuedAccess | None:
    doc_id = _id(deps, code)
    stored = await deps.repository.delegations.get(doc_id)
    document = DelegationDocument.read(stored)
    if document is None:
        raise DelegationNotFound(code)
    issued_at = rules.focal_point_access_time(document, deps.clock())
    signed = signer.focal_point(code, now=issued_at)
    before = issued_at - ONE_SECOND
    await revoke_here(party_subject("focal_point", code), before, before + signer.lifetime)
    applied = await deps.repository.delegations.apply(
        doc_id,
        None,
        on_delegation(
            lambda doc: rules.issue_focal_point_access(
                _existing(doc), issued_at, signed.jti, signed.expires_at
            )
        ),
        current=stored,
    )
    if not applied.result:
        return None
    return IssuedAccess(signed.token, signed.jti, signed.expires_at)


async def _participant_id(deps: Registration, email: str) -> str:
    forum_id = deps.pack.forum.id
    return await deps.repository.find_id(forum_id, email=email) or str(derive_id(forum_id, email))


def _submission(
    document: DelegationDocument, nominee: Nominee, nomination_id: str
) -> RegistrationSubmitted:
    country = document.country or nominee.country
    if country is None:
        raise rules.DelegationRefused(
            "country_required",
            "Indique el país de la persona nominada.",
            "Give the nominee's country.",
            "country",
        )
    return RegistrationSubmitted(
        event_id=uuid.UUID(nomination_id),
        producer=PRODUCER,
        forum_id=document.forum_id,
        submission_id=f"nomination-{nomination_id}",
        category=document.category,
        given_name=nominee.given_name,
        family_name=nominee.family_name,
        email=nominee.email,
        phone=nominee.phone,
        organisation=nominee.organisation or document.name,
        job_title=nominee.job_title,
        country=country,
        language=nominee.language,
        consents=nominee.consents,
    )


async def _other_delegation(deps: Registration, participant_id: str, doc_id: str) -> str | None:
    for other in await deps.repository.delegations_with_member_or_contact(participant_id, None):
        if other != doc_id:
            return other
    return None


async def _check_person(
    deps: Registration, participant_id: str, doc_id: str, category: str
) -> None:
    """A focal point registers people into the delegation; never edits someone else's registration."""
    if await _other_delegation(deps, participant_id, doc_id):
        raise _in_other_delegation()
    existing = await deps.repository.get(participant_id)
    if existing and existing.get("status") in ACTIVE and existing.get("category") != category:
        raise rules.DelegationRefused(
            "registered_in_another_category",
            "La persona ya está inscrita en otra categoría; la Secretaría puede cambiarla.",
            "The person is already registered in another category; the secretariat can change it.",
            "email",
        )


def _in_other_delegation() -> rules.DelegationRefused:
    return rules.DelegationRefused(
        "member_of_another_delegation",
        "La persona ya es miembro de otra delegación.",
        "The person is already a member of another delegation.",
        "email",
    )


async def _register(deps: Registration, submission: RegistrationSubmitted) -> str | None:
    participant_id = await register_submission(submission, deps)
    document = await deps.repository.get(participant_id)
    return document["status"] if document else None


async def nominate_member(code: str, nominee: Nominee, deps: Registration) -> MemberResult:
    document = await delegation(code, deps)
    doc_id = document.id
    participant_id = await _participant_id(deps, nominee.email)
    await _check_person(deps, participant_id, doc_id, document.category)
    nomination_id = str(uuid.uuid4())
    _submission(document, nominee, nomination_id)  # validates before the seat is taken

    def decide(doc: DelegationDocument | None) -> Decision[str]:
        change, result = rules.nominate(_existing(doc), participant_id, deps.clock(), nomination_id)
        return Decision(result, change)

    applied = await deps.repository.delegations.apply(doc_id, None, on_delegation(decide))
    outcome: str = applied.result
    after = DelegationDocument.read(applied.document) or document
    if outcome == "refused":
        log.info("nomination refused", delegation_id=doc_id, reason="delegation_quota_full")
        return MemberResult("refused", reasons=(rules.full_reason(after).problem,))
    stored_id = after.nominations.get(participant_id, nomination_id)
    status = await _register(deps, _submission(after, nominee, stored_id))
    if status == "rejected":
        # The sign-up itself was refused (registration closed, say): the seat goes back.
        await deps.repository.delegations.apply(
            doc_id,
            None,
            on_delegation(lambda doc: rules.withdraw(_existing(doc), participant_id, deps.clock())),
        )
        refused = await deps.repository.get(participant_id) or {}
        reasons = tuple(
            FieldProblem.model_validate(r) for r in refused.get("rejection_reasons", [])
        )
        log.info(
            "nomination refused",
            delegation_id=doc_id,
            participant_id=participant_id,
            reason="sign_up_refused",
        )
        return MemberResult(
            "refused", participant_id, status, reasons or (rules.full_reason(document).problem,)
        )
    log.info(
        "member nominated", delegation_id=doc_id, participant_id=participant_id, outcome=outcome
    )
    return MemberResult(outcome, participant_id, status)


async def substitute_member(
    code: str, replaced_id: str, nominee: Nominee, deps: Registration
) -> MemberResult:
    document = await delegation(code, deps)
    doc_id = document.id
    substitute_id = await _participant_id(deps, nominee.email)
    await _check_person(deps, substitute_id, doc_id, document.category)
    nomination_id = str(uuid.uuid4())
    _submission(document, nominee, nomination_id)
    applied = await deps.repository.delegations.apply(
        doc_id,
        None,
        on_delegation(
            lambda doc: rules.substitute(
                _existing(doc), replaced_id, substitute_id, deps.clock(), nomination_id
            )
        ),
    )
    stored = DelegationDocument.read(applied.document) or document
    stored_id = stored.nominations.get(substitute_id, nomination_id)
    await _cancel(deps, replaced_id, derive_id(stored_id, "substituted"), "substituted")
    status = await _register(deps, _submission(stored, nominee, stored_id))
    log.info(
        "member substituted",
        delegation_id=doc_id,
        participant_id=substitute_id,
        replaced=replaced_id,
    )
    return MemberResult("substituted", substitute_id, status)


async def withdraw_member(code: str, participant_id: str, deps: Registration) -> MemberResult:
    document = await delegation(code, deps)
    if participant_id not in document.members:
        if participant_id in document.nominations:
            # Withdrawn before (a retried call): make sure the cancellation happened, change nothing else.
            await _cancel(
                deps,
                participant_id,
                derive_id(document.nominations[participant_id], "withdrawn"),
                "withdrawn by the delegation",
            )
            current = await deps.repository.get(participant_id)
            return MemberResult("withdrawn", participant_id, current["status"] if current else None)
        # Never this delegation's: a focal point cannot cancel other people's registrations.
        raise rules.DelegationRefused(
            "not_a_member",
            "La persona no es miembro de la delegación.",
            "The person is not a member of the delegation.",
            "participant_id",
        )
    await deps.repository.delegations.apply(
        document.id,
        None,
        on_delegation(lambda doc: rules.withdraw(_existing(doc), participant_id, deps.clock())),
    )
    nomination = document.nominations.get(participant_id)
    event_id = derive_id(nomination, "withdrawn") if nomination else uuid.uuid4()
    await _cancel(deps, participant_id, event_id, "withdrawn by the delegation")
    current = await deps.repository.get(participant_id)
    return MemberResult("withdrawn", participant_id, current["status"] if current else None)


async def _cancel(
    deps: Registration, participant_id: str, event_id: uuid.UUID, reason: str
) -> None:
    request = RegistrationCancelRequested(
        event_id=event_id,
        producer=PRODUCER,
        forum_id=deps.pack.forum.id,
        participant_id=uuid.UUID(participant_id),
        reason=reason,
    )
    try:
        await cancel_registration(request, deps)
    except InvalidMessage:
        pass  # never registered (a seat taken by a nomination whose sign-up did not go through)


async def leave_delegations(participant_id: str, deps: Registration) -> None:
    """A member whose registration ended (cancelled by them or the secretariat) frees their seat."""
    for doc_id in await deps.repository.delegations_with_member_or_contact(participant_id, None):
        await deps.repository.delegations.apply(
            doc_id,
            None,
            on_delegation(
                lambda doc: (
                    rules.withdraw(doc, participant_id, deps.clock()) if doc is not None else None
                )
            ),
        )

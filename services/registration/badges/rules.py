"""Badges, free of I/O.

A participant document carries at most one live badge, `badge = {token_id, issued_at, category}`;
tokens that stopped being valid move to `revoked_tokens`. A badge exists exactly while the
participant may enter: confirmed, and accredited when the category requires it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import PRODUCER, problem
from shared.contracts.envelope import FieldProblem
from shared.contracts.registration import (
    BadgeIssued,
    BadgeRevoked,
    RevocationReason,
)
from shared.decisions import Change


def may_hold_badge(document: ParticipantDocument | None, needs_accreditation: bool) -> bool:
    if document is None or document.erased or document.status != "confirmed":
        return False
    return not needs_accreditation or (
        document.accreditation is not None and document.accreditation.status == "approved"
    )


def unknown_participant() -> FieldProblem:
    return problem(
        "participant_id",
        "unknown_participant",
        "La persona no está inscrita.",
        "The person is not registered.",
    )


def badge_refusal(
    document: ParticipantDocument | None, needs_accreditation: bool
) -> FieldProblem | None:
    """Why this participant gets no badge (in words the secretariat can pass on); None if they do."""
    if document is None or document.erased:
        return unknown_participant()
    status = document.status
    if status != "confirmed":
        texts: dict[str | None, tuple[str, str]] = {
            "pending_approval": ("la acreditación está pendiente", "the accreditation is pending"),
            "waitlisted": ("está en lista de espera", "they are on the waitlist"),
            "rejected": ("la inscripción fue rechazada", "the registration was rejected"),
            "cancelled": ("la inscripción fue cancelada", "the registration was cancelled"),
        }
        es, en = texts.get(
            status,
            ("la inscripción aún no está confirmada", "the registration is not confirmed yet"),
        )
        return problem(
            "status",
            "badge_not_allowed",
            f"No se emite credencial: {es}.",
            f"No badge is issued: {en}.",
        )
    if not may_hold_badge(document, needs_accreditation):
        return problem(
            "status",
            "badge_not_allowed",
            "No se emite credencial: falta la acreditación.",
            "No badge is issued: the accreditation is missing.",
        )
    return None


def issue(document: ParticipantDocument, token_id: str, now: datetime) -> Change | None:
    """Give the participant a badge with `token_id` (chosen by the caller, at random); None if they hold one."""
    if document.badge is not None:
        return None
    # Only a parked cancellation lacks these, and it holds no registration to badge.
    assert document.forum_id is not None and document.category is not None
    return Change(
        set={"badge": {"token_id": token_id, "issued_at": now, "category": document.category}},
        events=[
            BadgeIssued(
                producer=PRODUCER,
                forum_id=document.forum_id,
                participant_id=uuid.UUID(document.id),
                token_id=token_id,
                category=document.category,
            )
        ],
    )


def revocation(document: ParticipantDocument, reason: RevocationReason) -> Change | None:
    """Revoke the live badge, if any: the fields and event to add to the write that ends it."""
    badge = document.badge
    if badge is None:
        return None
    revoked = [*document.revoked_tokens, badge.token_id]
    assert document.forum_id is not None  # a badge holder is a participant of a forum
    return Change(
        set={"badge": None, "revoked_tokens": revoked},
        events=[
            BadgeRevoked(
                producer=PRODUCER,
                forum_id=document.forum_id,
                participant_id=uuid.UUID(document.id),
                token_id=badge.token_id,
                reason=reason,
            )
        ],
    )


REVOCATION_REASON: dict[str, RevocationReason] = {"cancelled": "cancelled", "rejected": "rejected"}


def sync(
    document: ParticipantDocument | None, needs_accreditation: bool, token_id: str, now: datetime
) -> Change | None:
    """Make the badge follow the registration: issue for the eligible, revoke for the others."""
    if document is None:
        return None
    if may_hold_badge(document, needs_accreditation):
        badge = document.badge
        if badge is not None and badge.category != document.category:
            # A new category is a new colour: the old print must not open the new doors.
            revoked = revocation(document, "reissued")
            assert revoked is not None
            issued = issue(document.updated(revoked.set), token_id, now)
            assert issued is not None
            return revoked.then(issued)
        return issue(document, token_id, now)
    reason: RevocationReason = (
        "erased"
        if document.erased
        else REVOCATION_REASON.get(document.status or "", "not_confirmed")
    )
    return revocation(document, reason)

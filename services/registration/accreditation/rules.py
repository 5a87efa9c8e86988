"""Accreditation, free of I/O: the secretariat's approve / reject of a pending participant.

    pending_approval ─approve─► allocating ─(seat ledger)─► confirmed | waitlisted
    pending_approval | allocating | confirmed | waitlisted ─reject─► rejected
Approve and reject are idempotent by state: approving an approved participant, or rejecting a
rejected one, changes nothing and publishes nothing. An approved participant who later edits a
field the pack lists in the category's `accreditation_fields` goes back to pending_approval
(see `domain.accept`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.registration.badges.rules import revocation
from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import ACTIVE, ALLOCATING, PRODUCER, problem
from shared.contracts.envelope import Event, FieldProblem
from shared.contracts.registration import AccreditationApproved, AccreditationRejected
from shared.decisions import Change


@dataclass(frozen=True)
class ApprovalCause:
    """What seat allocation needs from the approval that caused it (see handlers._allocate_seat).

    Rebuilt from the participant document, so that a repeated approve call after a crash
    resumes the allocation with the very same event ids.
    """

    event_id: uuid.UUID
    correlation_id: str | None
    submission_id: str

    @classmethod
    def of(cls, document: ParticipantDocument) -> ApprovalCause | None:
        accreditation = document.accreditation
        if (
            accreditation is None
            or accreditation.status != "approved"
            or not accreditation.approval_event_id
        ):
            return None
        return cls(
            event_id=uuid.UUID(accreditation.approval_event_id),
            correlation_id=accreditation.correlation_id,
            submission_id=accreditation.submission_id or "",
        )


def approve(document: ParticipantDocument | None, now: datetime) -> Change | None:
    """Approve a pending participant; anything else is already decided (None)."""
    if document is None or document.erased or document.status != "pending_approval":
        return None
    submission_ids = document.submission_ids or [""]
    approval_id = uuid.uuid4()
    event = AccreditationApproved(
        event_id=approval_id,
        producer=PRODUCER,
        participant=document.updated({"status": ALLOCATING}).snapshot(),
        submission_id=submission_ids[-1],
    )
    accreditation = {
        "status": "approved",
        "decided_at": now,
        "approval_event_id": str(approval_id),
        # The seat steps it causes share its correlation: the request's, when it came over HTTP.
        "correlation_id": event.correlation_id or str(approval_id),
        "submission_id": submission_ids[-1],
    }
    return Change(
        set={
            "status": ALLOCATING,
            "accreditation": accreditation,
            "rejection_reasons": [],
            "updated_at": now,
        },
        events=[event],
    )


def rejection_problem(reason_es: str, reason_en: str) -> FieldProblem:
    return problem("accreditation", "accreditation_rejected", reason_es, reason_en)


def reject(
    document: ParticipantDocument | None, reason_es: str, reason_en: str, now: datetime
) -> Change | None:
    """Refuse the accreditation with a reason the person reads; None when already rejected or gone."""
    if document is None or document.erased or document.status not in ACTIVE:
        return None
    previous = "confirmed" if document.status == ALLOCATING else document.status
    reasons = [rejection_problem(reason_es, reason_en)]
    fields: dict[str, Any] = {
        "status": "rejected",
        "previous_status": previous,
        "rejection_reasons": [reason.model_dump() for reason in reasons],
        "accreditation": {"status": "rejected", "decided_at": now},
        "updated_at": now,
    }
    events: list[Event] = [
        AccreditationRejected(
            producer=PRODUCER, participant=document.updated(fields).snapshot(), reasons=reasons
        )
    ]
    revoked = revocation(document, "rejected")
    if revoked is not None:
        fields |= revoked.set
        events.extend(revoked.events)
    return Change(set=fields, events=events)

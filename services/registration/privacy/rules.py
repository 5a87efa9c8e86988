"""Consent changes and erasure, free of I/O.

Erasure anonymises the participant document in place: every personal field is overwritten, the
facts statistics need (category, country, status history, check-ins) stay, so counts by category
do not change. An active registration ends with it (cancelled, its seat freed, its badge revoked),
and so does every link of the person's own (personal codes, agenda feeds).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.registration.access import rules as access
from services.registration.badges.rules import revocation
from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import ACTIVE, ALLOCATING, PRODUCER
from shared.auth.tokens import PARTY_LIFETIME
from shared.contracts.envelope import Event
from shared.contracts.registration import (
    Consents,
    ParticipantConsentChanged,
    ParticipantErased,
    ParticipantErasureRequested,
)
from shared.decisions import Change

ERASED_NAME = "—"
OPTIONAL_CONSENTS = ("listed_publicly", "photos", "share_with_exhibitors")


def erased_email(participant_id: str) -> str:
    """Unique per participant (the e-mail index is unique per forum), and nobody's address."""
    return f"erased-{participant_id}@erased.invalid"


def change_consents(
    document: ParticipantDocument | None, wanted: dict[str, bool], now: datetime
) -> Change | None:
    """Apply the optional consents given in `wanted`; None when nothing changes."""
    if document is None or document.erased:
        return None
    current = dict(document.consents)
    changed = [
        name
        for name in OPTIONAL_CONSENTS
        if name in wanted and bool(current.get(name)) != wanted[name]
    ]
    if not changed:
        return None
    consents = Consents.model_validate(
        {**current, **{name: wanted[name] for name in changed}}
    ).model_dump()
    assert document.forum_id is not None  # consents exist on a participant, never on a parked one
    return Change(
        set={"consents": consents, "updated_at": now},
        events=[
            ParticipantConsentChanged(
                producer=PRODUCER,
                forum_id=document.forum_id,
                participant_id=uuid.UUID(document.id),
                consents=Consents.model_validate(consents),
                changed=changed,
            )
        ],
    )


def erase(
    document: ParticipantDocument | None,
    request: ParticipantErasureRequested,
    now: datetime,
    party_lifetime: timedelta = PARTY_LIFETIME,
) -> Change | None:
    """Anonymise the participant and revoke every link of theirs (`access.subject_revoked`);
    None when there is nobody (left) to erase."""
    if document is None or document.erased:
        return None
    status = document.status
    previous = "confirmed" if status == ALLOCATING else status
    fields: dict[str, Any] = {
        "given_name": ERASED_NAME,
        "family_name": ERASED_NAME,
        "email": erased_email(document.id),
        "phone": None,
        "organisation": None,
        "job_title": None,
        "answers": {},
        "submission_ids": [],  # the form vendor's ids would link the record back to the person
        "consents": dict.fromkeys(("privacy_policy", *OPTIONAL_CONSENTS), False),
        "cancel_reason": None,
        "rejection_reasons": [],
        "erased": True,
        "erased_at": now,
        "updated_at": now,
    }
    accreditation = document.accreditation
    if accreditation is not None:
        fields["accreditation"] = {
            "status": accreditation.status,
            "decided_at": accreditation.decided_at,
        }
    if status in ACTIVE:
        fields |= {"status": "cancelled", "previous_status": previous}
    events: list[Event] = [
        ParticipantErased.caused_by(
            request,
            producer=PRODUCER,
            forum_id=document.forum_id,
            participant_id=document.id,
            category=document.category,
            country=document.country,
            previous_status=previous,
        )
    ]
    revoked = revocation(document, "erased")
    if revoked is not None:
        fields |= revoked.set
        events.extend(revoked.events)
    _, links_revoked = access.revocation(document, now, party_lifetime, request)
    if links_revoked is not None:
        fields |= links_revoked.set
        events.extend(links_revoked.events)
    return Change(set=fields, events=events)

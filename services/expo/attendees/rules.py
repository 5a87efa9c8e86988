"""The attendee projection's rules, free of I/O: registration's participant as expo needs it —
who a badge names, whether they are confirmed and share their contact with exhibitors — the
same whatever order registration's events arrive in.

Snapshots (`registration.confirmed` / updated / promoted / cancelled) and consent changes are
stamped with when they happened: older news arriving late changes nothing. An erasure that
overtook a snapshot keeps the contact out; what counts (status, category) is kept as it would
have been had the snapshot come first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.expo.documents import AttendeeDocument
from shared.contracts.registration import Consents, Participant
from shared.decisions import Change, Decision

CONTACT_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "organisation",
    "job_title",
    "country",
)
TOKENS_KEPT = 5
REVOKED_KEPT = 10


def project(
    document: AttendeeDocument | None, participant: Participant, at: datetime
) -> Decision[bool]:
    """The participant's snapshot as of `at`; the result says whether it withdrew the consent
    to share their contact with exhibitors (their leads then lose it)."""
    if document is not None and document.snapshot_at and document.snapshot_at > at:
        return Decision(False)  # an older snapshot arriving late
    erased = document is not None and document.erased
    fields: dict[str, Any] = (
        {} if erased else {name: getattr(participant, name) for name in CONTACT_FIELDS}
    )
    fields |= {
        "forum_id": participant.forum_id,
        "category": participant.category,
        "language": participant.language,
        "status": participant.status,
        "snapshot_at": at,
    }
    withdrawn = False
    consents_at = document.consents_at if document else None
    if consents_at is None or consents_at <= at:  # a later consent change wins
        fields |= {"consents": participant.consents.model_dump(), "consents_at": at}
        shared_before = document is not None and document.shares_contact
        withdrawn = shared_before and not participant.consents.share_with_exhibitors and not erased
    return Decision(withdrawn, Change(set=fields))


def consent_changed(
    document: AttendeeDocument | None, consents: Consents, at: datetime
) -> Decision[bool]:
    """Consents apply from `at` on; the result says whether sharing with exhibitors stopped.
    Kept after an erasure too (consents are no personal data): the same state in any order."""
    if document is not None and document.consents_at is not None and document.consents_at > at:
        return Decision(False)  # an older change arriving late
    withdrawn = (
        document is not None
        and document.shares_contact
        and not consents.share_with_exhibitors
        and not document.erased
    )
    return Decision(withdrawn, Change(set={"consents": consents.model_dump(), "consents_at": at}))


def badge_issued(document: AttendeeDocument | None, token_id: str) -> Change | None:
    """A badge token resolves to the participant — unless it is known, was revoked before this
    (late) issue arrived, or the person was erased. The last `TOKENS_KEPT` tokens resolve.

    `ExpoRepository.add_badge_token` decides the same on the server in one upsert."""
    if document is not None and (
        token_id in document.tokens or token_id in document.revoked_tokens or document.erased
    ):
        return None
    tokens = document.tokens if document else []
    return Change(set={"tokens": [*tokens[-(TOKENS_KEPT - 1) :], token_id]})


def badge_revoked(document: AttendeeDocument | None, token_id: str) -> Change | None:
    """The token resolves to nobody from now on (and a late issue of it stays out)."""
    if document is not None and token_id in document.revoked_tokens:
        return None
    tokens = document.tokens if document else []
    revoked = document.revoked_tokens if document else []
    return Change(
        set={
            "tokens": [t for t in tokens if t != token_id],
            "revoked_tokens": [*revoked[-(REVOKED_KEPT - 1) :], token_id],
        }
    )


def erased(document: AttendeeDocument | None, at: datetime) -> Change:
    """Names and contact details gone, badges resolve to nobody; when it happened, not when it
    arrived: the same document whichever event came first."""
    wiped = dict.fromkeys(CONTACT_FIELDS)
    return Change(set={**wiped, "tokens": [], "erased": True, "erased_at": at})

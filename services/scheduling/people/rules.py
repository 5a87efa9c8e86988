"""People: those on the programme (speakers, panelists, … with invitations and travel support)
and registration's participants as scheduling keeps them (who may sign up, how to reach them,
what an erasure leaves). Pure rules over `SessionDocument`, `ParticipantProjection`,
`ReleaseDocument` and `SupportLedger`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from services.scheduling.documents import (
    PRODUCER,
    ParticipantProjection,
    Person,
    ReleaseDocument,
    SessionDocument,
    SupportLedger,
    dump_all,
)
from services.scheduling.programme.rules import draft_edited
from shared.contracts.envelope import Event, derive_id
from shared.contracts.scheduling import PanelistAccepted, PanelistDeclined, PanelistInvited
from shared.decisions import Change, Decision

# --- people on the programme ------------------------------------------------------------------


def person_id_for(forum_id: str, email: str | None, name: str, affiliation: str | None) -> str:
    """A stable id for a person on the programme: by e-mail when known, else name and affiliation."""
    basis = (
        email.lower() if email else f"{name.strip().lower()}|{(affiliation or '').strip().lower()}"
    )
    return "p-" + derive_id(forum_id, "person", basis).hex[:16]


def set_people(
    doc: SessionDocument | None, people: list[dict[str, Any]], now: datetime
) -> Change | None:
    """Replace the people on a session, keeping each returning person's invitation record."""
    if doc is None:
        return None
    previous = {(p.person_id, p.role): p for p in doc.people}
    merged = []
    for person in people:
        old = previous.get((person["person_id"], person["role"]))
        merged.append(
            {
                **person,
                "invitation": old.invitation.dump() if old and old.invitation else None,
                "participant_id": person.get("participant_id") or (old and old.participant_id),
            }
        )
    if merged == dump_all(doc.people):
        return None
    # Who is on a session is the secretariat's decision: in the audit trail, names not included.
    return Change(set={"people": merged, "updated_at": now}, events=[draft_edited(doc, ["people"])])


def link_people(doc: SessionDocument | None, participant_id: str, email: str) -> Change | None:
    """Link people on a session to the registered participant with the same e-mail."""
    if doc is None:
        return None
    linked = False
    people: list[Person] = []
    for p in doc.people:
        if (p.email or "").lower() == email.lower() and not p.participant_id:
            p, linked = p.model_copy(update={"participant_id": participant_id}), True
        people.append(p)
    return Change(set={"people": dump_all(people)}) if linked else None


def erase_from_people(
    doc: SessionDocument | None, participant_id: str, now: datetime
) -> Change | None:
    """Anonymise a participant wherever they appear on a session; roles and counts remain."""
    if doc is None:
        return None
    erased = False
    people: list[Person] = []
    for p in doc.people:
        if p.participant_id == participant_id and not p.erased:
            anonymous = {"name": None, "email": None, "phone": None, "affiliation": None}
            p, erased = p.model_copy(update={**anonymous, "erased": True}), True
        people.append(p)
    return Change(set={"people": dump_all(people), "updated_at": now}) if erased else None


def forget(
    doc: SessionDocument | None, participant_id: str, email: str | None, now: datetime
) -> Change | None:
    """An erased participant on a session: linked first by an e-mail not yet linked, then
    anonymised."""
    linked = link_people(doc, participant_id, email) if email else None
    if doc is not None and linked is not None:
        doc = doc.updated(linked.set)
    return erase_from_people(doc, participant_id, now) or linked


def scrub_release(doc: ReleaseDocument | None, participant_id: str) -> Change | None:
    """An erased participant in a published release: their name and affiliation removed."""
    if doc is None:
        return None
    sessions = []
    for snap in doc.sessions:
        stored = snap.dump()
        stored["people"] = [
            {**p, "name": None, "affiliation": None, "erased": True}
            if p.get("participant_id") == participant_id
            else p
            for p in stored.get("people", [])
        ]
        sessions.append(stored)
    return Change(set={"sessions": sessions})


# --- registration's participants ----------------------------------------------------------------

PROJECTED = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "language",
    "country",
    "organisation",
    "category",
    "status",
)
# What an erasure keeps: the status and the groups a participant is counted in.
COUNTED = ("language", "country", "category", "status")


def project_participant(
    doc: ParticipantProjection | None,
    participant: Mapping[str, Any],
    occurred_at: datetime,
    *,
    registers: bool = False,
) -> Change | None:
    """The latest registration snapshot of a participant; older snapshots are ignored.

    An erased participant stays erased: only a confirmation that happened after the erasure (the
    person registered again, `registers`) brings personal data back. A snapshot that arrives after
    the erasure still moves what counts (status, category…) when it is newer than what is held, so
    the document ends the same whether the erasure overtook it or not.
    """
    # When the person last confirmed: kept in any order, so a late erasure can tell a new start.
    registered = (
        {"registered_at": occurred_at}
        if registers
        and (doc is None or doc.registered_at is None or doc.registered_at < occurred_at)
        else {}
    )
    if (
        doc is not None
        and doc.erased
        and not (registers and doc.erased_at is not None and occurred_at > doc.erased_at)
    ):
        parked: dict[str, Any] = dict(registered)
        if doc.status_as_of is None or doc.status_as_of < occurred_at:
            parked |= {name: participant.get(name) for name in COUNTED}
            parked |= {"forum_id": participant["forum_id"], "status_as_of": occurred_at}
        return Change(set=parked) if parked else None
    if doc is not None and doc.as_of and doc.as_of > occurred_at:
        return Change(set=registered) if registered else None
    fields = {name: participant.get(name) for name in PROJECTED}
    fields["forum_id"] = participant["forum_id"]
    fields["as_of"] = occurred_at
    fields["status_as_of"] = occurred_at
    fields["erased"] = False
    return Change(set={**fields, **registered})


def erase_participant(doc: ParticipantProjection | None, erased_at: datetime) -> Change:
    """Forget the participant's personal data. An erasure that arrives after the person registered
    again (a confirmation that happened after it) only records when it happened."""
    if (
        doc is not None
        and not doc.erased
        and doc.registered_at is not None
        and doc.registered_at > erased_at
    ):
        return Change(set={"erased_at": max(erased_at, doc.erased_at or erased_at)})
    return Change(
        set={
            "given_name": None,
            "family_name": None,
            "email": None,
            "phone": None,
            "organisation": None,
            "erased": True,
            "erased_at": erased_at,
            "as_of": erased_at,
        }
    )


# --- invitations and travel support ---------------------------------------------------------

InvitationStatus = Literal["invited", "accepted", "declined"]
INVITATION_MOVES: dict[str | None, set[str]] = {
    None: {"invited"},
    "declined": {"invited"},
    "invited": {"accepted", "declined"},
    "accepted": {"declined"},
}
INVITATION_EVENTS: dict[str, type[Event]] = {
    "invited": PanelistInvited,
    "accepted": PanelistAccepted,
    "declined": PanelistDeclined,
}


def move_invitation(
    doc: SessionDocument | None,
    person_id: str,
    to: InvitationStatus,
    now: datetime,
    travel_support: bool = False,
) -> Decision[str | None]:
    """Invite, accept or decline; the result is why not (None: done, or done already)."""
    if doc is None:
        return Decision("session: no such session")
    person = doc.person(person_id)
    if person is None:
        return Decision("person_id: not on this session")
    current = person.invitation.status if person.invitation else None
    if current == to:
        return Decision(None)
    if to not in INVITATION_MOVES.get(current, set()):
        return Decision(f"invitation: cannot go from {current or 'not invited'} to {to}")
    extra = {"travel_support_requested": travel_support} if to == "invited" else {}
    event = INVITATION_EVENTS[to].model_validate(
        {
            "producer": PRODUCER,
            "forum_id": doc.forum_id,
            "session_code": doc.code,
            "person_id": person_id,
            "participant_id": person.participant_id,
            "role": person.role,
            "country": person.country,
            **extra,
        }
    )
    people = []
    for p in doc.people:
        stored = p.dump()
        if p.person_id == person_id:
            invitation = dict(stored.get("invitation") or {})
            invitation.update(status=to, updated_at=now)
            if to == "invited":
                invitation["travel_support"] = travel_support
            stored["invitation"] = invitation
        people.append(stored)
    return Decision(None, Change(set={"people": people, "updated_at": now}, events=[event]))


def committed(ledger: SupportLedger) -> Decimal:
    return sum((Decimal(c.amount) for c in ledger.commitments), Decimal(0))


def commit_support(
    ledger: SupportLedger, key: str, amount: Decimal, line_amount: Decimal
) -> Decision[tuple[Decimal, str | None]]:
    """Add a commitment to the budget-line ledger unless it would exceed the line.

    The result is (total after, refusal reason). A key already committed is not added again.
    """
    total = committed(ledger)
    if any(c.key == key for c in ledger.commitments):
        return Decision((total, None))
    if total + amount > line_amount:
        left = line_amount - total
        return Decision(
            (
                total,
                f"amount: {amount} exceeds what is left on the panelist-support line ({left} of {line_amount})",
            )
        )
    commitments = [*dump_all(ledger.commitments), {"key": key, "amount": str(amount)}]
    return Decision((total + amount, None), Change(set={"commitments": commitments}))


def cancel_support(ledger: SupportLedger, key: str) -> Decision[tuple[Decimal | None, Decimal]]:
    """Withdraw a commitment; the result is (amount released or None, total still committed)."""
    kept = [c for c in ledger.commitments if c.key != key]
    total = sum((Decimal(c.amount) for c in kept), Decimal(0))
    if len(kept) == len(ledger.commitments):
        return Decision((None, total))
    released = next(Decimal(c.amount) for c in ledger.commitments if c.key == key)
    return Decision((released, total), Change(set={"commitments": dump_all(kept)}))


def record_support(doc: SessionDocument | None, person_id: str, amount: Decimal) -> Change | None:
    """The amount committed, on the person's invitation."""
    if doc is None:
        return None
    people = []
    for p in doc.people:
        stored = p.dump()
        if p.person_id == person_id:
            stored["invitation"] = {
                **(stored.get("invitation") or {}),
                "travel_support_usd": str(amount),
            }
        people.append(stored)
    return Change(set={"people": people}) if people != dump_all(doc.people) else None

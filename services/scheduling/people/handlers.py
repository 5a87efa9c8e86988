"""People's use cases: who is on a session, registration's participants projected here (and
forgotten on erasure), panelist invitations and their travel support."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from services.scheduling.deps import (
    Refused,
    Scheduling,
    on_ledger,
    on_participant,
    on_release,
    on_session,
)
from services.scheduling.documents import ParticipantProjection, SessionDocument, SupportLedger
from services.scheduling.people import rules
from services.scheduling.signups.handlers import drop_signups
from shared.contracts.envelope import derive_id
from shared.contracts.registration import (
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationUpdated,
)
from shared.contracts.scheduling import TravelSupportCancelled, TravelSupportCommitted
from shared.decisions import Change, Decision
from shared.pack import BudgetLine

RegistrationEvent = (
    RegistrationConfirmed | RegistrationPromoted | RegistrationUpdated | RegistrationCancelled
)
BUDGET_LINE = "panelist_support"


def uuid_or_none(participant_id: str | None) -> uuid.UUID | None:
    return uuid.UUID(participant_id) if participant_id else None


CENTS = Decimal("0.01")


async def set_people(deps: Scheduling, code: str, people: list[dict[str, Any]]) -> dict[str, Any]:
    for person in people:
        person["person_id"] = person.get("person_id") or rules.person_id_for(
            deps.forum_id, person.get("email"), person["name"], person.get("affiliation")
        )
        if not person.get("participant_id") and person.get("email"):
            person["participant_id"] = await deps.repository.participant_id_by_email(
                deps.forum_id, person["email"].lower()
            )
    now = deps.clock()
    applied = await deps.repository.sessions.apply(
        deps.session_id(code), None, on_session(lambda doc: rules.set_people(doc, people, now))
    )
    if applied.document is None:
        raise Refused(404, "code: no such session")
    return applied.document


# --- the participants projection (registration's events) -------------------------------------


async def project_registration(deps: Scheduling, event: RegistrationEvent) -> None:
    """registration.confirmed / promoted / updated / cancelled: keep the participant's snapshot.

    Registration's events reach scheduling on separate queues, so an erasure or a cancellation
    may arrive before the confirmation it followed; each completes here what the other left:
    a snapshot arriving after the erasure anonymises the people its e-mail names (the erasure did
    not know it), and a cancellation drops the sign-ups whether or not the erasure came first.

    A confirmation of someone scheduling has not seen (the usual case) is one insert and one
    indexed read (the sessions naming the e-mail); the rest read the projection and update it.
    """
    repo = deps.repository
    participant = event.participant.model_dump(mode="python")
    participant_id = str(event.participant.participant_id)
    participant["participant_id"] = participant_id
    cause = str(event.event_id)
    registers = event.event_type == "registration.confirmed"

    def project(doc: ParticipantProjection | None) -> Change | None:
        return rules.project_participant(doc, participant, event.occurred_at, registers=registers)

    created = None
    if registers and (new := project(None)) is not None:
        created = await repo.participants.create(participant_id, cause, new)
    applied = created or await repo.participants.apply(
        participant_id, cause, on_participant(project)
    )
    document = ParticipantProjection.read(applied.document)
    if document is None:
        return
    # Also after a duplicate: a redelivery finishes what a crash cut short (each step is idempotent).
    if document.erased:
        if participant.get("email"):
            await _forget_on_sessions(deps, participant_id, participant["email"], f"{cause}:erase")
    elif document.status == "confirmed" and document.email:
        email = document.email
        for session_id in await repo.sessions_naming_email(email):
            await repo.sessions.apply(
                session_id,
                f"{cause}:link",
                on_session(lambda doc: rules.link_people(doc, participant_id, email)),
            )
    if document.status in ("cancelled", "rejected"):
        await drop_signups(deps, participant_id, cause)


async def _forget_on_sessions(
    deps: Scheduling, participant_id: str, email: str | None, cause: str
) -> None:
    """Anonymise the participant wherever a session names them: by id, or by an e-mail not yet linked."""
    repo, now = deps.repository, deps.clock()
    for session_id in await repo.sessions_naming(participant_id, email):
        await repo.sessions.apply(
            session_id, cause, on_session(lambda doc: rules.forget(doc, participant_id, email, now))
        )


async def erase_participant(deps: Scheduling, event: ParticipantErased) -> None:
    """participant.erased: no name, e-mail or phone of theirs stays here; counts and roles do.
    Arriving before the participant's confirmation, it leaves a tombstone that the confirmation
    completes (see `project_registration`)."""
    repo = deps.repository
    participant_id, cause = str(event.participant_id), str(event.event_id)
    before = ParticipantProjection.read(await repo.participant(participant_id))
    email = before.email if before else None
    await repo.participants.apply(
        participant_id,
        cause,
        on_participant(lambda doc: rules.erase_participant(doc, event.occurred_at)),
    )
    await _forget_on_sessions(deps, participant_id, email, f"{cause}:erase")
    for release_id in await repo.releases_naming(participant_id):
        await repo.releases.apply(
            release_id,
            f"{cause}:erase",
            on_release(lambda doc: rules.scrub_release(doc, participant_id)),
        )


# --- invitations and travel support ---------------------------------------------------------


async def move_invitation(
    deps: Scheduling,
    code: str,
    person_id: str,
    to: rules.InvitationStatus,
    travel_support: bool = False,
) -> dict[str, Any]:
    now = deps.clock()
    applied = await deps.repository.sessions.apply(
        deps.session_id(code),
        None,
        on_session(lambda doc: rules.move_invitation(doc, person_id, to, now, travel_support)),
    )
    refusal: str | None = applied.result
    if refusal:
        raise Refused(404 if "no such" in refusal or "not on" in refusal else 409, refusal)
    session = SessionDocument.read(applied.document)
    person = session.person(person_id) if session else None
    if to == "declined" and person is not None:
        # Also when the decline was recorded before a crash: the ledger step is idempotent.
        await _cancel_travel_support(deps, code, person.person_id, person.participant_id)
    return person.dump() if person else {}


def support_id(deps: Scheduling, code: str, person_id: str) -> str:
    return str(derive_id(deps.forum_id, BUDGET_LINE, code, person_id))


def _line(deps: Scheduling) -> BudgetLine:
    line = next((line for line in deps.pack.budget.lines if line.code == BUDGET_LINE), None)
    if line is None:
        raise Refused(409, f"budget: the event pack has no '{BUDGET_LINE}' budget line")
    return line


async def _cancel_travel_support(
    deps: Scheduling, code: str, person_id: str, participant_id: str | None
) -> None:
    line_amount = _line(deps).amount.quantize(CENTS)
    key = support_id(deps, code, person_id)

    def decide(ledger: SupportLedger) -> Change | None:
        decided = rules.cancel_support(ledger, key)
        released, total = decided.result
        if decided.change is None or released is None:
            return None
        return Change(
            decided.change.set,
            [
                TravelSupportCancelled(
                    producer=rules.PRODUCER,
                    forum_id=deps.forum_id,
                    support_id=key,
                    session_code=code,
                    person_id=person_id,
                    participant_id=uuid_or_none(participant_id),
                    amount=released.quantize(CENTS),
                    budget_line=BUDGET_LINE,
                    committed_total=total.quantize(CENTS),
                    line_amount=line_amount,
                )
            ],
        )

    await deps.repository.ledgers.apply(f"{deps.forum_id}:{BUDGET_LINE}", None, on_ledger(decide))


async def commit_travel_support(
    deps: Scheduling, code: str, person_id: str, amount: Decimal
) -> dict[str, Any]:
    """Commit panelist-support money to an accepted invitation, never beyond the budget line."""
    repo = deps.repository
    line = _line(deps)
    session = SessionDocument.read(await repo.session(deps.session_id(code)))
    person = session.person(person_id) if session else None
    if person is None:
        raise Refused(404, "person_id: not on this session")
    if (person.invitation.status if person.invitation else None) != "accepted":
        raise Refused(409, "invitation: travel support is committed only to accepted invitations")
    amount, line_amount = amount.quantize(CENTS), line.amount.quantize(CENTS)
    key = support_id(deps, code, person_id)

    def decide(ledger: SupportLedger) -> Decision[tuple[Decimal, str | None]]:
        decided = rules.commit_support(ledger, key, amount, line_amount)
        total, _ = decided.result
        if decided.change is None:
            return decided
        event = TravelSupportCommitted(
            producer=rules.PRODUCER,
            forum_id=deps.forum_id,
            support_id=key,
            session_code=code,
            person_id=person_id,
            participant_id=uuid_or_none(person.participant_id),
            amount=amount,
            budget_line=BUDGET_LINE,
            committed_total=total.quantize(CENTS),
            line_amount=line_amount,
        )
        return Decision(decided.result, Change(decided.change.set, [event]))

    applied = await repo.ledgers.apply(f"{deps.forum_id}:{BUDGET_LINE}", None, on_ledger(decide))
    total, refusal = applied.result
    if refusal:
        raise Refused(409, refusal)
    await repo.sessions.apply(
        deps.session_id(code),
        None,
        on_session(lambda doc: rules.record_support(doc, person_id, amount)),
    )
    return {
        "session_code": code,
        "person_id": person_id,
        "amount": str(amount),
        "committed_total": str(total.quantize(CENTS)),
        "line_amount": str(line_amount),
        "budget_line": BUDGET_LINE,
    }

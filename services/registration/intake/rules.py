"""Registration's rules, free of I/O: what a sign-up, a cancellation or a seat request does.

Participant documents move through
    (new) ─► pending_approval            (category needs the secretariat's approval)
    (new) ─► allocating ─► confirmed | waitlisted
    waitlisted ─► confirmed              (promotion when a seat frees)
    confirmed | waitlisted | pending_approval ─► cancelled
A well-formed but refused sign-up leaves a `rejected` document (or none changed) and a
`registration.rejected` event with reasons the person can act on.

A cancellation that overtakes the sign-up it cancels is *parked* on the document its sign-up
will create (same derived id): a document with `parked_cancellation` and no `status` yet. The
sign-up and the cancellation then meet on one document, whatever order they come in, and the
sign-up's handler completes the parked request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.registration.documents import ALLOCATING, ParticipantDocument
from shared import i18n
from shared.contracts.envelope import Cause, Event, FieldProblem
from shared.contracts.registration import (
    AccreditationRequested,
    Participant,
    ParticipantConsentChanged,
    RegistrationCancelled,
    RegistrationCancelRequested,
    RegistrationRejected,
    RegistrationSubmitted,
    RegistrationUpdated,
)
from shared.decisions import Change, Decision
from shared.pack import EventPack

PRODUCER = "registration"
ACTIVE = frozenset({"pending_approval", ALLOCATING, "confirmed", "waitlisted"})
HOLDS_PLACE = frozenset({"confirmed", "waitlisted"})

# Fields copied from a submission onto the participant document; a change to any of them is an update.
DETAIL_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "organisation",
    "job_title",
    "country",
    "language",
    "category",
)


def problem(field: str, code: str, es: str, en: str) -> FieldProblem:
    return FieldProblem(field=field, code=code, message_es=es, message_en=en)


def refusal_reasons(
    submission: RegistrationSubmitted, pack: EventPack, now: datetime
) -> list[FieldProblem]:
    """Why a well-formed sign-up cannot be accepted; empty when it can."""
    problems: list[FieldProblem] = []
    forum = pack.forum
    if submission.forum_id != forum.id:
        problems.append(
            problem(
                "forum_id",
                "unknown_forum",
                f"Este formulario no corresponde al foro «{forum.name.es}».",
                f"This form does not belong to the forum “{forum.name.en}”.",
            )
        )
    if pack.category(submission.category) is None:
        problems.append(
            problem(
                "category",
                "unknown_category",
                "La categoría de participante no existe en este foro.",
                "The participant category does not exist in this forum.",
            )
        )
    if forum.registration_opens_at is not None and now < forum.registration_opens_at:
        problems.append(
            problem(
                "occurred_at",
                "registration_not_open",
                "La inscripción todavía no está abierta.",
                "Registration is not open yet.",
            )
        )
    if now >= forum.registration_closes:
        # Unset in the pack means "until the forum ends", which is a close too.
        closed, zone = forum.registration_closes, forum.time_zone
        problems.append(
            problem(
                "occurred_at",
                "registration_closed",
                "La inscripción está cerrada desde el "
                f"{i18n.datetime_text(closed, 'es', forum.tz)} ({zone}).",
                f"Registration closed on {i18n.datetime_text(closed, 'en', forum.tz)} ({zone}).",
            )
        )
    if not submission.consents.privacy_policy:
        problems.append(
            problem(
                "consents.privacy_policy",
                "privacy_policy_required",
                "Debe aceptar la política de privacidad para inscribirse.",
                "You must accept the privacy policy to register.",
            )
        )
    return problems


def participant_snapshot(document: ParticipantDocument) -> Participant:
    """What registration's events carry about the person (see `ParticipantDocument.snapshot`)."""
    return document.snapshot()


def _details(submission: RegistrationSubmitted) -> dict[str, Any]:
    return {name: getattr(submission, name) for name in DETAIL_FIELDS}


def refuse(
    document: ParticipantDocument | None,
    submission: RegistrationSubmitted,
    reasons: list[FieldProblem],
    now: datetime,
) -> Change:
    """A refused sign-up: the record of it (new people only) and the event that tells them why."""
    event = RegistrationRejected.caused_by(
        submission,
        producer=PRODUCER,
        forum_id=submission.forum_id,
        submission_id=submission.submission_id,
        participant_id=document.id if document else None,
        email=submission.email,
        given_name=submission.given_name,
        language=submission.language,
        reasons=reasons,
    )
    if document is not None and document.status != "rejected":
        return Change(events=[event])  # an existing registration stays as it was
    fields = {
        **_details(submission),
        "forum_id": submission.forum_id,
        "consents": submission.consents.model_dump(),
        "answers": dict(submission.answers),
        "status": "rejected",
        "rejection_reasons": [reason.model_dump() for reason in reasons],
        "updated_at": now,
    }
    if document is None:
        fields |= {"created_at": now, "submission_ids": [submission.submission_id]}
    return Change(set=fields, events=[event])


@dataclass(frozen=True)
class Intake:
    """The outcome `accept` needs beyond the document: the pack's rule for the category."""

    requires_approval: bool
    # Fields whose change after approval sends the person back to pending approval (pack rule).
    accreditation_fields: tuple[str, ...] = ()


def accept(
    document: ParticipantDocument | None,
    participant_id: str,
    submission: RegistrationSubmitted,
    rule: Intake,
    now: datetime,
) -> Change | None:
    """A valid sign-up: a new participant, a re-registration, or an update of the details."""
    details = _details(submission)
    consents = submission.consents.model_dump()
    submission_ids = list(document.submission_ids) if document else []
    known_submission = submission.submission_id in submission_ids
    if not known_submission:
        submission_ids.append(submission.submission_id)

    if (
        document is None
        or document.status == "rejected"
        or (document.status == "cancelled" and not known_submission)
    ):  # a new participant, or one starting over
        status = "pending_approval" if rule.requires_approval else ALLOCATING
        fields = {
            **details,
            "forum_id": submission.forum_id,
            "consents": consents,
            "answers": dict(submission.answers),
            "submission_ids": submission_ids,
            "status": status,
            "rejection_reasons": [],
            "erased": False,
            "updated_at": now,
        }
        if document is None:
            fields["created_at"] = now
        events: list[Event] = []
        if status == "pending_approval":
            events.append(
                AccreditationRequested.caused_by(
                    submission,
                    producer=PRODUCER,
                    participant=participant_snapshot(
                        ParticipantDocument.model_validate({"_id": participant_id, **fields})
                    ),
                )
            )
        return Change(set=fields, events=events)

    changed = [name for name, value in details.items() if document.detail(name) != value]
    if document.consents != consents:
        changed.append("consents")
    if document.answers != dict(submission.answers):
        changed.append("answers")
    if not changed and known_submission:
        return None
    fields = {name: details[name] for name in changed if name in details}
    if "consents" in changed:
        fields["consents"] = consents
    if "answers" in changed:
        fields["answers"] = dict(submission.answers)
    fields |= {"submission_ids": submission_ids, "updated_at": now}
    if "category" in changed and document.status in HOLDS_PLACE | {ALLOCATING}:
        # A new category is a new seat request; the old place is given back (its release
        # marker is added to this change, see `domain_seats.with_releases`).
        fields |= {"status": "pending_approval" if rule.requires_approval else ALLOCATING}
    elif (
        rule.requires_approval
        and document.status in HOLDS_PLACE | {ALLOCATING}
        and set(changed) & set(rule.accreditation_fields)
    ):
        # An accredited person changed what was accredited: the secretariat looks again.
        fields |= {
            "status": "pending_approval",
            "accreditation": {"status": "pending", "requested_at": now},
        }
    events = []
    if changed:
        updated = document.updated(fields)
        events.append(
            RegistrationUpdated.caused_by(
                submission,
                producer=PRODUCER,
                participant=participant_snapshot(updated),
                changed_fields=changed,
            )
        )
        if fields.get("status") == "pending_approval":
            events.append(
                AccreditationRequested.caused_by(
                    submission, producer=PRODUCER, participant=participant_snapshot(updated)
                )
            )
        if "consents" in changed:
            # Consents travel on their own event too: consumers follow one event for every path.
            before = document.consents
            events.append(
                ParticipantConsentChanged.caused_by(
                    submission,
                    producer=PRODUCER,
                    forum_id=document.forum_id,
                    participant_id=document.id,
                    consents=submission.consents,
                    changed=[k for k, v in consents.items() if before.get(k) != v],
                )
            )
    return Change(set=fields, events=events)


def is_parked(document: ParticipantDocument | None) -> bool:
    """A document holding only a cancellation that waits for its sign-up: no participant yet."""
    return document is not None and document.status is None


def parked_request(document: ParticipantDocument | None) -> dict[str, Any] | None:
    """The cancellation parked on this document and not yet completed, if any."""
    return document.parked_cancellation if document is not None else None


def accept_or_resume(
    document: ParticipantDocument | None,
    participant_id: str,
    submission: RegistrationSubmitted,
    rule: Intake,
    now: datetime,
) -> Decision[dict[str, Any] | None]:
    """`accept`, on a document that may hold a parked cancellation: a sign-up landing on one is a
    new participant; the parked request (kept until completed) comes back to be completed."""
    current = None if is_parked(document) else document
    return Decision(
        parked_request(document), accept(current, participant_id, submission, rule, now)
    )


def park(
    document: ParticipantDocument | None, request: RegistrationCancelRequested, now: datetime
) -> Change | None:
    """Keep a cancellation whose sign-up has not arrived; the first one parked stays. The
    document may exist already, holding only a fence (`domain_seats.fence`)."""
    if document is not None and document.parked_cancellation is not None:
        return None
    return Change(set={"parked_cancellation": request.model_dump(mode="json"), "parked_at": now})


def cancel_or_park(
    document: ParticipantDocument | None, request: RegistrationCancelRequested, now: datetime
) -> Decision[bool]:
    """Cancel the registration, or park the request until its sign-up arrives (result: parked)."""
    if document is None or is_parked(document):
        return Decision(True, park(document, request, now))
    return Decision(False, cancel(document, request, now))


def complete_parked(
    document: ParticipantDocument | None,
    request: RegistrationCancelRequested,
    submission: RegistrationSubmitted,
    now: datetime,
) -> Change | None:
    """The sign-up a parked cancellation waited for has arrived: a cancellation made after it
    cancels it; an older one (the person signed up again since) is dropped. Either way the
    parked request is done."""
    if document is None or parked_request(document) is None:
        return None
    done = Change(set={"parked_cancellation": None})
    if request.occurred_at < submission.occurred_at:
        return done
    return done.then(cancel(document, request, now))


class SeatCause(Cause, Protocol):
    """What a seat decision is announced as caused by: the sign-up, or the approval after it."""

    @property
    def submission_id(self) -> str: ...


def cancel(
    document: ParticipantDocument | None, request: RegistrationCancelRequested, now: datetime
) -> Change | None:
    if document is None or document.status not in ACTIVE:
        return None
    previous = "confirmed" if document.status == ALLOCATING else document.status
    return Change(
        set={
            "status": "cancelled",
            "previous_status": previous,
            "cancel_reason": request.reason,
            "updated_at": now,
        },
        events=[
            RegistrationCancelled.caused_by(
                request,
                producer=PRODUCER,
                participant=document.updated({"status": "cancelled"}).snapshot(),
                previous_status=previous,
                reason=request.reason,
            )
        ],
    )

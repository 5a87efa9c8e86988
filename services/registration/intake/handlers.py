"""Registration's use cases: plain async functions of a message and the service's dependencies.

Each step below is idempotent on its own (keyed by the consumed event's id), so a message
redelivered after a crash at any point completes the remaining steps and repeats none. Seats of
capacity-limited categories are `seats/handlers.py`'s.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

import structlog
from pymongo.errors import DuplicateKeyError

from services.registration.badges import rules as domain_badges
from services.registration.deps import (
    Registration,
    category_of,
    on_participant,
)
from services.registration.documents import ALLOCATING, ParticipantDocument
from services.registration.intake import rules as domain
from services.registration.seats import handlers as seats
from services.registration.seats import rules as domain_seats
from services.registration.seats.rules import Seat
from shared.badges import new_token_id
from shared.contracts.envelope import FieldProblem, derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.errors import InvalidMessage
from shared.persistence.aggregates import UNREAD

log = structlog.get_logger("foro.registration")


async def register_submission(submission: RegistrationSubmitted, deps: Registration) -> str:
    """Accept, update or refuse a sign-up; returns the participant id.

    A person not seen before costs at most two round trips (`_admit_new`); a known one, a
    duplicate or a sign-up a cancellation overtook goes the general way (`_register_known`).
    """
    now = deps.clock()
    reasons = domain.refusal_reasons(submission, deps.pack, now)
    new_id = str(derive_id(submission.forum_id, submission.email))
    created, seat = await _admit_new(submission, deps, new_id, reasons, now)
    if created:
        return new_id
    if seat is not None:
        await _undo_seat_taken_as_new(deps, new_id, submission.category, seat)
    return await _register_known(submission, deps, reasons, now)


async def _admit_new(
    submission: RegistrationSubmitted,
    deps: Registration,
    participant_id: str,
    reasons: list[FieldProblem],
    now: datetime,
) -> tuple[bool, Seat | None]:
    """The hot path, for a person not seen before: the seat first (one atomic update of the
    category's ledger), then the participant written ONCE with its final status, badge and
    events. Nothing is read: the insert itself proves the person is new (the derived id, the
    e-mail and the submission id are unique keys).

    Returns whether the participant was created, and the ledger place taken for
    `participant_id` by this call (for `_undo_seat_taken_as_new` when it was not new).
    """
    repo, cause = deps.repository, str(submission.event_id)
    if reasons:
        refused = domain.refuse(None, submission, reasons, now)
        created = await repo.participants.create(participant_id, cause, refused)
        if created is not None:
            log.info(
                "sign-up refused", participant_id=participant_id, reasons=[r.code for r in reasons]
            )
        return created is not None, None
    category = category_of(deps, submission.category)
    rule = domain.Intake(category.requires_approval, category.accreditation_fields)
    change = domain.accept(None, participant_id, submission, rule, now)
    assert change is not None  # a new participant always changes something
    seat: Seat | None = None
    ledger = None
    if not category.requires_approval:
        if category.capacity is None:
            seat = Seat(True)
        else:
            seat, ledger = await seats.take(
                deps,
                submission.forum_id,
                category.code,
                category.capacity,
                participant_id,
                known_ok=True,
            )
            if seat is None:  # recorded lately: known (a redelivery, a duplicate)
                return False, None
        new = ParticipantDocument.model_validate({"_id": participant_id, **change.set})
        change = change.then(domain_seats.seat_decided(new, seat, submission, now).change)
        admitted = ParticipantDocument.model_validate({"_id": participant_id, **change.set})
        change = change.then(domain_badges.sync(admitted, False, new_token_id(), now))
    created = await repo.participants.create(participant_id, cause, change)
    if created is None:
        return False, seat if ledger is not None else None
    if seat is not None and ledger is not None:
        await seats.recorded(deps, submission.forum_id, category.code, seat, ledger)
    return True, None


async def _undo_seat_taken_as_new(
    deps: Registration, participant_id: str, category: str, seat: Seat
) -> None:
    """`_admit_new` took `seat` in `category` for `participant_id` before learning the person
    was not new: it goes back at once, unless that participant records it (a concurrent delivery
    of the same sign-up inserted it). A known person asking for a place again gets one from
    `_register_known`, which finds their open take or takes anew."""
    await seats.give_back(deps, participant_id, category, seat, keep_allocating=False)


async def _register_known(
    submission: RegistrationSubmitted,
    deps: Registration,
    reasons: list[FieldProblem],
    now: datetime,
) -> str:
    """A sign-up of someone foro may know: read the participant it names, then decide."""
    repo = deps.repository
    cause = str(submission.event_id)
    derived_id = str(derive_id(submission.forum_id, submission.email))
    for _ in range(3):  # identity races: another submission took this e-mail meanwhile
        current = await repo.find_for_submission(
            submission.forum_id, submission.submission_id, submission.email
        )
        # Nobody by submission or e-mail: the derived id, where a parked cancellation may wait.
        participant_id = current["_id"] if current else derived_id
        try:
            if reasons:
                refused = await repo.participants.apply(
                    participant_id,
                    cause,
                    on_participant(
                        lambda doc: domain.refuse(
                            None if domain.is_parked(doc) else doc, submission, reasons, now
                        )
                    ),
                    current=current if current else UNREAD,
                )
                log.info(
                    "sign-up refused",
                    participant_id=participant_id,
                    reasons=[r.code for r in reasons],
                )
                await seats.release_left_places(deps, refused.document, submission)
                return participant_id
            category = category_of(deps, submission.category)
            rule = domain.Intake(category.requires_approval, category.accreditation_fields)
            applied = await repo.participants.apply(
                participant_id,
                cause,
                on_participant(
                    partial(
                        domain.accept_or_resume,
                        participant_id=participant_id,
                        submission=submission,
                        rule=rule,
                        now=now,
                    )
                ),
                current=current if current else UNREAD,
            )
            break
        except DuplicateKeyError:
            continue
    else:
        raise InvalidMessage("email: another participant of this forum already uses this e-mail")

    document = ParticipantDocument.read(applied.document)
    if document is None:
        return participant_id
    # A place left (a new category, or one left by a step a crash interrupted) is counted out,
    # before a new one is asked for.
    assert applied.document is not None
    if document.status == ALLOCATING:
        await seats.allocate(deps, applied.document, submission, now)
    else:
        await seats.release_left_places(deps, applied.document, submission)
    if parked := domain.parked_request(document):
        await _complete_parked_cancellation(
            deps, participant_id, RegistrationCancelRequested.model_validate(parked), submission
        )
    return participant_id


async def _complete_parked_cancellation(
    deps: Registration,
    participant_id: str,
    request: RegistrationCancelRequested,
    submission: RegistrationSubmitted,
) -> None:
    """A cancellation that arrived before this sign-up: applied now if it came after it."""
    now = deps.clock()
    applied = await deps.repository.participants.apply(
        participant_id,
        f"{request.event_id}:parked",
        on_participant(lambda doc: domain.complete_parked(doc, request, submission, now)),
    )
    await seats.release_left_places(deps, applied.document, request)
    document = ParticipantDocument.read(applied.document)
    if applied.change is None or document is None or document.status != "cancelled":
        log.info(
            "parked cancellation older than the sign-up: dropped", participant_id=participant_id
        )
        return
    log.info("parked cancellation completed", participant_id=participant_id)


async def cancel_registration(request: RegistrationCancelRequested, deps: Registration) -> str:
    repo, now = deps.repository, deps.clock()
    participant_id = (
        str(request.participant_id)
        if request.participant_id
        else await repo.find_id(request.forum_id, email=request.email)
    )
    if participant_id is None:
        assert request.email is not None  # the contract asks for one of the two
        participant_id = str(derive_id(request.forum_id, request.email))  # its sign-up's id
    # The sign-up it cancels may not have arrived yet (events race): then the request is parked
    # on the document that sign-up will create, and the sign-up completes it.
    applied = await repo.participants.apply(
        participant_id,
        str(request.event_id),
        on_participant(lambda doc: domain.cancel_or_park(doc, request, now)),
    )
    if applied.result and applied.change is not None:
        log.info("cancellation parked until its sign-up arrives", participant_id=participant_id)
        return participant_id
    # Also on a redelivery: a release a crash interrupted is completed now.
    await seats.release_left_places(deps, applied.document, request)
    return participant_id

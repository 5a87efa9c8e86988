"""Registration's use cases: plain async functions of a message and the service's dependencies.

Each step below is idempotent on its own (keyed by the consumed event's id), so a message
redelivered after a crash at any point completes the remaining steps and repeats none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError

from services.registration import domain, domain_badges
from services.registration.documents import (
    ALLOCATING,
    DelegationDocument,
    ParticipantDocument,
    SeatLedger,
)
from services.registration.repository import ParticipantRepository
from shared.badges import new_token_id
from shared.contracts.envelope import Cause, FieldProblem, derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.errors import InvalidMessage
from shared.pack import Category, EventPack
from shared.persistence.aggregates import UNREAD

log = structlog.get_logger("foro.registration")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Registration:
    """Everything registration's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ParticipantRepository
    clock: Callable[[], datetime] = utc_now


def on_participant[R](
    rule: Callable[[ParticipantDocument | None], R],
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over the participant model, as the store calls it: with what it read."""
    return lambda stored: rule(ParticipantDocument.read(stored))


def on_delegation[R](
    rule: Callable[[DelegationDocument | None], R],
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over the delegation model, as the store calls it: with what it read."""
    return lambda stored: rule(DelegationDocument.read(stored))


def on_ledger[R](rule: Callable[[SeatLedger | None], R]) -> Callable[[dict[str, Any] | None], R]:
    return lambda stored: rule(None if stored is None else SeatLedger.read(stored))


def category_of(deps: Registration, code: str) -> Category:
    """The pack's category a stored or accepted document names (refusal_reasons checked it)."""
    category = deps.pack.category(code)
    if category is None:
        raise InvalidMessage(f"category: {code!r} is not a category of this forum's pack")
    return category


async def register_submission(submission: RegistrationSubmitted, deps: Registration) -> str:
    """Accept, update or refuse a sign-up; returns the participant id.

    A person not seen before costs at most two round trips (`_admit_new`); a known one, a
    duplicate or a sign-up a cancellation overtook goes the general way (`_register_known`).
    """
    now = deps.clock()
    reasons = domain.refusal_reasons(submission, deps.pack, now)
    new_id = str(derive_id(submission.forum_id, submission.email))
    created, seated = await _admit_new(submission, deps, new_id, reasons, now)
    if created:
        return new_id
    return await _register_known(submission, deps, reasons, now, seated_as_new=seated)


async def _admit_new(
    submission: RegistrationSubmitted,
    deps: Registration,
    participant_id: str,
    reasons: list[FieldProblem],
    now: datetime,
) -> tuple[bool, str | None]:
    """The hot path, for a person not seen before: the seat first (one atomic update of the
    category's ledger), then the participant written ONCE with its final status, badge and
    events. Nothing is read: the insert itself proves the person is new (the derived id, the
    e-mail and the submission id are unique keys).

    Returns whether the participant was created, and the category whose ledger now holds
    `participant_id` because of this call (for `_register_known` to undo when it was not new).
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
    seated: str | None = None
    if not category.requires_approval:
        if category.capacity is None:
            seat = domain.Seat(True)
        else:
            ledger = await repo.take_seat(
                ledger_id(submission.forum_id, submission.category),
                participant_id,
                category.capacity,
            )
            seat = domain.seat_from_ledger(SeatLedger.read(ledger), participant_id)
            seated = submission.category
        new = ParticipantDocument.model_validate({"_id": participant_id, **change.set})
        change = change.then(domain.seat_decided(new, seat, submission, now))
        admitted = ParticipantDocument.model_validate({"_id": participant_id, **change.set})
        change = change.then(domain_badges.sync(admitted, False, new_token_id(), now))
    created = await repo.participants.create(participant_id, cause, change)
    return created is not None, seated


async def _register_known(
    submission: RegistrationSubmitted,
    deps: Registration,
    reasons: list[FieldProblem],
    now: datetime,
    *,
    seated_as_new: str | None,
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
                await repo.participants.apply(
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
                await _undo_seat_taken_as_new(
                    deps, derived_id, seated_as_new, None, submission, now
                )
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
    await _undo_seat_taken_as_new(deps, derived_id, seated_as_new, document, submission, now)
    if document is None:
        return participant_id
    if document.released_category:
        await _release_seat(deps, participant_id, document.released_category, submission, now)
    if document.status == ALLOCATING:
        assert applied.document is not None
        await _allocate_seat(deps, applied.document, submission, now)
    if parked := domain.parked_request(document):
        await _complete_parked_cancellation(
            deps, participant_id, RegistrationCancelRequested.model_validate(parked), submission
        )
    return participant_id


async def _undo_seat_taken_as_new(
    deps: Registration,
    participant_id: str,
    category: str | None,
    document: ParticipantDocument | None,
    submission: RegistrationSubmitted,
    now: datetime,
) -> None:
    """`_admit_new` took a seat in `category` for `participant_id` before learning the person was
    not new: keep it if that participant holds or is being given a place there, else free it."""
    if category is None:
        return
    keeps = (
        document is not None
        and document.id == participant_id
        and document.category == category
        and document.status in domain.HOLDS_PLACE | {ALLOCATING}
    )
    if not keeps:
        await _release_seat(deps, participant_id, category, submission, now)


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
    document = ParticipantDocument.read(applied.document)
    if applied.change is None or document is None or document.status != "cancelled":
        log.info(
            "parked cancellation older than the sign-up: dropped", participant_id=participant_id
        )
        return
    log.info("parked cancellation completed", participant_id=participant_id)
    if document.previous_status in domain.HOLDS_PLACE and document.category:
        await _release_seat(deps, participant_id, document.category, request, now)


async def _allocate_seat(
    deps: Registration, stored: dict[str, Any], cause: domain.SeatCause, now: datetime
) -> None:
    """Give an accepted participant (`stored` as just written) their seat or waitlist place."""
    repo = deps.repository
    document = ParticipantDocument.model_validate(stored)
    participant_id, category = document.id, document.category
    assert category is not None and document.forum_id is not None  # an accepted participant
    capacity = category_of(deps, category).capacity
    if capacity is None:
        seat = domain.Seat(True)
    else:
        # Idempotent by membership, not by cause: one cause may take a seat twice (a category
        # change releases one seat and asks for another).
        ledger = await repo.take_seat(
            ledger_id(document.forum_id, category), participant_id, capacity
        )
        seat = domain.seat_from_ledger(SeatLedger.read(ledger), participant_id)
    await repo.participants.apply(
        participant_id,
        f"{cause.event_id}:seat:{category}",
        on_participant(lambda doc: domain.seat_decided(doc, seat, cause, now)),
        current=stored,
    )


async def _release_seat(
    deps: Registration,
    participant_id: str,
    category: str,
    cause: Cause,
    now: datetime,
) -> None:
    """Free a seat or waitlist place and promote whoever it goes to, exactly once per cause."""
    repo = deps.repository
    rule = deps.pack.category(category)
    if rule is None or rule.capacity is None:
        return
    capacity = rule.capacity
    key = f"{cause.event_id}:release:{participant_id}"
    applied = await repo.ledgers.apply(
        ledger_id(deps.pack.forum.id, category),
        key,
        on_ledger(lambda ledger: domain.release(ledger, participant_id, capacity, key)),
    )
    promoted: list[str] = (
        SeatLedger.read(applied.document).promotions.get(key, [])
        if applied.duplicate
        else applied.result
    )
    for promoted_id in promoted:
        result = await repo.participants.apply(
            promoted_id,
            f"{key}:promote",
            on_participant(lambda doc: domain.promote(doc, cause, participant_id, now)),
        )
        if result.change is None and not result.duplicate:
            # Cancelled before the promotion reached them: pass the seat on.
            await _release_seat(deps, promoted_id, category, cause, now)


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
    document = ParticipantDocument.read(applied.document)
    if (
        document is not None
        and document.status == "cancelled"
        and document.previous_status in domain.HOLDS_PLACE
        and document.category
    ):
        await _release_seat(deps, participant_id, document.category, request, now)
    return participant_id


def ledger_id(forum_id: str, category: str) -> str:
    return f"{forum_id}:{category}"

"""Registration's use cases: plain async functions of a message and the service's dependencies.

Each step below is idempotent on its own (keyed by the consumed event's id), so a message
redelivered after a crash at any point completes the remaining steps and repeats none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError

from services.registration import domain, domain_badges
from services.registration.repository import ParticipantRepository
from shared.badges import new_token_id
from shared.contracts.envelope import FieldProblem, derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.decisions import Decision
from shared.errors import InvalidMessage
from shared.pack import EventPack
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
    category = deps.pack.category(submission.category)
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
            seat = domain.seat_from_ledger(domain.SeatLedger.from_document(ledger), participant_id)
            seated = submission.category
        document = {"_id": participant_id, **change.set}
        change = change.then(domain.seat_decided(document, seat, submission, now))
        document |= change.set
        change = change.then(domain_badges.sync(document, False, new_token_id(), now))
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
                    lambda doc: domain.refuse(
                        None if domain.is_parked(doc) else doc, submission, reasons, now
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
            category = deps.pack.category(submission.category)
            rule = domain.Intake(category.requires_approval, category.accreditation_fields)
            applied = await repo.participants.apply(
                participant_id,
                cause,
                lambda doc, pid=participant_id, rule=rule: domain.accept_or_resume(
                    doc, pid, submission, rule, now
                ),
                current=current if current else UNREAD,
            )
            break
        except DuplicateKeyError:
            continue
    else:
        raise InvalidMessage("email: another participant of this forum already uses this e-mail")

    document = applied.document
    await _undo_seat_taken_as_new(deps, derived_id, seated_as_new, document, submission, now)
    if document is None:
        return participant_id
    if released := document.get("released_category"):
        await _release_seat(deps, participant_id, released, submission, now)
    if document["status"] == domain.ALLOCATING:
        await _allocate_seat(deps, document, submission, now)
    if parked := domain.parked_request(document):
        await _complete_parked_cancellation(
            deps, participant_id, RegistrationCancelRequested.model_validate(parked), submission
        )
    return participant_id


async def _undo_seat_taken_as_new(
    deps: Registration,
    participant_id: str,
    category: str | None,
    document: dict[str, Any] | None,
    submission: RegistrationSubmitted,
    now: datetime,
) -> None:
    """`_admit_new` took a seat in `category` for `participant_id` before learning the person was
    not new: keep it if that participant holds or is being given a place there, else free it."""
    if category is None:
        return
    keeps = (
        document is not None
        and document["_id"] == participant_id
        and document.get("category") == category
        and document.get("status") in domain.HOLDS_PLACE | {domain.ALLOCATING}
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
        lambda doc: domain.complete_parked(doc, request, submission, now),
    )
    document = applied.document or {}
    if applied.change is None or document.get("status") != "cancelled":
        log.info(
            "parked cancellation older than the sign-up: dropped", participant_id=participant_id
        )
        return
    log.info("parked cancellation completed", participant_id=participant_id)
    if document.get("previous_status") in domain.HOLDS_PLACE:
        await _release_seat(deps, participant_id, document["category"], request, now)


async def _allocate_seat(
    deps: Registration, document: dict[str, Any], cause: RegistrationSubmitted, now: datetime
) -> None:
    repo = deps.repository
    participant_id, category = document["_id"], document["category"]
    capacity = deps.pack.category(category).capacity
    if capacity is None:
        seat = domain.Seat(True)
    else:
        # Idempotent by membership, not by cause: one cause may take a seat twice (a category
        # change releases one seat and asks for another).
        ledger = await repo.take_seat(
            ledger_id(document["forum_id"], category), participant_id, capacity
        )
        seat = domain.seat_from_ledger(domain.SeatLedger.from_document(ledger), participant_id)
    await repo.participants.apply(
        participant_id,
        f"{cause.event_id}:seat:{category}",
        lambda doc: domain.seat_decided(doc, seat, cause, now),
        current=document,
    )


async def _release_seat(
    deps: Registration, participant_id: str, category: str, cause: Any, now: datetime
) -> None:
    """Free a seat or waitlist place and promote whoever it goes to, exactly once per cause."""
    repo = deps.repository
    rule = deps.pack.category(category)
    if rule is None or rule.capacity is None:
        return
    forum_id = deps.pack.forum.id
    key = f"{cause.event_id}:release:{participant_id}"

    def decide(ledger: dict[str, Any] | None) -> Decision[list[str]]:
        change, who = domain.release(ledger, participant_id, rule.capacity, key)
        return Decision(list(who), change)

    applied = await repo.ledgers.apply(ledger_id(forum_id, category), key, decide)
    promoted: list[str] = (
        list((applied.document or {}).get("promotions", {}).get(key, []))
        if applied.duplicate
        else applied.result
    )
    for promoted_id in promoted:
        result = await repo.participants.apply(
            promoted_id,
            f"{key}:promote",
            lambda doc: domain.promote(doc, cause, participant_id, now),
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
        participant_id, str(request.event_id), lambda doc: domain.cancel_or_park(doc, request, now)
    )
    if applied.result and applied.change is not None:
        log.info("cancellation parked until its sign-up arrives", participant_id=participant_id)
        return participant_id
    document = applied.document or {}
    if (
        document.get("status") == "cancelled"
        and document.get("previous_status") in domain.HOLDS_PLACE
    ):
        await _release_seat(deps, participant_id, document["category"], request, now)
    return participant_id


def ledger_id(forum_id: str, category: str) -> str:
    return f"{forum_id}:{category}"

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

from services.registration import domain
from services.registration.repository import ParticipantRepository
from shared.contracts.envelope import derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.decisions import Decision
from shared.errors import InvalidMessage
from shared.pack import EventPack

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
    """Accept, update or refuse a sign-up; returns the participant id."""
    repo, now = deps.repository, deps.clock()
    cause = str(submission.event_id)
    reasons = domain.refusal_reasons(submission, deps.pack, now)
    for _ in range(3):  # identity races: another submission took this e-mail meanwhile
        current = await repo.find_for_submission(
            submission.forum_id, submission.submission_id, submission.email
        )
        participant_id = (
            current["_id"] if current else str(derive_id(submission.forum_id, submission.email))
        )
        try:
            if reasons:
                await repo.participants.apply(
                    participant_id,
                    cause,
                    lambda doc: domain.refuse(doc, submission, reasons, now),
                    current=current,
                )
                log.info(
                    "sign-up refused",
                    participant_id=participant_id,
                    reasons=[r.code for r in reasons],
                )
                return participant_id
            category = deps.pack.category(submission.category)
            rule = domain.Intake(
                requires_approval=category.requires_approval,
                accreditation_fields=category.accreditation_fields,
            )
            applied = await repo.participants.apply(
                participant_id,
                cause,
                lambda doc, pid=participant_id, rule=rule: domain.accept(
                    doc, pid, submission, rule, now
                ),
                current=current,
            )
            break
        except DuplicateKeyError:
            continue
    else:
        raise InvalidMessage("email: another participant of this forum already uses this e-mail")

    document = applied.document
    if document is None:
        return participant_id
    if released := document.get("released_category"):
        await _release_seat(deps, participant_id, released, submission, now)
    if document["status"] == domain.ALLOCATING:
        await _allocate_seat(deps, document, submission, now)
    if current is None:
        await _complete_parked_cancellation(deps, participant_id, submission)
    return participant_id


async def _complete_parked_cancellation(
    deps: Registration, participant_id: str, submission: RegistrationSubmitted
) -> None:
    """A cancellation that arrived before this sign-up: applied now if it came after it."""
    parked = await deps.repository.parked_cancellation(participant_id)
    if parked is None:
        return
    request = RegistrationCancelRequested.model_validate(parked)
    if request.occurred_at >= submission.occurred_at:
        await cancel_registration(request, deps)
        log.info("parked cancellation completed", participant_id=participant_id)
    else:
        log.info(
            "parked cancellation older than the sign-up: dropped", participant_id=participant_id
        )
    await deps.repository.drop_parked_cancellation(participant_id)


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
    if participant_id is None and request.email is not None:
        participant_id = str(
            derive_id(request.forum_id, request.email)
        )  # the id its sign-up will get
    if participant_id is None or await repo.get(participant_id) is None:
        # The sign-up it cancels may not have arrived yet (events race): park the request; the
        # sign-up completes it. Nothing else depends on it meanwhile.
        await repo.park_cancellation(str(participant_id), request.model_dump(mode="json"))
        log.info("cancellation parked until its sign-up arrives", participant_id=participant_id)
        return str(participant_id)
    applied = await repo.participants.apply(
        participant_id, str(request.event_id), lambda doc: domain.cancel(doc, request, now)
    )
    document = applied.document or {}
    if (
        document.get("status") == "cancelled"
        and document.get("previous_status") in domain.HOLDS_PLACE
    ):
        await _release_seat(deps, participant_id, document["category"], request, now)
    return participant_id


def ledger_id(forum_id: str, category: str) -> str:
    return f"{forum_id}:{category}"

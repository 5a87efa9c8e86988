"""Seats of a capacity-limited category on an in-memory repository: the ledger counts, the
participants say who holds what, and every step a crash can interrupt is completed later
(services/registration/domain_seats.py). The integration tests prove the real pipelines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.registration.deps import Registration, ledger_id, on_participant
from services.registration.intake import handlers
from services.registration.intake.rules import cancel
from services.registration.seats import handlers as seats
from services.registration.seats import reconciler as seat_reconciler
from services.registration.seats.handlers import GRACE
from shared.contracts.envelope import derive_id
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.support.factories import cancel_request, signup
from tests.support.fakes import FakeParticipantRepository

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def deps(capacity: int) -> Registration:
    overrides: dict[str, object] = {
        "forum.start_date": (NOW + timedelta(days=30)).date().isoformat(),
        f"categories[{CIVIL_SOCIETY}].capacity": capacity,
    }
    return Registration(
        pack=load_pack(overrides=overrides), repository=FakeParticipantRepository(), clock=Clock()
    )


def later(registration: Registration) -> None:
    """Past the grace the reconciler gives a step under way."""
    assert isinstance(registration.clock, Clock)
    registration.clock.now += GRACE + timedelta(seconds=1)


def submitted(**overrides: object) -> RegistrationSubmitted:
    body = signup(**{"occurred_at": NOW.isoformat(), **overrides})
    return RegistrationSubmitted.model_validate(body, strict=False)


def cancellation(participant_id: str) -> RegistrationCancelRequested:
    return RegistrationCancelRequested.model_validate(cancel_request(participant_id), strict=False)


def document(registration: Registration, participant_id: str) -> dict:
    return registration.repository.participants.documents[participant_id]


def status_of(registration: Registration, participant_id: str) -> str:
    return document(registration, participant_id)["status"]


def ledger(registration: Registration) -> dict:
    return registration.repository.ledgers.documents[
        ledger_id(registration.pack.forum.id, "civil_society")
    ]


def places(registration: Registration) -> tuple[int, int]:
    found = ledger(registration)
    return found.get("seats", 0), found.get("waiting", 0)


def promoted(registration: Registration) -> list[str]:
    return [
        entry["body"]["participant"]["participant_id"]
        for entry in registration.repository.participants.published()
        if entry["type"] == "registration.promoted"
    ]


async def sign_up(registration: Registration, count: int) -> list[str]:
    return [await handlers.register_submission(submitted(), registration) for _ in range(count)]


async def test_waiters_get_tickets_in_arrival_order_and_positions_from_the_counters() -> None:
    registration = deps(capacity=1)
    ids = await sign_up(registration, 4)
    assert [status_of(registration, pid) for pid in ids] == ["confirmed", *["waitlisted"] * 3]
    assert [document(registration, pid)["seat_ticket"] for pid in ids] == [1, 2, 3, 4]
    positions = [
        entry["body"]["position"]
        for entry in registration.repository.participants.published()
        if entry["type"] == "registration.waitlisted"
    ]
    assert positions == [1, 2, 3]
    assert places(registration) == (1, 3)
    # Each sign-up's take was recorded, and the next write of the ledger dropped it.
    assert [take["participant_id"] for take in ledger(registration)["open"]] == [ids[-1]]


async def test_a_crash_between_the_seat_and_the_insert_costs_no_second_place() -> None:
    registration = deps(capacity=1)
    submission = submitted()
    participant_id = str(derive_id(submission.forum_id, submission.email))
    # The first delivery took the seat, then the process died before the insert.
    await seats.take(registration, submission.forum_id, "civil_society", 1, participant_id)
    assert places(registration) == (1, 0)

    assert await handlers.register_submission(submission, registration) == participant_id
    assert status_of(registration, participant_id) == "confirmed"
    assert places(registration) == (1, 0)  # the redelivery found its open take


async def test_a_take_whose_sign_up_never_comes_back_is_given_back_and_its_seat_promoted() -> None:
    registration = deps(capacity=1)
    lost = str(uuid.uuid4())
    await seats.take(registration, registration.pack.forum.id, "civil_society", 1, lost)
    [waiting] = await sign_up(registration, 1)
    assert status_of(registration, waiting) == "waitlisted" and places(registration) == (1, 1)

    await seat_reconciler.reconcile(
        registration
    )  # within the grace: the sign-up may still be under way
    assert places(registration) == (1, 1)

    later(registration)
    await seat_reconciler.reconcile(registration)
    assert status_of(registration, waiting) == "confirmed"
    assert promoted(registration) == [waiting]
    assert places(registration) == (1, 0)
    # The fence: the lost sign-up, should it come back, cannot record the take it had.
    assert document(registration, lost)["voided_seats"] == ["civil_society:1"]
    assert "status" not in document(registration, lost)


async def test_a_late_sign_up_after_its_take_was_given_back_asks_again() -> None:
    registration = deps(capacity=2)
    submission = submitted()
    participant_id = str(derive_id(submission.forum_id, submission.email))
    await seats.take(registration, submission.forum_id, "civil_society", 2, participant_id)
    later(registration)
    await seat_reconciler.reconcile(registration)
    assert places(registration) == (0, 0)

    assert await handlers.register_submission(submission, registration) == participant_id
    assert status_of(registration, participant_id) == "confirmed"
    assert document(registration, participant_id)["seat_ticket"] > 1  # a new take
    assert places(registration) == (1, 0)


async def test_a_release_a_crash_interrupted_is_completed_by_the_redelivery_once() -> None:
    registration = deps(capacity=1)
    seated, waiting = await sign_up(registration, 2)
    request = cancellation(seated)
    # The cancellation was written (with its release marker), then the process died.
    await registration.repository.participants.apply(
        seated, str(request.event_id), on_participant(lambda doc: cancel(doc, request, NOW))
    )
    assert document(registration, seated)["seat_releases"][0]["ticket"] == 1
    assert places(registration) == (1, 1)

    for _ in range(2):  # redelivered, then once more
        await handlers.cancel_registration(request, registration)
    assert status_of(registration, waiting) == "confirmed"
    assert promoted(registration) == [waiting]
    assert places(registration) == (1, 0)
    assert document(registration, seated)["seat_releases"] is None


async def test_a_release_left_behind_by_a_call_nobody_repeats_is_completed_by_the_reconciler() -> (
    None
):
    registration = deps(capacity=1)
    seated, waiting = await sign_up(registration, 2)
    request = cancellation(seated)
    await registration.repository.participants.apply(
        seated, str(request.event_id), on_participant(lambda doc: cancel(doc, request, NOW))
    )
    later(registration)
    await seat_reconciler.reconcile(registration)
    assert promoted(registration) == [waiting]
    assert places(registration) == (1, 0)


async def test_a_promotion_claimed_before_a_crash_is_finished_once() -> None:
    registration = deps(capacity=1)
    seated, first, second = await sign_up(registration, 3)
    request = cancellation(seated)
    await registration.repository.participants.apply(
        seated, str(request.event_id), on_participant(lambda doc: cancel(doc, request, NOW))
    )
    repo = registration.repository
    lid = ledger_id(registration.pack.forum.id, "civil_society")
    await repo.seats.leave(lid, seated, 1, True)  # counted out, then the process died ...
    claim = {"id": str(uuid.uuid4()), "participant_id": first, "ticket": 2, "at": NOW}
    await repo.seats.claim(lid, 1, claim)  # ... after claiming the seat for the first waiting
    assert places(registration) == (1, 1)

    later(registration)
    await seat_reconciler.reconcile(registration)
    await seat_reconciler.reconcile(registration)
    assert (status_of(registration, first), status_of(registration, second)) == (
        "confirmed",
        "waitlisted",
    )
    assert promoted(registration) == [first]
    assert places(registration) == (1, 1) and ledger(registration)["claims"] == []


async def test_a_claim_for_someone_who_left_the_waitlist_meanwhile_goes_to_the_next() -> None:
    registration = deps(capacity=1)
    seated, first, second = await sign_up(registration, 3)
    repo = registration.repository
    lid = ledger_id(registration.pack.forum.id, "civil_society")
    await handlers.cancel_registration(cancellation(first), registration)  # waiting: no promotion
    assert places(registration) == (1, 1)
    # A claim made for `first` just before their cancellation landed:
    await repo.seats.leave(lid, seated, 1, True)
    await repo.participants.apply(
        seated, None, on_participant(lambda doc: cancel(doc, cancellation(seated), NOW))
    )
    claim = {"id": str(uuid.uuid4()), "participant_id": first, "ticket": 2, "at": NOW}
    await repo.seats.claim(lid, 1, claim)
    assert places(registration) == (1, 0)  # counted as first's seat

    later(registration)
    await seat_reconciler.reconcile(registration)
    assert status_of(registration, first) == "cancelled"
    assert status_of(registration, second) == "confirmed"
    assert promoted(registration) == [second]
    assert places(registration) == (1, 0)


async def test_a_waiter_still_being_written_keeps_their_turn() -> None:
    registration = deps(capacity=1)
    [seated] = await sign_up(registration, 1)
    early = str(uuid.uuid4())  # took a waitlist place; its participant is not written yet
    await seats.take(registration, registration.pack.forum.id, "civil_society", 1, early)
    [late] = await sign_up(registration, 1)

    await handlers.cancel_registration(cancellation(seated), registration)
    assert status_of(registration, late) == "waitlisted"  # not ahead of `early`
    assert places(registration) == (0, 2)  # the seat is owed to the first waiting

    later(registration)  # `early` never comes: its take goes back, and `late` is next
    await seat_reconciler.reconcile(registration)
    assert status_of(registration, late) == "confirmed"
    assert places(registration) == (1, 0)


async def test_a_new_category_gives_the_old_place_back_and_promotes_there() -> None:
    registration = deps(capacity=1)
    seated, waiting = await sign_up(registration, 2)
    first = document(registration, seated)
    moved = submitted(
        submission_id=first["submission_ids"][0], email=first["email"], category="company"
    )
    await handlers.register_submission(moved, registration)
    assert (document(registration, seated)["category"], status_of(registration, seated)) == (
        "company",
        "confirmed",
    )
    assert status_of(registration, waiting) == "confirmed"
    assert places(registration) == (1, 0)


async def test_counters_drifted_by_a_defect_are_healed_from_the_participants_when_quiet() -> None:
    registration = deps(capacity=2)
    await sign_up(registration, 3)
    await seat_reconciler.reconcile(registration)  # the last take leaves `open`: nothing under way
    ledger(registration).update(seats=2, waiting=5)  # a defect, or a hand edit
    assert await seat_reconciler.heal_counters(registration, "civil_society")
    assert places(registration) == (2, 1)
    assert not await seat_reconciler.heal_counters(registration, "civil_society")


async def test_counters_are_not_healed_while_a_place_is_being_released() -> None:
    registration = deps(capacity=1)
    seated, _ = await sign_up(registration, 2)
    await seat_reconciler.reconcile(registration)
    request = cancellation(seated)
    await registration.repository.participants.apply(
        seated, str(request.event_id), on_participant(lambda doc: cancel(doc, request, NOW))
    )
    # The participants say 0 seated, the ledger 1: the release under way explains it.
    assert not await seat_reconciler.heal_counters(registration, "civil_society")
    assert places(registration) == (1, 1)


async def test_the_first_waiting_is_found_past_a_long_run_of_people_who_left_the_waitlist() -> None:
    registration = deps(capacity=1)
    seated, *waiting = await sign_up(registration, 41)
    for participant_id in waiting[:30]:  # more than a window of tickets, all gone
        await handlers.cancel_registration(cancellation(participant_id), registration)
    await handlers.cancel_registration(cancellation(seated), registration)
    assert promoted(registration) == [waiting[30]]
    assert ledger(registration)["head"] == document(registration, waiting[30])["seat_ticket"] + 1
    assert places(registration) == (1, 9)


async def test_the_reconciler_checks_the_counters_once_a_category_is_quiet() -> None:
    registration = deps(capacity=2)
    await sign_up(registration, 3)
    reconciler = seat_reconciler.SeatReconciler(registration)
    await reconciler.tick()  # after start-up: sign-ups may still flow
    ledger(registration).update(seats=2, waiting=5)  # a defect, or a hand edit
    await sign_up(registration, 1)  # not quiet
    await reconciler.tick()
    assert places(registration) == (2, 6) and "civil_society" not in reconciler.healed
    await reconciler.tick()  # no take since the last pass: quiet
    assert places(registration) == (2, 2) and "civil_society" in reconciler.healed

"""Registration's use cases on an in-memory repository: no broker, no database. The
integration tests prove the same paths on the real RabbitMQ and SecantusDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registration.deps import Registration
from services.registration.intake import handlers
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.support.factories import cancel_request, signup
from tests.support.fakes import FakeParticipantRepository

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CIVIL_SOCIETY = 3  # index of civil_society in the pack's categories


def deps(capacity: int | None = None) -> Registration:
    overrides: dict[str, object] = {
        "forum.start_date": (NOW + timedelta(days=30)).date().isoformat()
    }
    if capacity is not None:
        overrides[f"categories[{CIVIL_SOCIETY}].capacity"] = capacity
    return Registration(
        pack=load_pack(overrides=overrides),
        repository=FakeParticipantRepository(),
        clock=lambda: NOW,
    )


def submitted(**overrides: object) -> RegistrationSubmitted:
    body = signup(**{"occurred_at": NOW.isoformat(), **overrides})
    return RegistrationSubmitted.model_validate(body, strict=False)


def status_of(registration: Registration, participant_id: str) -> str:
    return registration.repository.participants.documents[participant_id]["status"]


def places(registration: Registration) -> tuple[int, int]:
    """civil_society's seats and waitlist places, as its ledger counts them."""
    ledger = registration.repository.ledgers.documents[
        f"{registration.pack.forum.id}:civil_society"
    ]
    return ledger.get("seats", 0), ledger.get("waiting", 0)


async def test_a_new_sign_up_is_written_once_confirmed_with_its_badge_and_events() -> None:
    registration = deps(capacity=5)
    participant_id = await handlers.register_submission(submitted(), registration)
    document = registration.repository.participants.documents[participant_id]
    assert (document["status"], document["version"]) == ("confirmed", 1)  # one write
    assert document["badge"]["category"] == "civil_society"
    assert registration.repository.event_types() == ["registration.confirmed", "badge.issued"]
    assert registration.repository.seat_calls == 1


async def test_a_new_sign_up_in_a_full_category_is_waitlisted_in_one_write_without_a_badge() -> (
    None
):
    registration = deps(capacity=1)
    await handlers.register_submission(submitted(), registration)
    waiting = await handlers.register_submission(submitted(), registration)
    document = registration.repository.participants.documents[waiting]
    assert (document["status"], document["version"], document.get("badge")) == (
        "waitlisted",
        1,
        None,
    )


async def test_a_changed_e_mail_on_a_known_submission_updates_the_person_and_frees_the_seat_taken_for_it() -> (
    None
):
    """The fast path takes a seat for the id the new e-mail derives before the insert finds the
    submission known: that seat goes back, the person keeps theirs."""
    registration = deps(capacity=5)
    first = submitted()
    participant_id = await handlers.register_submission(first, registration)
    changed = submitted(submission_id=first.submission_id, email="otra.direccion@example.org")
    assert await handlers.register_submission(changed, registration) == participant_id

    people = [d for d in registration.repository.participants.documents.values() if "status" in d]
    assert [d["_id"] for d in people] == [participant_id]
    document = registration.repository.participants.documents[participant_id]
    assert (document["email"], document["status"]) == ("otra.direccion@example.org", "confirmed")
    assert places(registration) == (1, 0)  # one seat: the person's own


async def test_the_same_sign_up_delivered_twice_has_one_effect() -> None:
    registration = deps(capacity=5)
    submission = submitted()
    first = await handlers.register_submission(submission, registration)
    second = await handlers.register_submission(submission, registration)
    assert first == second
    assert registration.repository.event_types() == ["registration.confirmed", "badge.issued"]
    assert places(registration) == (1, 0)
    # Its take recorded lately, the person is known to the ledger: no second place, not even
    # for a moment.
    ledger = registration.repository.ledgers.documents[f"{submission.forum_id}:civil_society"]
    assert ledger["tickets"] == 1
    assert "voided_seats" not in registration.repository.participants.documents[first]


async def test_a_full_category_waitlists_and_a_cancellation_promotes_the_first_waiting() -> None:
    registration = deps(capacity=1)
    seated = await handlers.register_submission(submitted(), registration)
    waiting = await handlers.register_submission(submitted(), registration)
    assert (status_of(registration, seated), status_of(registration, waiting)) == (
        "confirmed",
        "waitlisted",
    )

    request = RegistrationCancelRequested.model_validate(cancel_request(seated), strict=False)
    await handlers.cancel_registration(request, registration)
    await handlers.cancel_registration(request, registration)  # redelivered: nothing more

    assert status_of(registration, seated) == "cancelled"
    assert status_of(registration, waiting) == "confirmed"
    assert registration.repository.event_types().count("registration.promoted") == 1
    assert registration.repository.event_types().count("registration.cancelled") == 1
    assert places(registration) == (1, 0)
    document = registration.repository.participants.documents[seated]
    assert document.get("seat_releases") is None  # counted out, the marker gone


async def test_a_cancellation_before_its_sign_up_is_parked_then_completed() -> None:
    registration = deps(capacity=1)
    submission = submitted(occurred_at=(NOW - timedelta(minutes=1)).isoformat())
    body = cancel_request(None, email=submission.email, occurred_at=NOW.isoformat())
    del body["participant_id"]
    request = RegistrationCancelRequested.model_validate(body, strict=False)

    parked_as = await handlers.cancel_registration(request, registration)
    assert registration.repository.parked() == {parked_as: request.model_dump(mode="json")}

    participant_id = await handlers.register_submission(submission, registration)
    assert participant_id == parked_as
    assert status_of(registration, participant_id) == "cancelled"
    assert registration.repository.parked() == {}
    assert places(registration) == (0, 0)  # the seat it took is free again


async def test_a_cancellation_older_than_a_new_sign_up_is_dropped() -> None:
    registration = deps()
    submission = submitted()
    body = cancel_request(
        None, email=submission.email, occurred_at=(NOW - timedelta(days=1)).isoformat()
    )
    del body["participant_id"]
    await handlers.cancel_registration(
        RegistrationCancelRequested.model_validate(body, strict=False), registration
    )
    participant_id = await handlers.register_submission(submission, registration)
    assert status_of(registration, participant_id) == "confirmed"
    assert registration.repository.parked() == {}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"category": "astronauts"}, "unknown_category"),
        ({"consents": {"privacy_policy": False}}, "privacy_policy_required"),
    ],
)
async def test_a_refused_sign_up_says_why(overrides: dict[str, object], code: str) -> None:
    registration = deps()
    participant_id = await handlers.register_submission(submitted(**overrides), registration)
    document = registration.repository.participants.documents[participant_id]
    assert document["status"] == "rejected"
    assert [reason["code"] for reason in document["rejection_reasons"]] == [code]
    assert registration.repository.event_types() == ["registration.rejected"]

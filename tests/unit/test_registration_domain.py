"""Registration's rules without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.registration import domain
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.support.factories import signup

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PACK = load_pack()
P1 = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"


def submission(**overrides) -> RegistrationSubmitted:
    return RegistrationSubmitted.model_validate(signup(**overrides))


def test_seats_go_in_order_then_the_waitlist_fills() -> None:
    ledger: dict | None = None
    answers = []
    for pid in ("a", "b", "c", "d"):
        change, seat = domain.allocate(ledger, pid, capacity=2)
        ledger = {**(ledger or {}), **change.set}
        answers.append(seat)
    assert answers == [domain.Seat(True), domain.Seat(True), domain.Seat(False, 1), domain.Seat(False, 2)]
    assert domain.allocate(ledger, "c", capacity=2) == (None, domain.Seat(False, 1))  # idempotent


def test_release_promotes_the_first_waiting_and_records_it_under_the_cause() -> None:
    ledger = {"confirmed": ["a", "b"], "waitlist": ["c", "d"]}
    change, promoted = domain.release(ledger, "a", capacity=2, cause="cancel-1")
    assert promoted == ["c"]
    assert change.set["confirmed"] == ["b", "c"] and change.set["waitlist"] == ["d"]
    assert change.set["promotions"] == {"cancel-1": ["c"]}
    again, none = domain.release({**ledger, **change.set}, "a", capacity=2, cause="cancel-1")
    assert again is None and none == []


def test_a_raised_capacity_promotes_several_at_once() -> None:
    change, promoted = domain.release({"confirmed": ["a"], "waitlist": ["b", "c", "d"]}, "a", capacity=3, cause="x")
    assert promoted == ["b", "c", "d"]


def test_refusal_reasons_name_the_field_in_both_languages() -> None:
    reasons = domain.refusal_reasons(submission(category="astronaut", forum_id="other-forum"), PACK, NOW)
    assert {(r.field, r.code) for r in reasons} == {("category", "unknown_category"), ("forum_id", "unknown_forum")}
    assert all(r.message_es and r.message_en for r in reasons)


def test_registration_window_is_enforced() -> None:
    pack = load_pack(overrides={
        "forum.start_date": "2026-11-18",
        "forum.registration_opens_at": (NOW - timedelta(days=10)).isoformat(),
        "forum.registration_closes_at": (NOW - timedelta(days=1)).isoformat(),
    })
    assert [r.code for r in domain.refusal_reasons(submission(), pack, NOW)] == ["registration_closed"]


def test_new_sign_up_in_an_approval_category_waits_for_accreditation() -> None:
    change = domain.accept(None, P1, submission(category="media"), domain.Intake(requires_approval=True), NOW)
    assert change.set["status"] == "pending_approval"
    assert [e.event_type for e in change.events] == ["accreditation.requested"]


def test_resubmitting_identical_details_changes_nothing() -> None:
    first = submission()
    change = domain.accept(None, P1, first, domain.Intake(False), NOW)
    document = {"_id": P1, **change.set}
    assert domain.accept(document, P1, first, domain.Intake(False), NOW) is None


def test_changed_details_are_listed_in_the_update() -> None:
    first = submission()
    document = {"_id": P1, **domain.accept(None, P1, first, domain.Intake(False), NOW).set, "status": "confirmed"}
    again = RegistrationSubmitted.model_validate({**first.model_dump(mode="json"), "event_id": "9f1c1f9e-4a39-4d0e-9a57-3c7d5e3b2a10", "phone": "+50370001234"})
    change = domain.accept(document, P1, again, domain.Intake(False), NOW)
    assert change.events[0].changed_fields == ["phone"]
    assert change.set["phone"] == "+50370001234" and "status" not in change.set


def test_cancel_is_only_for_active_registrations() -> None:
    request = RegistrationCancelRequested(producer="t", forum_id=PACK.forum.id, participant_id="3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11")
    document = {"_id": "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11", **domain.accept(None, "p", submission(), domain.Intake(False), NOW).set, "status": "waitlisted"}
    change = domain.cancel(document, request, NOW)
    assert change.set["previous_status"] == "waitlisted"
    assert domain.cancel({**document, "status": "cancelled"}, request, NOW) is None

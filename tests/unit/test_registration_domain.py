"""Registration's rules without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registration import domain
from services.registration.documents import ParticipantDocument, SeatLedger
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.support.factories import signup

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PACK = load_pack(
    overrides={"forum.start_date": "2026-11-18"}
)  # two days, America/El_Salvador (UTC-6)
P1 = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"


def submission(**overrides) -> RegistrationSubmitted:
    return RegistrationSubmitted.model_validate(signup(**overrides))


def test_the_seat_is_read_from_the_ledger_after_the_request_for_it() -> None:
    ledger = SeatLedger.read(
        {"_id": "forum:civil_society", "confirmed": ["a", "b"], "waitlist": ["c", "d"]}
    )
    assert [domain.seat_from_ledger(ledger, pid) for pid in ("a", "b", "c", "d")] == [
        domain.Seat(True),
        domain.Seat(True),
        domain.Seat(False, 1),
        domain.Seat(False, 2),
    ]


def test_a_ledger_without_the_participant_is_an_error_not_a_seat() -> None:
    with pytest.raises(ValueError):
        domain.seat_from_ledger(SeatLedger.read({"confirmed": ["a"]}), "b")
    assert SeatLedger.read(None) == SeatLedger()


def test_release_promotes_the_first_waiting_and_records_it_under_the_cause() -> None:
    ledger = SeatLedger(confirmed=("a", "b"), waitlist=("c", "d"))
    decided = domain.release(ledger, "a", capacity=2, cause="cancel-1")
    assert decided.result == ["c"] and decided.change is not None
    change = decided.change
    assert change.set["confirmed"] == ["b", "c"] and change.set["waitlist"] == ["d"]
    assert change.set["promotions"] == {"cancel-1": ["c"]}
    again = domain.release(
        SeatLedger.model_validate({**ledger.model_dump(), **change.set}),
        "a",
        capacity=2,
        cause="cancel-1",
    )
    assert again.change is None and again.result == []


def test_a_raised_capacity_promotes_several_at_once() -> None:
    decided = domain.release(
        SeatLedger(confirmed=("a",), waitlist=("b", "c", "d")), "a", capacity=3, cause="x"
    )
    assert decided.result == ["b", "c", "d"]


def test_refusal_reasons_name_the_field_in_both_languages() -> None:
    reasons = domain.refusal_reasons(
        submission(category="astronaut", forum_id="other-forum"), PACK, NOW
    )
    assert {(r.field, r.code) for r in reasons} == {
        ("category", "unknown_category"),
        ("forum_id", "unknown_forum"),
    }
    assert all(r.message_es and r.message_en for r in reasons)


def test_registration_window_is_enforced() -> None:
    pack = load_pack(
        overrides={
            "forum.start_date": "2026-11-18",
            "forum.registration_opens_at": (NOW - timedelta(days=10)).isoformat(),
            "forum.registration_closes_at": (NOW - timedelta(days=1)).isoformat(),
        }
    )
    assert [r.code for r in domain.refusal_reasons(submission(), pack, NOW)] == [
        "registration_closed"
    ]


def codes(pack, now) -> list[str]:
    return [r.code for r in domain.refusal_reasons(submission(), pack, now)]


def test_without_a_window_registration_closes_when_the_forum_ends_at_the_venue() -> None:
    # The forum's last day is 2026-11-19; it ends at midnight in San Salvador, 06:00 UTC on the 20th.
    assert PACK.forum.registration_closes_at is None
    assert codes(PACK, datetime(2026, 11, 20, 5, 59, tzinfo=UTC)) == []
    assert codes(PACK, datetime(2026, 11, 20, 6, 0, tzinfo=UTC)) == ["registration_closed"]
    assert codes(load_pack(), NOW) == [
        "registration_closed"
    ]  # the bundled forum, left in 2004, is over


def test_a_closed_registration_says_so_in_both_languages_with_the_venue_time() -> None:
    reason = domain.refusal_reasons(submission(), PACK, datetime(2026, 12, 1, tzinfo=UTC))[0]
    assert (reason.field, reason.code) == ("occurred_at", "registration_closed")
    assert "2026-11-20 00:00 (America/El_Salvador)" in reason.message_es
    assert reason.message_en == "Registration closed on 2026-11-20 00:00 (America/El_Salvador)."


def test_a_window_set_in_the_pack_wins_over_the_forum_end() -> None:
    pack = load_pack(
        overrides={
            "forum.start_date": "2026-11-18",
            "forum.registration_opens_at": "2026-10-01T08:00:00-06:00",
            "forum.registration_closes_at": "2026-11-10T18:00:00-06:00",
        }
    )
    assert codes(pack, datetime(2026, 9, 30, tzinfo=UTC)) == ["registration_not_open"]
    assert codes(pack, datetime(2026, 11, 10, 23, 59, tzinfo=UTC)) == []
    assert codes(pack, datetime(2026, 11, 11, 0, 0, tzinfo=UTC)) == [
        "registration_closed"
    ]  # 18:00 at the venue


def test_new_sign_up_in_an_approval_category_waits_for_accreditation() -> None:
    change = domain.accept(
        None, P1, submission(category="media"), domain.Intake(requires_approval=True), NOW
    )
    assert change.set["status"] == "pending_approval"
    assert [e.event_type for e in change.events] == ["accreditation.requested"]


def test_resubmitting_identical_details_changes_nothing() -> None:
    first = submission()
    change = domain.accept(None, P1, first, domain.Intake(False), NOW)
    document = ParticipantDocument.model_validate({"_id": P1, **change.set})
    assert domain.accept(document, P1, first, domain.Intake(False), NOW) is None


def test_changed_details_are_listed_in_the_update() -> None:
    first = submission()
    document = ParticipantDocument.model_validate(
        {"_id": P1, **domain.accept(None, P1, first, domain.Intake(False), NOW).set}
    ).updated({"status": "confirmed"})
    again = RegistrationSubmitted.model_validate(
        {
            **first.model_dump(mode="json"),
            "event_id": "9f1c1f9e-4a39-4d0e-9a57-3c7d5e3b2a10",
            "phone": "+50370001234",
        }
    )
    change = domain.accept(document, P1, again, domain.Intake(False), NOW)
    assert change.events[0].changed_fields == ["phone"]
    assert change.set["phone"] == "+50370001234" and "status" not in change.set


def test_cancel_is_only_for_active_registrations() -> None:
    request = RegistrationCancelRequested(
        producer="t", forum_id=PACK.forum.id, participant_id="3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"
    )
    document = ParticipantDocument.model_validate(
        {
            "_id": "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11",
            **domain.accept(None, "p", submission(), domain.Intake(False), NOW).set,
            "status": "waitlisted",
        }
    )
    change = domain.cancel(document, request, NOW)
    assert change is not None and change.set["previous_status"] == "waitlisted"
    assert domain.cancel(document.updated({"status": "cancelled"}), request, NOW) is None

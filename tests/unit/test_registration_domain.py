"""Registration's rules without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.registration.documents import ParticipantDocument, SeatRelease
from services.registration.intake import rules as domain
from services.registration.seats import rules as domain_seats
from services.registration.seats.rules import Seat
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.decisions import Change, Decision
from shared.pack import load_pack
from tests.support.factories import signup

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PACK = load_pack(
    overrides={"forum.start_date": "2026-11-18"}
)  # two days, America/El_Salvador (UTC-6)
P1 = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"
P2 = "5b8d2c0a-7f1e-4c3b-9a2d-1e0f9c8b7a65"


def submission(**overrides) -> RegistrationSubmitted:
    return RegistrationSubmitted.model_validate(signup(**overrides))


def seated(status: str = "confirmed", **fields: object) -> ParticipantDocument:
    """A participant of civil_society (a capacity) holding the place with ticket 7."""
    change = domain.accept(None, P1, submission(), domain.Intake(False), NOW)
    return ParticipantDocument.model_validate(
        {"_id": P1, **change.set, "status": status, "seat_ticket": 7, **fields}
    )


def cancel_of(document: ParticipantDocument) -> RegistrationCancelRequested:
    return RegistrationCancelRequested(producer="t", forum_id=PACK.forum.id, participant_id=P1)


def test_a_change_that_ends_a_place_carries_its_release_and_a_promotion_does_not() -> None:
    holder = seated("confirmed")
    cancelled = domain_seats.with_releases(holder, domain.cancel(holder, cancel_of(holder), NOW))
    assert isinstance(cancelled, Change)
    assert [
        (r["category"], r["ticket"], r["seat"], r["at"]) for r in cancelled.set["seat_releases"]
    ] == [("civil_society", 7, True, NOW)]

    waiting = seated("waitlisted")
    promoted = domain_seats.promote(waiting, "civil_society", 7, "claim-1", cause(), P1, NOW)
    assert domain_seats.with_releases(waiting, promoted) == promoted  # the same place

    # Taken but not recorded yet: the release names no ticket (the ledger finds the take).
    allocating = seated("allocating", seat_ticket=None)
    ended = domain.cancel(allocating, cancel_of(holder), NOW)
    left = domain_seats.with_releases(allocating, ended)
    assert isinstance(left, Change)
    assert [(r["ticket"], r["seat"]) for r in left.set["seat_releases"]] == [(None, None)]

    # A category without a capacity hands out no ticket: nothing to give back.
    free = seated("confirmed", seat_ticket=None)
    change = domain.cancel(free, cancel_of(free), NOW)
    assert domain_seats.with_releases(free, change) is change
    assert change is not None and "seat_releases" not in change.set


def test_a_new_category_gives_the_old_place_back() -> None:
    holder = seated("waitlisted")
    moved = submission(
        submission_id=holder.submission_ids[0], email=holder.email, category="company"
    )
    change = domain.accept(holder, P1, moved, domain.Intake(False), NOW)
    marked = domain_seats.with_releases(holder, change)
    assert isinstance(marked, Change) and marked.set["status"] == "allocating"
    assert [(r["category"], r["ticket"], r["seat"]) for r in marked.set["seat_releases"]] == [
        ("civil_society", 7, False)
    ]


def test_a_release_marker_goes_once_the_ledger_has_it() -> None:
    first = SeatRelease(category="civil_society", ticket=7, seat=True)
    other = SeatRelease(category="company", ticket=3, seat=False)
    document = seated("cancelled", seat_releases=[first.model_dump(), other.model_dump()])
    change = domain_seats.released(document, first)
    assert change is not None and [r["category"] for r in change.set["seat_releases"]] == [
        "company"
    ]
    after = document.updated(change.set)
    last = domain_seats.released(after, other)
    assert last is not None and last.set == {"seat_releases": None}  # out of the sparse index
    assert domain_seats.released(after.updated(last.set), other) is None


def test_a_take_never_recorded_is_fenced_before_it_goes_back() -> None:
    holder = seated("confirmed")
    assert domain_seats.fence(holder, "civil_society", 7, keep_allocating=False) == Decision(False)
    fenced = domain_seats.fence(holder, "civil_society", 8, keep_allocating=False)
    assert fenced.result and fenced.change is not None
    assert fenced.change.set == {"voided_seats": ["civil_society:8"]}
    again = domain_seats.fence(
        holder.updated(fenced.change.set), "civil_society", 8, keep_allocating=False
    )
    assert again == Decision(True)  # fenced already: counted out, nothing written
    # Nobody yet: the fence is the document, so the sign-up that took it cannot insert it.
    nobody = domain_seats.fence(None, "civil_society", 8, keep_allocating=False)
    assert nobody.change is not None and nobody.change.set == {"voided_seats": ["civil_society:8"]}
    allocating = seated("allocating", seat_ticket=None)
    assert domain_seats.fence(allocating, "civil_society", 8, keep_allocating=True) == Decision(
        False
    )
    # Left, and its release not counted yet: the release gives it back, not the fence.
    left = seated(
        "cancelled", seat_releases=[{"category": "civil_society", "ticket": 8, "seat": True}]
    )
    assert domain_seats.fence(left, "civil_society", 8, keep_allocating=False) == Decision(False)


def test_a_fenced_take_is_never_recorded_and_a_recorded_one_keeps_its_ticket() -> None:
    allocating = seated("allocating", seat_ticket=None)
    decided = domain_seats.seat_decided(allocating, Seat(False, 3, 12), submission(), NOW)
    assert decided.result and decided.change is not None
    assert decided.change.set["seat_ticket"] == 12
    assert decided.change.events[0].position == 3
    voided = allocating.updated({"voided_seats": ["civil_society:12"]})
    assert domain_seats.seat_decided(voided, Seat(False, 3, 12), submission(), NOW) == Decision(
        False
    )


def test_a_promotion_is_decided_by_state_so_asking_again_gives_the_same_answer() -> None:
    waiting = seated("waitlisted")
    decided = domain_seats.promote(waiting, "civil_society", 7, "claim-1", cause(), P2, NOW)
    assert decided.result and decided.change is not None
    assert [e.event_type for e in decided.change.events] == ["registration.promoted"]
    after = waiting.updated(decided.change.set)
    assert domain_seats.promote(after, "civil_society", 7, "claim-1", cause(), P2, NOW) == (
        Decision(True)
    )
    # Another claim for a seated person, or for one who left: undone.
    assert not domain_seats.promote(after, "civil_society", 7, "claim-2", cause(), P2, NOW).result
    gone = waiting.updated({"status": "cancelled"})
    assert not domain_seats.promote(gone, "civil_society", 7, "claim-1", cause(), P2, NOW).result


def cause() -> RegistrationCancelRequested:
    return RegistrationCancelRequested(producer="t", forum_id=PACK.forum.id, participant_id=P1)


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
    assert "20 de noviembre de 2026, 00:00 (America/El_Salvador)" in reason.message_es
    assert reason.message_en == (
        "Registration closed on November 20, 2026, 00:00 (America/El_Salvador)."
    )


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

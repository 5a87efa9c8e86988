"""Accreditation, badge, check-in, consent and erasure rules, without broker or database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from services.registration.accreditation import rules as domain_accreditation
from services.registration.badges import rules as domain_badges
from services.registration.checkin import rules as checkin_rules
from services.registration.documents import ParticipantDocument
from services.registration.intake import rules as domain
from services.registration.privacy import rules as domain_privacy
from shared.contracts.registration import ParticipantErasureRequested, RegistrationSubmitted
from shared.pack import load_pack
from tests.support.factories import FORUM_ID, signup

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
MEDIA = domain.Intake(
    requires_approval=True, accreditation_fields=("category", "country", "organisation")
)


def participant(status: str = "pending_approval", **fields) -> ParticipantDocument:
    submission = RegistrationSubmitted.model_validate(
        signup(category="media", organisation="Diario", phone="+50370001111")
    )
    pid = str(uuid.uuid4())
    change = domain.accept(None, pid, submission, MEDIA, NOW)
    return ParticipantDocument.model_validate(
        {"_id": pid, "version": 1, **change.set, "status": status, **fields}
    )


def resubmission(document: ParticipantDocument, **changes) -> RegistrationSubmitted:
    body = signup(
        category="media",
        organisation=document.organisation,
        phone=document.phone,
        email=document.email,
        submission_id=document.submission_ids[0],
        given_name=document.given_name,
        family_name=document.family_name,
    )
    return RegistrationSubmitted.model_validate({**body, **changes})


def test_approve_moves_pending_to_allocating_once_and_keeps_the_cause_for_a_retry() -> None:
    document = participant()
    change = domain_accreditation.approve(document, NOW)
    assert change.set["status"] == domain.ALLOCATING
    assert [e.event_type for e in change.events] == ["accreditation.approved"]
    approved = document.updated(change.set)
    assert domain_accreditation.approve(approved, NOW) is None
    cause = domain_accreditation.ApprovalCause.of(approved)
    assert (
        cause.event_id == change.events[0].event_id
        and cause.submission_id == document.submission_ids[-1]
    )


def test_reject_reads_in_both_languages_and_revokes_a_badge() -> None:
    document = participant(
        "confirmed",
        badge={"token_id": "t" * 22, "issued_at": NOW, "category": "media"},
        accreditation={"status": "approved"},
    )
    change = domain_accreditation.reject(document, "Falta la carta.", "The letter is missing.", NOW)
    assert change.set["status"] == "rejected" and change.set["previous_status"] == "confirmed"
    rejected, revoked = change.events
    assert (
        rejected.reasons[0].message_es == "Falta la carta."
        and rejected.reasons[0].message_en == "The letter is missing."
    )
    assert revoked.event_type == "badge.revoked" and revoked.reason == "rejected"
    assert change.set["badge"] is None and change.set["revoked_tokens"] == ["t" * 22]
    assert domain_accreditation.reject(document.updated(change.set), "x", "x", NOW) is None


def test_an_edit_after_approval_returns_to_pending_only_for_the_pack_fields() -> None:
    document = participant("confirmed", accreditation={"status": "approved"})

    phone = domain.accept(
        document, document.id, resubmission(document, phone="+50370002222"), MEDIA, NOW
    )
    organisation = domain.accept(
        document, document.id, resubmission(document, organisation="Otro"), MEDIA, NOW
    )

    assert "status" not in phone.set and [e.event_type for e in phone.events] == [
        "registration.updated"
    ]
    # The place it held is given back by its release marker (test_registration_domain.py).
    assert organisation.set["status"] == "pending_approval"
    assert [e.event_type for e in organisation.events] == [
        "registration.updated",
        "accreditation.requested",
    ]


def test_badges_follow_the_registration() -> None:
    pending = participant()
    assert domain_badges.sync(pending, True, "a" * 22, NOW) is None
    assert domain_badges.badge_refusal(pending, True).code == "badge_not_allowed"
    confirmed = pending.updated({"status": "confirmed", "accreditation": {"status": "approved"}})
    issued = domain_badges.sync(confirmed, True, "a" * 22, NOW)
    assert [e.event_type for e in issued.events] == ["badge.issued"]
    holder = confirmed.updated(issued.set)
    assert domain_badges.sync(holder, True, "b" * 22, NOW) is None
    cancelled = domain_badges.sync(holder.updated({"status": "cancelled"}), True, "b" * 22, NOW)
    assert cancelled.events[0].reason == "cancelled" and cancelled.set["badge"] is None
    recoloured = domain_badges.sync(holder.updated({"category": "speaker"}), False, "b" * 22, NOW)
    assert [e.event_type for e in recoloured.events] == ["badge.revoked", "badge.issued"]


def test_one_check_in_per_point_and_day() -> None:
    document = participant("confirmed", accreditation={"status": "approved"})
    first, outcome = checkin_rules.check_in(document, "entrance", date(2026, 11, 18), NOW)
    assert outcome.first and str(first.events[0].event_id) == outcome.checkin_id
    after = document.updated(first.set)
    assert checkin_rules.check_in(after, "entrance", date(2026, 11, 18), NOW)[0] is None
    assert checkin_rules.check_in(after, "expo", date(2026, 11, 18), NOW)[0] is not None
    assert checkin_rules.check_in(after, "entrance", date(2026, 11, 19), NOW)[0] is not None


def test_check_in_is_taken_on_the_forum_days_at_the_venue_give_or_take_the_margin() -> None:
    # 2026-11-18 and 19 in San Salvador (UTC-6): 06:00 UTC on the 18th to 06:00 UTC on the 20th.
    forum = load_pack(overrides={"forum.start_date": "2026-11-18"}).forum
    margin = timedelta(hours=12)

    def refused(now: datetime, margin: timedelta = margin) -> str | None:
        found = checkin_rules.checkin_window_refusal(forum, now, margin)
        return found.code if found else None

    assert refused(datetime(2026, 11, 17, 17, 59, tzinfo=UTC)) == "checkin_not_open"
    assert refused(datetime(2026, 11, 17, 18, 0, tzinfo=UTC)) is None  # set-up the evening before
    assert refused(datetime(2026, 11, 20, 17, 59, tzinfo=UTC)) is None
    assert refused(datetime(2026, 11, 20, 18, 0, tzinfo=UTC)) == "checkin_closed"
    assert refused(datetime(2026, 11, 18, 5, 59, tzinfo=UTC), timedelta(0)) == "checkin_not_open"
    assert refused(datetime(2026, 11, 18, 6, 0, tzinfo=UTC), timedelta(0)) is None
    assert refused(datetime(2026, 11, 20, 6, 0, tzinfo=UTC), timedelta(0)) == "checkin_closed"
    reason = checkin_rules.checkin_window_refusal(forum, datetime(2027, 1, 1, tzinfo=UTC), margin)
    assert (
        reason.field == "day"
        and "2026-11-18" in reason.message_es
        and "2026-11-19" in reason.message_en
    )


def test_consents_change_without_the_privacy_policy() -> None:
    document = participant("confirmed")
    change = domain_privacy.change_consents(
        document, {"photos": True, "listed_publicly": True}, NOW
    )
    assert (
        change.events[0].changed == ["photos"] and change.set["consents"]["privacy_policy"] is True
    )
    assert (
        domain_privacy.change_consents(document.updated(change.set), {"photos": True}, NOW) is None
    )


def test_erasure_overwrites_every_personal_field_and_keeps_what_statistics_count() -> None:
    document = participant(
        "confirmed",
        answers={"dietary": "vegano"},
        badge={"token_id": "t" * 22, "category": "media"},
    )
    request = ParticipantErasureRequested(
        producer="t", forum_id=FORUM_ID, participant_id=document.id
    )
    change = domain_privacy.erase(document, request, NOW)
    erased = document.updated(change.set)
    for field in (
        "given_name",
        "family_name",
        "email",
        "phone",
        "organisation",
        "answers",
        "submission_ids",
    ):
        assert getattr(erased, field) != getattr(document, field)
    assert erased.email.endswith("@erased.invalid") and erased.category == "media"
    assert erased.status == "cancelled" and erased.previous_status == "confirmed"
    assert [e.event_type for e in change.events] == [
        "participant.erased",
        "badge.revoked",
        "access.subject_revoked",  # every link of theirs: personal codes, agenda feeds
    ]
    links = change.events[2]
    assert links.subject == f"participant:{document.id}"
    assert links.issued_before == NOW.replace(microsecond=0) == erased.access_revoked_before
    assert links.causation_id == str(request.event_id)
    assert domain_privacy.erase(erased, request, NOW) is None


def test_a_resubmission_that_changes_consents_announces_them() -> None:
    document = participant("confirmed")
    consents = {"privacy_policy": True, "listed_publicly": True, "share_with_exhibitors": True}
    change = domain.accept(
        document,
        document.id,
        resubmission(document, consents=consents),
        MEDIA,
        NOW,
    )
    consent_changed = [e for e in change.events if e.event_type == "participant.consent_changed"]
    assert consent_changed[0].changed == ["share_with_exhibitors"]
    assert "status" not in change.set  # consents are not an accreditation field


def test_what_a_rule_writes_back_is_stored_as_it_was_read() -> None:
    """The models change no document's shape: earlier check-ins go back entry by entry as stored
    (unknown keys and key order included), erasure keeps the accreditation's stored values, and a
    field no rule reads survives a read."""
    earlier = {"id": "c-1", "point": "expo", "day": "2026-11-17", "at": NOW, "scanner": "gate-2"}
    approval = {"status": "approved", "decided_at": NOW, "approval_event_id": str(uuid.uuid4())}
    document = participant("confirmed", checkins=[earlier], accreditation=approval, parked_at=NOW)
    change, _ = checkin_rules.check_in(document, "entrance", date(2026, 11, 18), NOW)
    kept = change.set["checkins"][0]
    assert kept == earlier and list(kept) == list(earlier)
    request = ParticipantErasureRequested(
        producer="t", forum_id=FORUM_ID, participant_id=document.id
    )
    erased = domain_privacy.erase(document, request, NOW)
    assert erased.set["accreditation"] == {"status": "approved", "decided_at": NOW}
    assert document.updated(erased.set).model_dump(by_alias=True)["parked_at"] == NOW

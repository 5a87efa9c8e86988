"""Participants' own access (services/registration/access/rules.py), no I/O: a code is signed
after any revocation it must survive, a revocation covers every code issued so far, and
repeating it in the same second writes nothing."""

from __future__ import annotations

from datetime import timedelta

from services.registration.access import rules
from tests.unit.test_registration_lifecycle_rules import NOW, participant

LIFETIME = timedelta(days=180)
LATER = NOW + timedelta(minutes=5)


def test_a_code_is_signed_a_second_after_the_revocation_it_must_survive() -> None:
    assert rules.issue_time(NOW.replace(microsecond=900)) == NOW
    assert rules.issue_time(NOW, None) == NOW
    assert rules.issue_time(NOW, NOW) == NOW + timedelta(seconds=1)
    assert rules.issue_time(LATER, NOW) == LATER


def test_issuing_a_code_is_announced_with_its_id_and_expiry_only() -> None:
    document = participant("confirmed")
    issued = rules.issue_participant_access(document, NOW, "code-id-12345", NOW + LIFETIME)
    assert issued.result is True and issued.change is not None
    assert issued.change.set == {"access_issued_at": NOW}
    [event] = issued.change.events
    assert event.model_dump(include={"event_type", "token_id", "expires_at"}) == {
        "event_type": "participant.access_issued",
        "token_id": "code-id-12345",
        "expires_at": NOW + LIFETIME,
    }
    assert str(event.participant_id) == document.id


def test_nobody_erased_or_unknown_gets_a_code_and_none_is_recorded_under_a_revocation() -> None:
    assert not rules.issue_participant_access(None, NOW, "code-id-12345", LATER).result
    erased = participant("cancelled", erased=True)
    assert not rules.issue_participant_access(erased, NOW, "code-id-12345", LATER).result
    revoked = participant("confirmed", access_revoked_before=NOW)
    refused = rules.issue_participant_access(revoked, NOW, "code-id-12345", LATER)
    assert refused.result is False and refused.change is None  # signed again, later
    later = rules.issue_participant_access(
        revoked, NOW + timedelta(seconds=1), "code-id-12345", LATER
    )
    assert later.result is True


def test_a_revocation_covers_every_link_so_far_and_repeating_it_in_the_same_second_does_nothing() -> (
    None
):
    document = participant("confirmed")
    revoked = rules.revoke_participant_access(document, NOW.replace(microsecond=7), LIFETIME)
    assert revoked.result == NOW and revoked.change is not None
    [event] = revoked.change.events
    assert event.model_dump(include={"event_type", "subject", "issued_before", "expires_at"}) == {
        "event_type": "access.subject_revoked",
        "subject": f"participant:{document.id}",
        "issued_before": NOW,
        "expires_at": NOW + LIFETIME,
    }
    after = document.updated(revoked.change.set)
    again = rules.revoke_participant_access(after, NOW, LIFETIME)
    assert again.result == NOW and again.change is None
    # Later, it revokes what was issued meanwhile: a new revocation.
    assert rules.revoke_participant_access(after, LATER, LIFETIME).change is not None
    # A code signed a second ahead (after an earlier revocation) is covered too.
    ahead = participant("confirmed", access_issued_at=NOW + timedelta(seconds=1))
    assert rules.revoke_participant_access(ahead, NOW, LIFETIME).result == NOW + timedelta(
        seconds=1
    )
    assert rules.revoke_participant_access(None, NOW, LIFETIME).result is None

"""Notification's rules without a broker or database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.notification import domain
from shared.contracts.envelope import derive_id


def test_recipients_come_from_snapshots_ids_inline_contacts_and_lists_once_each() -> None:
    event = {
        "forum_id": "f",
        "participant": {
            "participant_id": "p1",
            "email": "a@x.org",
            "language": "en",
            "consents": {},
            "status": "confirmed",
        },
        "affected": [
            {"participant_id": "p1", "email": "a@x.org", "name": "Ana"},
            {"participant_id": None, "email": "b@x.org", "name": "Bea", "language": "es"},
            {"participant_id": None, "email": None},
        ],
        "ids": ["p2", "p3"],
    }
    found = domain.resolve_recipients(event, ["participant", "affected", "ids", "missing"])
    by_id = {r.person_id: r for r in found}
    assert list(by_id) == ["p1", str(derive_id("f", "b@x.org")), "p2", "p3"]
    assert by_id["p1"].is_snapshot and by_id["p1"].contact["language"] == "en"
    inline = by_id[str(derive_id("f", "b@x.org"))]
    assert not inline.is_snapshot and inline.contact["given_name"] == "Bea"
    assert by_id["p2"].contact is None


def test_a_mapped_contact_reads_alternative_paths() -> None:
    event = {"exhibitor_id": "e1", "contact_email": "expo@x.org", "name": "Banco", "language": "en"}
    mapping = {
        "id": "exhibitor_id",
        "email": "contact_email",
        "given_name": "name",
        "language": "language",
        "project": True,
    }
    recipient = domain.mapped_contact(event, mapping)
    assert recipient == domain.Recipient(
        "e1", {"email": "expo@x.org", "given_name": "Banco", "language": "en"}, True
    )
    assert domain.mapped_contact({}, mapping) is None


def test_reminder_keys_are_filled_from_the_event_or_refused_when_a_field_is_missing() -> None:
    assert (
        domain.reminder_key("session:{session_code|session_id}", {"session_id": "B1.2"})
        == "session:B1.2"
    )
    assert domain.reminder_key("session:{session_code}", {}) is None
    assert domain.reminder_key("forum", {}) == "forum"


CONTACT = {"email": "a@x.org", "phone": "+50370001234", "language": "es"}


def plans(
    contact: dict, *, essential: bool, sms_template: bool = True
) -> list[tuple[str, str | None, str | None]]:
    return [
        (p.channel, p.address, p.suppressed)
        for p in domain.plan_channels(
            ("email", "sms"), contact, essential=essential, sms_template=sms_template
        )
    ]


def test_channels_follow_addresses_templates_and_preferences() -> None:
    assert plans(CONTACT, essential=False) == [
        ("email", "a@x.org", None),
        ("sms", "+50370001234", None),
    ]
    assert plans(CONTACT, essential=False, sms_template=False) == [("email", "a@x.org", None)]
    assert plans({"email": "a@x.org"}, essential=False) == [("email", "a@x.org", None)]
    sms_only = {**CONTACT, "preferences": {"channels": ["sms"]}}
    assert plans(sms_only, essential=False) == [
        ("email", None, "channel_declined"),
        ("sms", "+50370001234", None),
    ]


def test_an_opt_out_stops_non_essential_messages_but_not_essential_ones() -> None:
    opted_out = {**CONTACT, "preferences": {"opt_out_non_essential": True}}
    assert plans(opted_out, essential=False) == [
        ("email", None, "opted_out"),
        ("sms", None, "opted_out"),
    ]
    assert plans(opted_out, essential=True) == [
        ("email", "a@x.org", None),
        ("sms", "+50370001234", None),
    ]
    # Essential with every channel declined still reaches the person by e-mail.
    declined = {**CONTACT, "preferences": {"channels": ["sms"], "opt_out_non_essential": True}}
    assert plans({**declined, "phone": None}, essential=True) == [("email", "a@x.org", None)]


def test_language_preference_wins_over_the_registration_language() -> None:
    assert domain.language_of({"language": "en"}, "es") == "en"
    assert domain.language_of({"language": "en", "preferences": {"language": "es"}}, "es") == "es"
    assert domain.language_of({}, "es") == "es"


def test_backoff_doubles_with_bounded_jitter_and_a_ceiling() -> None:
    policy = domain.RetryPolicy(max_attempts=10, base_seconds=1, max_seconds=30, jitter=0.25)
    rng = random.Random(7)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (4, 8), (6, 30), (9, 30)]:
        delay = policy.delay(attempt, rng)
        assert base <= delay <= base * 1.25


NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


def test_an_attempt_is_sent_retried_or_failed() -> None:
    # The claim has already counted the attempt: the document says which attempt this is.
    policy = domain.RetryPolicy(max_attempts=3, base_seconds=1, jitter=0)
    ok = domain.AttemptOutcome(
        provider="smtp", provider_message_id="<id>", errors=[("backup", "HTTP 500", False)]
    )
    status, fields, delay = domain.after_attempt({"attempts": 1}, ok, policy, NOW)
    assert (status, fields["attempts"], fields["provider"], delay) == ("sent", 1, "smtp", None)

    down = domain.AttemptOutcome(errors=[("a", "HTTP 500", False), ("b", "ConnectError", False)])
    status, fields, delay = domain.after_attempt({"attempts": 2}, down, policy, NOW)
    assert (status, fields["attempts"], delay) == ("retrying", 2, 2.0)
    assert (
        fields["next_attempt_at"] == NOW + timedelta(seconds=2)
        and fields["last_error"] == "a: HTTP 500; b: ConnectError"
    )

    status, fields, _ = domain.after_attempt({"attempts": 3}, down, policy, NOW)
    assert (status, fields["attempts"]) == ("failed", 3)


def test_permanent_refusals_by_every_provider_fail_at_once() -> None:
    refused = domain.AttemptOutcome(errors=[("a", "HTTP 400", True), ("b", "HTTP 422", True)])
    status, _, _ = domain.after_attempt(
        {"attempts": 1}, refused, domain.RetryPolicy(max_attempts=5), NOW
    )
    assert status == "failed"


def test_an_attempt_after_a_lost_one_is_marked_a_possible_duplicate_and_clears_the_mark() -> None:
    ok = domain.AttemptOutcome(provider="smtp", provider_message_id="<id>")
    status, fields, _ = domain.after_attempt(
        {"attempts": 2, "possibly_sent": True}, ok, domain.RetryPolicy(), NOW
    )
    assert status == "sent" and fields["possibly_sent"] is False
    assert fields["history"][-1]["possible_duplicate"] is True


def test_a_lapsed_lease_means_possibly_sent_send_again_until_the_attempts_are_used() -> None:
    policy = domain.RetryPolicy(max_attempts=3)
    status, fields = domain.after_lapsed_lease({"attempts": 1, "status": "sending"}, policy, NOW)
    assert status == "queued" and fields["possibly_sent"] is True and fields["attempts"] == 1
    assert fields["lease_until"] is None and fields["history"][-1]["outcome"] == "unknown"
    assert fields["last_error"] == domain.LOST_WORKER

    # A message whose worker dies on every attempt ends failed instead of looping.
    status, fields = domain.after_lapsed_lease({"attempts": 3, "status": "sending"}, policy, NOW)
    assert status == "failed" and fields["failed_at"] == NOW


def test_a_result_is_written_while_the_claim_holds_and_an_acceptance_even_after_it_lapsed() -> None:
    mine, theirs = NOW, NOW + timedelta(seconds=30)
    assert domain.accepts_result({"status": "sending", "claimed_at": mine}, mine, sent=False)
    assert not domain.accepts_result({"status": "sending", "claimed_at": theirs}, mine, sent=False)
    assert not domain.accepts_result({"status": "queued"}, mine, sent=False)
    # The provider accepted it: that is recorded over a lapsed claim (stopping a second send)...
    for status in ("queued", "retrying", "sending"):
        assert domain.accepts_result({"status": status, "claimed_at": theirs}, mine, sent=True)
    # ...but never over a final state.
    for status in ("sent", "failed", "suppressed"):
        assert not domain.accepts_result({"status": status}, mine, sent=True)
    assert not domain.accepts_result(None, mine, sent=True)


def test_a_backoff_longer_than_the_longest_tier_is_waited_in_hops() -> None:
    waiting = {"status": "retrying", "next_attempt_at": NOW + timedelta(seconds=1500)}
    assert domain.backoff_left(waiting, NOW) == 1500
    assert domain.hop(1500, 512) == 512 and domain.hop(3, 512) == 3 and domain.hop(-1, 512) == 0
    assert (
        domain.backoff_left({**waiting, "next_attempt_at": NOW - timedelta(seconds=1)}, NOW) is None
    )
    assert domain.backoff_left({"status": "sending"}, NOW) is None


def test_rate_limit_deferrals_are_bounded_by_the_policy() -> None:
    policy = domain.RetryPolicy(max_deferrals=2)
    assert policy.may_defer({}) and policy.may_defer({"deferrals": 1})
    assert not policy.may_defer({"deferrals": 2})


def test_parked_triggers_and_message_ids_are_derived_and_stable() -> None:
    assert (
        domain.parked_id("e1", "p1") == domain.parked_id("e1", "p1") != domain.parked_id("e1", "p2")
    )
    assert domain.parked_id("e1", "p1") != domain.parked_id("e2", "p1")
    assert domain.smtp_message_id("m-1") == "<m-1@foro.notification>"
    assert domain.reachable({"phone": "+50370001234"}) and domain.reachable({"email": "a@x.org"})
    assert not domain.reachable({"preferences": {"language": "en"}}) and not domain.reachable(None)


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({}, True),
        ({"categories": ["media"]}, False),
        ({"countries": ["SV", "GT"], "languages": ["en"]}, True),
        ({"languages": ["es"]}, False),
        ({"statuses": ["confirmed"]}, True),
    ],
)
def test_segments_match_on_every_set_filter(segment: dict, expected: bool) -> None:
    contact = {
        "category": "civil_society",
        "country": "SV",
        "language": "es",
        "status": "confirmed",
        "preferences": {"language": "en"},
    }
    assert domain.in_segment(contact, segment) is expected


def test_a_reminder_keeps_the_event_without_the_people_it_names() -> None:
    from services.notification.handlers import _without_people
    from services.notification.templates import Trigger

    trigger = Trigger(message_type="session_rescheduled", recipients=("affected", "requester.id"))
    body = {
        "session_code": "B1.2",
        "affected": [{"email": "a@x.org"}],
        "requester": {"id": "p"},
        "title": {},
    }
    assert _without_people(body, trigger) == {"session_code": "B1.2", "title": {}}

"""Notification's rules without a broker or database: they take the documents' models."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notification import domain
from services.notification.campaigns.rules import in_segment
from services.notification.delivery import rules as delivery
from services.notification.documents import ContactDocument, MessageDocument
from services.notification.messages.rules import language_of, plan_channels
from services.notification.reminders.rules import reminder_key, without_people
from services.notification.templates import Trigger
from services.notification.triggers import rules as triggers
from shared.contracts.envelope import derive_id

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


def contact(**fields: Any) -> ContactDocument:
    return ContactDocument.model_validate({"_id": "p1", **fields})


def message(**fields: Any) -> MessageDocument:
    base = {
        "_id": "5c2f0b8e-7a1d-5b6e-9c3f-1f0a2b3c4d5e",
        "message_type": "registration_confirmed",
        "channel": "email",
        "person_id": "p1",
        "to": "a@x.org",
        "source_event_id": "e1",
        "status": "sending",
        "claimed_at": NOW,
    }
    return MessageDocument.model_validate({**base, **fields})


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
    found = triggers.resolve_recipients(event, ["participant", "affected", "ids", "missing"])
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
    recipient = triggers.mapped_contact(event, mapping)
    assert recipient == triggers.Recipient(
        "e1", {"email": "expo@x.org", "given_name": "Banco", "language": "en"}, True
    )
    assert triggers.mapped_contact({}, mapping) is None


def test_an_inline_contact_goes_on_top_of_what_is_stored() -> None:
    stored = contact(email="old@x.org", preferences={"language": "en"})
    merged = triggers.contact_for(stored, triggers.Recipient("p1", {"email": "new@x.org"}))
    assert (merged.email, merged.preferences.language) == ("new@x.org", "en")
    assert triggers.contact_for(None, triggers.Recipient("p9")).reachable is False


def test_reminder_keys_are_filled_from_the_event_or_refused_when_a_field_is_missing() -> None:
    assert reminder_key("session:{session_code|session_id}", {"session_id": "B1.2"}) == (
        "session:B1.2"
    )
    assert reminder_key("session:{session_code}", {}) is None
    assert reminder_key("forum", {}) == "forum"


CONTACT = {"email": "a@x.org", "phone": "+50370001234", "language": "es"}


def plans(
    fields: dict[str, Any], *, essential: bool, sms_template: bool = True
) -> list[tuple[str, str | None, str | None]]:
    return [
        (p.channel, p.address, p.suppressed)
        for p in plan_channels(
            ("email", "sms"), contact(**fields), essential=essential, sms_template=sms_template
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
    assert language_of(contact(language="en"), "es") == "en"
    assert language_of(contact(language="en", preferences={"language": "es"}), "es") == "es"
    assert language_of(contact(), "es") == "es"


def test_backoff_doubles_with_bounded_jitter_and_a_ceiling() -> None:
    policy = delivery.RetryPolicy(max_attempts=10, base_seconds=1, max_seconds=30, jitter=0.25)
    rng = random.Random(7)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (4, 8), (6, 30), (9, 30)]:
        delay = policy.delay(attempt, rng)
        assert base <= delay <= base * 1.25


def test_an_attempt_is_sent_retried_or_failed_with_its_event() -> None:
    # The claim has already counted the attempt: the document says which attempt this is.
    policy = delivery.RetryPolicy(max_attempts=3, base_seconds=1, jitter=0)
    ok = delivery.AttemptOutcome(
        provider="smtp", provider_message_id="<id>", errors=[("backup", "HTTP 500", False)]
    )
    sent = delivery.after_attempt(message(attempts=1), ok, policy, NOW, requeue=False)
    assert sent.change is not None and sent.result == delivery.Attempted("sent", None)
    assert (sent.change.set["attempts"], sent.change.set["provider"]) == (1, "smtp")
    assert [e.event_type for e in sent.change.events] == ["notification.sent"]

    down = delivery.AttemptOutcome(errors=[("a", "HTTP 500", False), ("b", "ConnectError", False)])
    retrying = delivery.after_attempt(message(attempts=2), down, policy, NOW, requeue=False)
    assert retrying.change is not None and retrying.result == delivery.Attempted("retrying", 2.0)
    fields = retrying.change.set
    assert fields["next_attempt_at"] == NOW + timedelta(seconds=2)
    assert fields["last_error"] == "a: HTTP 500; b: ConnectError"
    assert retrying.change.events == []  # the queue message that brought it goes back itself
    # Attempted inline (no queue message): a `notification.queued` in the outbox brings it back.
    inline = delivery.after_attempt(message(attempts=2), down, policy, NOW, requeue=True)
    assert inline.change is not None
    assert [e.event_type for e in inline.change.events] == ["notification.queued"]

    failed = delivery.after_attempt(message(attempts=3), down, policy, NOW, requeue=True)
    assert failed.change is not None and failed.result.status == "failed"
    assert [e.event_type for e in failed.change.events] == ["notification.failed"]


def test_permanent_refusals_by_every_provider_fail_at_once() -> None:
    refused = delivery.AttemptOutcome(errors=[("a", "HTTP 400", True), ("b", "HTTP 422", True)])
    decided = delivery.after_attempt(
        message(attempts=1), refused, delivery.RetryPolicy(max_attempts=5), NOW, requeue=True
    )
    assert decided.result.status == "failed"


def test_an_attempt_after_a_lost_one_is_marked_a_possible_duplicate_and_clears_the_mark() -> None:
    ok = delivery.AttemptOutcome(provider="smtp", provider_message_id="<id>")
    decided = delivery.after_attempt(
        message(attempts=2, possibly_sent=True), ok, delivery.RetryPolicy(), NOW, requeue=False
    )
    assert decided.change is not None and decided.result.status == "sent"
    assert decided.change.set["possibly_sent"] is False
    assert decided.change.set["history"][-1]["possible_duplicate"] is True


def test_a_claim_takes_a_due_deliverable_message_and_records_the_attempt() -> None:
    until = NOW + timedelta(seconds=10)
    taken = delivery.claim(message(status="queued", attempts=0), NOW, until)
    assert taken.result.claimed and taken.change is not None
    assert taken.change.set["attempts"] == 1 and taken.change.set["lease_until"] == until
    backing_off = message(status="retrying", next_attempt_at=NOW + timedelta(seconds=1500))
    waiting = delivery.claim(backing_off, NOW, until)
    assert waiting.result == delivery.Claim(False, "retrying", 1500.0) and waiting.change is None
    assert delivery.claim(message(status="sent"), NOW, until).result == delivery.Claim(
        False, "sent"
    )
    assert delivery.claim(None, NOW, until).result == delivery.Claim(False, None)
    assert delivery.hop(1500, 512) == 512 and delivery.hop(3, 512) == 3
    assert delivery.hop(-1, 512) == 0


def test_a_lapsed_lease_means_possibly_sent_send_again_until_the_attempts_are_used() -> None:
    policy = delivery.RetryPolicy(max_attempts=3)
    lapsed = message(attempts=1, lease_until=NOW - timedelta(seconds=1))
    change = delivery.after_lapsed_lease(lapsed, policy, NOW, NOW)
    assert change is not None and change.set["status"] == "queued"
    assert change.set["possibly_sent"] is True and change.set["attempts"] == 1
    assert change.set["lease_until"] is None and change.set["history"][-1]["outcome"] == "unknown"
    assert change.set["last_error"] == delivery.LOST_WORKER
    assert [e.event_type for e in change.events] == ["notification.queued"]  # through the outbox

    # A message whose worker dies on every attempt ends failed instead of looping.
    dying = message(attempts=3, lease_until=NOW - timedelta(seconds=1))
    change = delivery.after_lapsed_lease(dying, policy, NOW, NOW)
    assert change is not None and change.set["status"] == "failed"
    assert change.set["failed_at"] == NOW
    # Renewed meanwhile, or another claim: nothing to do.
    renewed = message(attempts=1, lease_until=NOW + timedelta(seconds=5))
    assert delivery.after_lapsed_lease(renewed, policy, NOW, NOW) is None
    assert delivery.after_lapsed_lease(lapsed, policy, NOW, NOW - timedelta(seconds=9)) is None


def test_a_result_is_written_while_the_claim_holds_and_an_acceptance_even_after_it_lapsed() -> None:
    mine, theirs = NOW, NOW + timedelta(seconds=30)
    assert delivery.accepts_result(message(claimed_at=mine), mine, sent=False)
    assert not delivery.accepts_result(message(claimed_at=theirs), mine, sent=False)
    assert not delivery.accepts_result(message(status="queued"), mine, sent=False)
    # The provider accepted it: that is recorded over a lapsed claim (stopping a second send)...
    for status in ("queued", "retrying", "sending"):
        assert delivery.accepts_result(message(status=status, claimed_at=theirs), mine, sent=True)
    # ...but never over a final state.
    for status in ("sent", "failed", "suppressed"):
        assert not delivery.accepts_result(message(status=status), mine, sent=True)
    assert not delivery.accepts_result(None, mine, sent=True)


def test_rate_limit_deferrals_are_bounded_and_use_no_attempt() -> None:
    policy = delivery.RetryPolicy(max_deferrals=2)
    assert policy.may_defer(message()) and policy.may_defer(message(deferrals=1))
    assert not policy.may_defer(message(deferrals=2))
    change = delivery.deferred(message(attempts=1), NOW, NOW, 0.5, requeue=True)
    assert change is not None and change.set["attempts"] == 0 and change.set["deferrals"] == 1
    assert change.set["next_attempt_at"] == NOW + timedelta(seconds=0.5)
    assert [e.event_type for e in change.events] == ["notification.queued"]
    assert delivery.deferred(message(attempts=1), NOW, NOW, 0.5, requeue=False).events == []


def test_parked_triggers_and_message_ids_are_derived_and_stable() -> None:
    assert (
        domain.parked_id("e1", "p1") == domain.parked_id("e1", "p1") != domain.parked_id("e1", "p2")
    )
    assert domain.parked_id("e1", "p1") != domain.parked_id("e2", "p1")
    assert domain.smtp_message_id("m-1") == "<m-1@foro.notification>"
    assert contact(phone="+50370001234").reachable and contact(email="a@x.org").reachable
    assert not contact(preferences={"language": "en"}).reachable


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
def test_segments_match_on_every_set_filter(segment: dict[str, Any], expected: bool) -> None:
    person = contact(
        category="civil_society",
        country="SV",
        language="es",
        status="confirmed",
        preferences={"language": "en"},
    )
    assert in_segment(person, segment) is expected


def test_a_reminder_keeps_the_event_without_the_people_it_names() -> None:
    trigger = Trigger(message_type="session_rescheduled", recipients=("affected", "requester.id"))
    body = {
        "session_code": "B1.2",
        "affected": [{"email": "a@x.org"}],
        "requester": {"id": "p"},
        "title": {},
    }
    assert without_people(body, trigger) == {"session_code": "B1.2", "title": {}}

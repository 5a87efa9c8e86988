"""Reporting's folds: idempotent, independent of delivery order, forgetting names on erasure; and
the batch fold, which writes each document once for many events."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.reporting.budget.rules import budget_entry_from
from services.reporting.common import RuleViolation
from services.reporting.documents import EntityState, ParticipantState
from services.reporting.projections.fold import Fold
from services.reporting.projections.rules import Target, fold_entity, fold_participant, targets
from services.reporting.projections.statistics import participant_statistics
from services.reporting.projections.views import EventView

FORUM = "crm-foro-sector-privado-migraciones"
PID = str(uuid.uuid4())
SECTORS = {"media": "media", "company": "private"}


def event(event_type: str, minute: int, **payload: Any) -> EventView:
    return EventView.model_validate(
        {
            "event_type": event_type,
            "event_id": str(uuid.uuid4()),
            "producer": "test",
            "occurred_at": (
                datetime(2004, 11, 18, tzinfo=UTC) + timedelta(minutes=minute)
            ).isoformat(),
            **payload,
        }
    )


def snapshot(status: str, listed: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "participant": {
            "participant_id": PID,
            "forum_id": FORUM,
            "status": status,
            "category": "media",
            "country": "CR",
            "language": "es",
            "given_name": "Lía",
            "family_name": "Mora",
            "organisation": "Diario",
            "consents": {"listed_publicly": listed},
            **extra,
        }
    }


def fold_all(events: list[EventView]) -> dict[str, Any] | None:
    """The participant's fields after `events`, through the rules alone (no consumed-id check:
    the rules themselves must make a repeated event change nothing)."""
    document: ParticipantState | None = None
    for item in events:
        change = fold_participant(document, item, PID, FORUM)
        if change is not None:
            document = (
                ParticipantState.model_validate({"_id": PID, **change.set})
                if document is None
                else document.updated(change.set)
            )
    return None if document is None else document.dump()


def test_the_participant_fold_does_not_depend_on_delivery_order() -> None:
    history = [
        event("registration.confirmed", 1, **snapshot("confirmed")),
        event("registration.updated", 2, **snapshot("confirmed", listed=False)),
        event("attendee.checked_in", 3, participant_id=PID, point="B1.1", day="2004-11-18"),
        event("registration.cancelled", 4, **snapshot("cancelled", listed=False)),
    ]
    results = {
        repr(sorted(fold_all(list(order)).items())) for order in itertools.permutations(history)
    }
    assert len(results) == 1
    final = fold_all(history)
    assert final is not None
    assert (
        final["status"] == "cancelled"
        and final["given_name"] is None
        and [c["point"] for c in final["checkins"].values()] == ["B1.1"]
    )


def test_an_erased_participant_keeps_counting_but_loses_the_name_whatever_arrives_later() -> None:
    confirmed = event("registration.confirmed", 1, **snapshot("confirmed"))
    erased = event("participant.erased", 5, participant_id=PID)
    late_update = event("registration.updated", 9, **snapshot("confirmed"))
    document = fold_all([confirmed, erased, late_update])
    assert document is not None
    assert (
        document["erased"] is True
        and document["family_name"] is None
        and document["status"] == "confirmed"
    )
    statistics = participant_statistics([document], SECTORS)
    assert statistics["by_country"] == {"CR": 1} and statistics["by_sector"] == {"media": 1}


def test_a_snapshot_without_consent_to_be_listed_keeps_no_name() -> None:
    document = fold_all([event("registration.confirmed", 1, **snapshot("confirmed", listed=False))])
    assert document is not None
    assert (document["given_name"], document["family_name"], document["organisation"]) == (
        None,
        None,
        None,
    )


def test_a_category_the_pack_gives_no_sector_counts_as_other() -> None:
    document = fold_all([event("registration.confirmed", 1, **snapshot("confirmed"))])
    assert document is not None
    assert participant_statistics([document], {})["by_sector"] == {"other": 1}


def test_events_are_routed_to_the_entities_they_change() -> None:
    assert targets(event("booth.assigned", 1, booth_code="F01", exhibitor_id="e1")) == [
        Target("entities", "booth:F01", "booth")
    ]
    assert targets(event("session.signed_up", 1, session_code="B2.1", participant_id=PID)) == [
        Target("entities", f"session_signup:B2.1:{PID}", "session_signup")
    ]
    assert targets(event("something.new", 1)) == []
    older, newer = (
        event("meeting.accepted", 2, meeting_id="m"),
        event("meeting.requested", 1, meeting_id="m"),
    )
    target = targets(older)[0]
    created = fold_entity(None, older, target, FORUM)
    assert created is not None
    document = EntityState.model_validate({"_id": target.doc_id, **created.set})
    assert fold_entity(document, newer, target, FORUM) is None  # older news does not overwrite


def test_panelist_support_becomes_a_budget_entry_that_moves_with_the_grant() -> None:
    granted = budget_entry_from(
        event("travel_support.committed", 1, support_id="s1", amount="1250.50")
    )
    paid = budget_entry_from(event("travel_support.paid", 2, support_id="s1", amount_usd=1200))
    cancelled = budget_entry_from(
        event("travel_support.cancelled", 3, support_id="s1", amount_usd=1200)
    )
    assert granted is not None and paid is not None and cancelled is not None
    assert (granted.kind, granted.amount_cents, granted.line) == (
        "commitment",
        125050,
        "panelist_support",
    )
    assert granted.entry_id == paid.entry_id == cancelled.entry_id
    assert (paid.kind, paid.amount_cents, cancelled.amount_cents) == ("expense", 120000, 0)


# --- the batch fold ------------------------------------------------------------------------------


def test_a_batch_writes_each_document_once_with_every_event_it_consumed() -> None:
    confirmed = event("registration.confirmed", 1, **snapshot("confirmed"))
    scan = event("attendee.checked_in", 2, participant_id=PID, point="entrance", day="2004-11-18")
    signup = event("session.signup_confirmed", 3, session_code="B2.1", participant_id=PID)
    fold = Fold(FORUM)
    for item in (confirmed, scan, signup, scan, confirmed):  # two delivered twice
        fold.add(item)
    writes = dict(fold.writes())
    participant, entity = writes["participants"], writes["entities"]
    assert participant.version is None and entity.version is None  # new: inserted whole
    assert participant.causes == (str(confirmed.event_id), str(scan.event_id))
    expected = fold_all([confirmed, scan])
    assert expected is not None
    assert {"_id": PID, **participant.fields} == expected
    assert entity.causes == (str(signup.event_id),)


def test_an_existing_document_gets_only_what_changed_on_the_version_read() -> None:
    confirmed = event("registration.confirmed", 1, **snapshot("confirmed"))
    first = Fold(FORUM)
    first.add(confirmed)
    stored = {**first.documents[("participants", PID)].document(), "version": 3}
    second = Fold(FORUM)
    second.read(("participants", PID), stored)
    second.add(confirmed)  # consumed before: nothing
    assert list(second.writes()) == []
    second.add(event("attendee.checked_in", 2, participant_id=PID, point="entrance"))
    [(collection, write)] = list(second.writes())
    assert (collection, write.version, list(write.fields)) == ("participants", 3, ["checkins"])


def test_an_event_the_rules_refuse_changes_no_document_of_a_batch() -> None:
    broken = event(
        "registration.confirmed",
        1,
        participant={"participant_id": PID, "status": "confirmed", "consents": "not a mapping"},
    )
    fold = Fold(FORUM)
    with pytest.raises(RuleViolation, match="participant"):
        fold.add(broken)
    assert list(fold.writes()) == []


@pytest.mark.parametrize("size", [1, 3, 7])
def test_folding_in_batches_of_any_size_ends_where_one_by_one_does(size: int) -> None:
    history = [
        event("registration.confirmed", 1, **snapshot("confirmed")),
        event("attendee.checked_in", 2, participant_id=PID, point="entrance", day="2004-11-18"),
        event("participant.consent_changed", 3, participant_id=PID, consents={}),
        event("registration.updated", 4, **snapshot("confirmed", listed=True)),
        event("meeting.requested", 5, meeting_id="m-1", exhibitor_id="ex-1"),
        event("meeting.confirmed", 6, meeting_id="m-1"),
        event("attendee.checked_in", 7, participant_id=PID, point="entrance", day="2004-11-18"),
    ]
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(history), size):
        fold = Fold(FORUM)
        for key, document in stored.items():
            fold.read(key, document)
        for item in history[start : start + size]:
            fold.add(item)
        for key, folded in fold.documents.items():
            if folded.causes:
                stored[key] = folded.document()
    whole = Fold(FORUM)
    for item in history:
        whole.add(item)
    assert stored == {key: folded.document() for key, folded in whole.documents.items()}


def test_a_sign_up_counts_on_the_day_it_was_first_recorded_in_the_forums_zone() -> None:
    late_evening = 60 * 24 + 60  # 01:00 UTC on the 19th: the 18th in San Salvador (UTC-6)
    history = [
        event("registration.submitted", late_evening, **snapshot("pending_approval")),
        event("registration.confirmed", late_evening + 60 * 24, **snapshot("confirmed")),
    ]
    for order in itertools.permutations(history):
        document = fold_all(list(order))
        assert document is not None
        assert document["registered_as_of"].startswith("2004-11-19T01:00")
    document = fold_all(history)
    assert document is not None
    salvador = ZoneInfo("America/El_Salvador")
    stats = participant_statistics([document, {"status": "confirmed"}], SECTORS, salvador)
    assert stats["signups_by_day"] == {"2004-11-18": 1}
    assert participant_statistics([document], SECTORS)["signups_by_day"] == {"2004-11-19": 1}

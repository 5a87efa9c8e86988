"""Reporting's folds: idempotent, independent of delivery order, forgetting names on erasure."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting import projections
from services.reporting.projections import EventView, fold_entity, fold_participant, targets
from services.reporting.statistics import participant_statistics

FORUM = "crm-foro-sector-privado-migraciones"
PID = str(uuid.uuid4())


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
    document: dict[str, Any] | None = None
    for item in events:
        change = fold_participant(document, item, FORUM)
        if change is not None:
            document = {**(document or {}), **change.set}
            for key in [
                k for k in document if "." in k
            ]:  # apply dotted $set paths like MongoDB would
                outer, inner = key.split(".", 1)
                document[outer] = {**(document.get(outer) or {}), inner: document.pop(key)}
    return document


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
    assert (
        document["erased"] is True
        and document["family_name"] is None
        and document["status"] == "confirmed"
    )
    assert participant_statistics([document])["by_country"] == {"CR": 1}


def test_a_snapshot_without_consent_to_be_listed_keeps_no_name() -> None:
    document = fold_all([event("registration.confirmed", 1, **snapshot("confirmed", listed=False))])
    assert (document["given_name"], document["family_name"], document["organisation"]) == (
        None,
        None,
        None,
    )


def test_events_are_routed_to_the_entities_they_change() -> None:
    assert targets(event("booth.assigned", 1, booth_code="F01", exhibitor_id="e1")) == [
        projections.Target("entities", "booth:F01", "booth")
    ]
    assert targets(event("session.signed_up", 1, session_code="B2.1", participant_id=PID)) == [
        projections.Target("entities", f"session_signup:B2.1:{PID}", "session_signup")
    ]
    assert targets(event("something.new", 1)) == []
    older, newer = (
        event("meeting.accepted", 2, meeting_id="m"),
        event("meeting.requested", 1, meeting_id="m"),
    )
    target = targets(older)[0]
    document = fold_entity(None, older, target, FORUM).set
    assert fold_entity(document, newer, target, FORUM) is None  # older news does not overwrite


def test_panelist_support_becomes_a_budget_entry_that_moves_with_the_grant() -> None:
    granted = projections.budget_entry_from(
        event("travel_support.committed", 1, support_id="s1", amount="1250.50")
    )
    paid = projections.budget_entry_from(
        event("travel_support.paid", 2, support_id="s1", amount_usd=1200)
    )
    cancelled = projections.budget_entry_from(
        event("travel_support.cancelled", 3, support_id="s1", amount_usd=1200)
    )
    assert (granted.kind, granted.amount_cents, granted.line) == (
        "commitment",
        125050,
        "panelist_support",
    )
    assert granted.entry_id == paid.entry_id == cancelled.entry_id
    assert (paid.kind, paid.amount_cents, cancelled.amount_cents) == ("expense", 120000, 0)

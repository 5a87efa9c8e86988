"""Reporting's projections end the same in every order other services' events arrive, each twice."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.reporting.documents import EntityState
from services.reporting.projections.fold import Fold
from services.reporting.projections.rules import fold_entity, targets
from services.reporting.projections.views import EventView
from tests.unit.test_reporting_projections import FORUM, PID, event, fold_all, snapshot


def twice(events: tuple[EventView, ...]) -> list[EventView]:
    return [item for item in events for _ in range(2)]


def fold_entities(events: list[EventView]) -> dict[str, dict[str, Any]]:
    """Entity documents after `events`, through the rules alone (the store's consumed-id check
    played by `seen`)."""
    documents: dict[str, EntityState] = {}
    seen: set[tuple[str, str]] = set()
    for item in events:
        for target in targets(item):
            if (target.doc_id, str(item.event_id)) in seen:
                continue  # the store records each consumed event id per document
            seen.add((target.doc_id, str(item.event_id)))
            current = documents.get(target.doc_id)
            change = fold_entity(current, item, target, FORUM)
            if change is not None:
                documents[target.doc_id] = (
                    EntityState.model_validate({"_id": target.doc_id, **change.set})
                    if current is None
                    else current.updated(change.set)
                )
    return {doc_id: document.dump() for doc_id, document in documents.items()}


def fold_batch(events: list[EventView]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every document after `events` folded as one batch (the live consumer's and the rebuild's
    way), without the consumed ids."""
    fold = Fold(FORUM)
    for item in events:
        fold.add(item)
    return {
        key: {k: v for k, v in folded.document().items() if k != "processed"}
        for key, folded in fold.documents.items()
        if folded.exists
    }


PARTICIPANT_HISTORIES = {
    "erasure overtakes the confirmation": [
        event("registration.confirmed", 1, **snapshot("confirmed")),
        event("participant.erased", 5, participant_id=PID, category="media", country="CR"),
    ],
    "erasure overtakes the cancellation": [
        event("registration.confirmed", 1, **snapshot("confirmed")),
        event("registration.cancelled", 3, **snapshot("cancelled")),
        event("participant.erased", 5, participant_id=PID),
    ],
    "check-in and consent before the confirmation": [
        event("registration.confirmed", 1, **snapshot("confirmed")),
        event(
            "participant.consent_changed",
            2,
            participant_id=PID,
            consents={"listed_publicly": False},
        ),
        event("attendee.checked_in", 3, participant_id=PID, point="entrance", day="2004-11-18"),
        event("attendee.checked_in", 4, participant_id=PID, point="entrance", day="2004-11-18"),
    ],
}


@pytest.mark.parametrize("name", list(PARTICIPANT_HISTORIES))
def test_participant_state_is_the_same_in_every_order_and_under_duplicates(name: str) -> None:
    history = PARTICIPANT_HISTORIES[name]
    right = fold_all(history)
    batch = fold_batch(history)
    for order in itertools.permutations(history):
        assert fold_all(list(order)) == right, [e.event_type for e in order]
        assert fold_all(twice(order)) == right, [e.event_type for e in order]
        assert fold_batch(twice(order)) == batch, [e.event_type for e in order]


ENTITY_HISTORIES = {
    "a sign-up cancelled before it arrives": [
        event("session.signup_confirmed", 1, session_code="B2.1", participant_id=PID),
        event(
            "session.signup_cancelled", 2, session_code="B2.1", participant_id=PID, was="confirmed"
        ),
    ],
    "a meeting confirmed before it was requested": [
        event("meeting.requested", 1, meeting_id="m-1", exhibitor_id="ex-1"),
        event("meeting.confirmed", 2, meeting_id="m-1", table=4),
    ],
    "an exhibitor approved before it applied, moved zone in between": [
        event(
            "exhibitor.applied",
            1,
            exhibitor_id="ex-2",
            sector="finance_remittances",
            zone="finance",
        ),
        event("exhibitor.updated", 2, exhibitor_id="ex-2", zone="trade"),
        event("exhibitor.approved", 3, exhibitor_id="ex-2", exhibitor_type="company"),
    ],
}


@pytest.mark.parametrize("name", list(ENTITY_HISTORIES))
def test_entity_state_is_the_same_in_every_order_and_under_duplicates(name: str) -> None:
    history = ENTITY_HISTORIES[name]
    right = fold_entities(history)
    batch = fold_batch(history)
    for order in itertools.permutations(history):
        assert fold_entities(list(order)) == right, [e.event_type for e in order]
        assert fold_entities(twice(order)) == right, [e.event_type for e in order]
        assert fold_batch(twice(order)) == batch, [e.event_type for e in order]

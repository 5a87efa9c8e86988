"""Scheduling's participants projection ends the same in every order registration's events arrive."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.documents import ParticipantProjection
from services.scheduling.people import rules

T0 = datetime(2004, 11, 1, 12, 0, tzinfo=UTC)


def snapshot(status: str) -> dict[str, Any]:
    return {
        "participant_id": "p-1",
        "forum_id": "crm-2004",
        "given_name": "Ana",
        "family_name": "Pérez",
        "email": "ana@example.org",
        "phone": "+50370001234",
        "language": "es",
        "country": "SV",
        "organisation": "OIM",
        "category": "civil_society",
        "status": status,
    }


def confirmed(minute: int) -> tuple[str, Any]:
    return "snapshot", (snapshot("confirmed"), T0 + timedelta(minutes=minute), True)


def cancelled(minute: int) -> tuple[str, Any]:
    return "snapshot", (snapshot("cancelled"), T0 + timedelta(minutes=minute), False)


def erased(minute: int) -> tuple[str, Any]:
    return "erase", T0 + timedelta(minutes=minute)


def fold(events: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] | None = None
    seen: set[int] = set()
    for kind, args in events:
        if id(args) in seen:
            continue  # the store records each consumed event id: a duplicate changes nothing
        seen.add(id(args))
        if kind == "erase":
            change = rules.erase_participant(ParticipantProjection.read(doc), args)
        else:
            participant, at, registers = args
            change = rules.project_participant(
                ParticipantProjection.read(doc), participant, at, registers=registers
            )
        if change is not None:
            doc = {**(doc or {}), **change.set}
    return doc or {}


HISTORIES = {
    "confirmed, erased": [confirmed(1), erased(3)],
    "confirmed, cancelled, erased": [confirmed(1), cancelled(2), erased(3)],
    "confirmed, erased, registered again": [confirmed(1), erased(3), confirmed(4)],
}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_every_order_gives_the_projection_the_right_order_gives(name: str) -> None:
    history = HISTORIES[name]
    right = fold(history)
    for order in itertools.permutations(history):
        assert fold(list(order)) == right, order
        assert fold([event for event in order for _ in range(2)]) == right, order


def test_an_erasure_first_parks_a_tombstone_and_the_late_confirmation_keeps_only_what_counts() -> (
    None
):
    doc = fold([erased(3), confirmed(1)])
    assert doc["erased"] and doc["email"] is None and doc["given_name"] is None
    assert (doc["status"], doc["category"], doc["country"], doc["forum_id"]) == (
        "confirmed",
        "civil_society",
        "SV",
        "crm-2004",
    )


def test_a_cancellation_after_the_erasure_still_sets_the_status_the_sign_ups_follow() -> None:
    doc = fold([confirmed(1), erased(3), cancelled(2)])
    assert doc["status"] == "cancelled" and doc["erased"]

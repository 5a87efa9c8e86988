"""Session holds in a participant's busy calendar come out the same in every delivery order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.expo.calendars import rules as domain
from services.expo.documents import CalendarDocument

T0 = datetime(2004, 11, 18, 12, 0, 0, 123456, tzinfo=UTC)
MORNING = domain.Slot(
    datetime(2004, 11, 18, 15, 45, tzinfo=UTC), datetime(2004, 11, 18, 16, 45, tzinfo=UTC)
)
AFTERNOON = domain.Slot(
    datetime(2004, 11, 18, 21, 0, tzinfo=UTC), datetime(2004, 11, 18, 22, 0, tzinfo=UTC)
)
HOLD = "session:B1.1"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def signed_up(minute: int, slot: domain.Slot = MORNING) -> tuple[str, Any]:
    return "hold", (slot, at(minute))


def rescheduled(minute: int, slot: domain.Slot = AFTERNOON) -> tuple[str, Any]:
    return "hold", (slot, at(minute))


def released(minute: int) -> tuple[str, Any]:
    return "release", at(minute)


def fold(events: list[tuple[str, Any]]) -> dict[str, Any]:
    calendar: dict[str, Any] | None = None
    for kind, args in events:
        document = CalendarDocument.read(None if calendar is None else {"_id": "c", **calendar})
        change = (
            domain.session_hold(document, HOLD, *args)
            if kind == "hold"
            else domain.session_release(document, HOLD, args)
        )
        if change is not None:
            calendar = {**(calendar or {}), **change.set}
    return calendar or {}


def busy(calendar: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return [(h["starts_at"], h["ends_at"]) for h in calendar.get("holds", [])]


HISTORIES = {
    # name: (events in the order they happened, the slots the participant is busy in at the end)
    "sign-up, then cancelled": ([signed_up(1), released(2)], []),
    "sign-up, then the session moved": (
        [signed_up(1), rescheduled(2)],
        [(AFTERNOON.starts_at, AFTERNOON.ends_at)],
    ),
    "sign-up, then the session cancelled": ([signed_up(1), released(2)], []),
    "sign-up, moved, given up, signed up again": (
        [signed_up(1), rescheduled(2), released(3), signed_up(4, AFTERNOON)],
        [(AFTERNOON.starts_at, AFTERNOON.ends_at)],
    ),
    "moved, then given up": ([signed_up(1), rescheduled(2), released(3)], []),
}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_every_delivery_order_and_every_duplicate_gives_the_calendar_the_right_order_gives(
    name: str,
) -> None:
    history, expected = HISTORIES[name]
    right = fold(history)
    assert busy(right) == expected
    for order in itertools.permutations(history):
        assert busy(fold(list(order))) == expected, order
        twice = [event for event in order for _ in range(2)]
        assert fold(twice) == fold(list(order)), order


def model(calendar: dict[str, Any]) -> CalendarDocument:
    return CalendarDocument.model_validate({"_id": "c", **calendar})


def test_a_late_sign_up_after_its_cancellation_leaves_no_hold_and_the_tombstone_stays() -> None:
    calendar = fold([released(2)])
    assert calendar["holds"] == [] and calendar["released"][0]["id"] == HOLD
    assert domain.session_hold(model(calendar), HOLD, MORNING, at(1)) is None


def test_a_release_older_than_the_hold_changes_nothing() -> None:
    calendar = fold([signed_up(4)])
    assert domain.session_release(model(calendar), HOLD, at(3)) is None


def test_the_same_news_twice_changes_nothing_the_second_time() -> None:
    once = fold([signed_up(1)])
    assert domain.session_hold(model(once), HOLD, MORNING, at(1)) is None
    gone = fold([signed_up(1), released(2)])
    assert domain.session_release(model(gone), HOLD, at(2)) is None

"""Reporting's rules: conclusion workflow, follow-ups once per deadline, budget alerts once per threshold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.reporting import domain

NOW = datetime(2005, 1, 1, tzinfo=UTC)
FORUM = "crm-foro-sector-privado-migraciones"
CID, IID = str(uuid.uuid4()), str(uuid.uuid4())


def apply(document, change):
    return {**(document or {}), **change.set} if change else document


def test_a_conclusion_goes_draft_submitted_approved_with_an_event_for_each_step() -> None:
    texts = {"es": {"title": "Remesas", "key_issues": "", "discussion": "", "way_forward": ""}}
    change = domain.draft_conclusion(None, CID, FORUM, "B2.1", texts, "R", NOW)
    document = {**change.set, "_id": CID}
    with pytest.raises(domain.RuleViolation):
        domain.approve_conclusion(document, "S", NOW)
    submitted = domain.submit_conclusion(document, NOW)
    document = apply(document, submitted)
    with pytest.raises(domain.RuleViolation, match="cannot be edited"):
        domain.draft_conclusion(document, CID, FORUM, "B2.1", texts, "R", NOW)
    approved = domain.approve_conclusion(document, "S", NOW)
    assert [e.event_type for e in (*change.events, *submitted.events, *approved.events)] == [
        "conclusion.drafted",
        "conclusion.submitted",
        "conclusion.approved",
    ]
    assert domain.approve_conclusion(apply(document, approved), "S", NOW) is None


def item(**overrides):
    return {
        "_id": IID,
        "forum_id": FORUM,
        "title": {"es": "Fondo", "en": "Fund"},
        "status": "planned",
        "deadline": "2005-01-10",
        "follow_ups": [],
        "owner": {"kind": "sector", "code": "x", "name": "X", "language": "en"},
        **overrides,
    }


def test_an_overdue_item_is_followed_up_once_per_deadline() -> None:
    assert domain.follow_up(item(), date(2005, 1, 10), NOW) is None  # due today is not overdue
    first = domain.follow_up(item(), date(2005, 1, 11), NOW)
    assert first.set["overdue"] is True and [e.title for e in first.events] == ["Fund"]
    again = domain.follow_up(apply(item(), first), date(2005, 1, 20), NOW)
    assert again is None
    assert domain.follow_up(item(status="done", overdue=True), date(2005, 1, 20), NOW).set == {
        "overdue": False
    }
    moved = domain.follow_up(
        apply(item(), first) | {"deadline": "2005-01-15"}, date(2005, 1, 16), NOW
    )
    assert moved.events[0].event_id != first.events[0].event_id


def entry(document, entry_id, cents, as_of="1"):
    return domain.record_budget_entry(
        document,
        forum_id=FORUM,
        line="panelist_support",
        planned_cents=500_000,
        currency="USD",
        entry_id=entry_id,
        kind="expense",
        amount_cents=cents,
        description="",
        as_of=as_of,
        source="t",
    )


def test_a_budget_line_alerts_once_at_80_and_once_at_100_percent() -> None:
    document = apply(None, entry(None, "a", 390_000))
    crossing = entry(document, "b", 20_000)  # 82 %
    assert [e.threshold_percent for e in crossing.events] == [80]
    document = apply(document, crossing)
    assert entry(document, "c", 1_000).events == []  # still between 80 and 100
    assert entry(document, "b", 20_000) is None  # the same entry again
    over = entry(document, "d", 100_000)
    assert [e.threshold_percent for e in over.events] == [100]
    jump = entry(None, "e", 600_000)
    assert [e.threshold_percent for e in jump.events] == [80, 100]

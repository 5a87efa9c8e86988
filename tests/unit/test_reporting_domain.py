"""Reporting's own rules: conclusion workflow, follow-ups once per deadline, budget alerts once per
threshold — on the typed documents they own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reporting.action_plan import rules as plan
from services.reporting.budget import rules as budget
from services.reporting.common import RuleViolation
from services.reporting.conclusions import rules as conclusions
from services.reporting.documents import ActionItem, BudgetLine, Conclusion
from shared.decisions import Change

NOW = datetime(2005, 1, 1, tzinfo=UTC)
FORUM = "crm-foro-sector-privado-migraciones"
CID, IID = str(uuid.uuid4()), str(uuid.uuid4())


def test_a_conclusion_goes_draft_submitted_approved_with_an_event_for_each_step() -> None:
    texts = {"es": {"title": "Remesas", "key_issues": "", "discussion": "", "way_forward": ""}}
    draft = conclusions.Draft(CID, FORUM, "B2.1", texts, "R")
    change = conclusions.draft_conclusion(None, draft, NOW)
    assert change is not None
    document = Conclusion.model_validate({"_id": CID, **change.set})
    with pytest.raises(RuleViolation):
        conclusions.approve_conclusion(document, "S", NOW)
    submitted = conclusions.submit_conclusion(document, NOW)
    assert submitted is not None
    document = document.updated(submitted.set)
    with pytest.raises(RuleViolation, match="cannot be edited"):
        conclusions.draft_conclusion(document, draft, NOW)
    approved = conclusions.approve_conclusion(document, "S", NOW)
    assert approved is not None
    assert [e.event_type for e in (*change.events, *submitted.events, *approved.events)] == [
        "conclusion.drafted",
        "conclusion.submitted",
        "conclusion.approved",
    ]
    assert conclusions.approve_conclusion(document.updated(approved.set), "S", NOW) is None
    with pytest.raises(RuleViolation, match="not found"):
        conclusions.submit_conclusion(None, NOW)


def item(**overrides: Any) -> ActionItem:
    return ActionItem.model_validate(
        {
            "_id": IID,
            "forum_id": FORUM,
            "title": {"es": "Fondo", "en": "Fund"},
            "status": "planned",
            "deadline": "2005-01-10",
            "follow_ups": [],
            "owner": {"kind": "sector", "code": "x", "name": "X", "language": "en"},
            **overrides,
        }
    )


def test_an_overdue_item_is_followed_up_once_per_deadline() -> None:
    assert plan.follow_up(item(), date(2005, 1, 10), NOW) is None  # due today is not overdue
    first = plan.follow_up(item(), date(2005, 1, 11), NOW)
    assert first is not None
    assert first.set["overdue"] is True and [e.title for e in first.events] == ["Fund"]
    followed = item().updated(first.set)
    assert plan.follow_up(followed, date(2005, 1, 20), NOW) is None
    done = plan.follow_up(item(status="done", overdue=True), date(2005, 1, 20), NOW)
    assert done is not None and done.set == {"overdue": False}
    moved = plan.follow_up(followed.updated({"deadline": "2005-01-15"}), date(2005, 1, 16), NOW)
    assert moved is not None and moved.events[0].event_id != first.events[0].event_id


def test_an_item_moves_only_where_its_status_allows() -> None:
    with pytest.raises(RuleViolation, match="cannot become planned"):
        plan.update_action_item(
            item(status="done"), plan.ItemUpdate(status="planned"), NOW, NOW.date()
        )
    change = plan.update_action_item(
        item(), plan.ItemUpdate(status="in_progress", note="Mesa instalada"), NOW, date(2005, 1, 11)
    )
    assert change.set["overdue"] is True and change.set["notes"][0]["text"] == "Mesa instalada"
    assert [e.event_type for e in change.events] == ["action_item.updated"]


PLAN = budget.LinePlan(FORUM, "panelist_support", 500_000, "USD")


def entry(line: BudgetLine | None, entry_id: str, cents: int, as_of: str = "1") -> Change | None:
    request = budget.EntryRequest(
        line="panelist_support",
        entry_id=entry_id,
        kind="expense",
        amount_cents=cents,
        description="",
        as_of=as_of,
        source="t",
    )
    return budget.record_entry(line, PLAN, request)


def after(line: BudgetLine | None, change: Change | None) -> BudgetLine:
    assert change is not None
    if line is None:
        return BudgetLine.model_validate(change.set)
    return line.updated(change.set)


def test_a_budget_line_alerts_once_at_80_and_once_at_100_percent() -> None:
    line = after(None, entry(None, "a", 390_000))
    crossing = entry(line, "b", 20_000)  # 82 %
    assert crossing is not None
    assert [e.threshold_percent for e in crossing.events] == [80]
    line = after(line, crossing)
    still = entry(line, "c", 1_000)
    assert still is not None and still.events == []  # still between 80 and 100
    assert entry(line, "b", 20_000) is None  # the same entry again
    over = entry(line, "d", 100_000)
    assert over is not None and [e.threshold_percent for e in over.events] == [100]
    jump = entry(None, "e", 600_000)
    assert jump is not None and [e.threshold_percent for e in jump.events] == [80, 100]
    assert budget.budget_summary([line], [("panelist_support", 500_000)])[0]["percent"] == 82.0

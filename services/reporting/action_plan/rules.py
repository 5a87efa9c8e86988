"""The action plan — pure rules.

An item moves  planned ─► in_progress ─► done   (any open state ─► cancelled; done and cancelled
may reopen). An open item past its deadline is *overdue*; its owner is reminded once per deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.reporting.common import PRODUCER, RuleViolation
from services.reporting.documents import ActionItem
from shared.contracts.envelope import derive_id
from shared.contracts.reporting import ActionItemCreated, ActionItemFollowUpDue, ActionItemUpdated
from shared.decisions import Change

OPEN_ITEM = frozenset({"planned", "in_progress"})
ALLOWED_MOVES = {
    "planned": {"planned", "in_progress", "done", "cancelled"},
    "in_progress": {"in_progress", "done", "cancelled"},
    "done": {"done", "in_progress"},
    "cancelled": {"cancelled", "planned"},
}


@dataclass(frozen=True)
class NewItem:
    item_id: str
    forum_id: str
    title: dict[str, str]
    owner: dict[str, Any]
    deadline: str  # ISO date
    conclusion_ids: list[str]


@dataclass(frozen=True)
class ItemUpdate:
    status: str | None = None
    deadline: date | None = None
    owner: dict[str, Any] | None = None
    note: str | None = None
    evidence_url: str | None = None
    conclusion_ids: list[str] | None = None


def _payload(item: ActionItem) -> dict[str, Any]:
    return {
        "forum_id": item.forum_id,
        "action_item_id": item.id,
        "title": item.title,
        "owner": item.owner,
        "deadline": item.deadline,
        "status": item.status,
        "conclusion_ids": item.conclusion_ids,
    }


def create_action_item(document: ActionItem | None, new: NewItem, now: datetime) -> Change | None:
    if document is not None:
        return None  # the same creation retried
    fields = {
        "forum_id": new.forum_id,
        "title": new.title,
        "owner": new.owner,
        "deadline": new.deadline,
        "conclusion_ids": new.conclusion_ids,
        "status": "planned",
        "notes": [],
        "follow_ups": [],
        "overdue": False,
        "created_at": now,
        "updated_at": now,
    }
    item = ActionItem.model_validate({"_id": new.item_id, **fields})
    created = ActionItemCreated.model_validate({"producer": PRODUCER, **_payload(item)})
    return Change(set=fields, events=[created])


def update_action_item(
    document: ActionItem | None, change: ItemUpdate, now: datetime, today: date
) -> Change:
    if document is None:
        raise RuleViolation("action item: not found")
    fields: dict[str, Any] = {"updated_at": now}
    if change.status is not None:
        if change.status not in ALLOWED_MOVES[document.status]:
            raise RuleViolation(f"status: an item {document.status} cannot become {change.status}")
        fields["status"] = change.status
    if change.deadline is not None:
        fields["deadline"] = change.deadline.isoformat()
    if change.owner is not None:
        fields["owner"] = change.owner
    if change.conclusion_ids is not None:
        fields["conclusion_ids"] = change.conclusion_ids
    if change.note or change.evidence_url:
        fields["notes"] = [
            *document.notes,
            {"at": now, "text": change.note or "", "evidence_url": change.evidence_url},
        ]
    updated = document.updated(fields)
    fields["overdue"] = is_overdue(updated, today)
    event = ActionItemUpdated.model_validate(
        {
            "producer": PRODUCER,
            **_payload(updated),
            "note": change.note,
            "evidence_url": change.evidence_url,
        }
    )
    return Change(set=fields, events=[event])


def is_overdue(item: ActionItem, today: date) -> bool:
    return item.status in OPEN_ITEM and date.fromisoformat(item.deadline) < today


def follow_up(document: ActionItem | None, today: date, now: datetime) -> Change | None:
    """Flag an overdue item and remind its owner — once per item and deadline."""
    if document is None:
        return None
    if not is_overdue(document, today):
        return Change(set={"overdue": False}) if document.overdue else None
    deadline = document.deadline
    if deadline in document.follow_ups:
        return None if document.overdue else Change(set={"overdue": True})
    owner = document.owner
    language = owner.get("language", "es")
    title = document.title.get(language) or next(iter(document.title.values()))
    event = ActionItemFollowUpDue.model_validate(
        {
            "event_id": derive_id(document.id, "follow_up", deadline),
            "producer": PRODUCER,
            "forum_id": document.forum_id,
            "action_item_id": document.id,
            "title": title,
            "owner": owner,
            "deadline": deadline,
            "days_overdue": (today - date.fromisoformat(deadline)).days,
            "status": document.status,
        }
    )
    return Change(
        set={
            "overdue": True,
            "follow_ups": [*document.follow_ups, deadline],
            "followed_up_at": now,
        },
        events=[event],
    )

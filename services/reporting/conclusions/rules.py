"""Reporting's own rules, free of I/O: conclusions, the action plan and the budget.

Conclusions move   draft ─► submitted ─► approved     (submitted ─► draft when returned)
Action items move  planned ─► in_progress ─► done      (any open state ─► cancelled)
An open item past its deadline is *overdue*; its owner is reminded once per deadline.
A budget line alerts once when consumption (expenses and open commitments) reaches 80 %, once at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.contracts.envelope import derive_id
from shared.contracts.reporting import (
    ActionItemCreated,
    ActionItemFollowUpDue,
    ActionItemUpdated,
    BudgetThresholdCrossed,
    ConclusionApproved,
    ConclusionDrafted,
    ConclusionSubmitted,
)
from shared.decisions import Change

PRODUCER = "reporting"
THRESHOLDS = (80, 100)
OPEN_ITEM = frozenset({"planned", "in_progress"})


class RuleViolation(Exception):
    """A request the rules refuse (wrong state, unknown line…): the API answers 409/422 with it."""


# --- conclusions -----------------------------------------------------------------------------


def _conclusion_event(cls: type, doc: dict[str, Any], event_id: Any = None) -> Any:
    extra = {"event_id": event_id} if event_id else {}
    return cls(
        producer=PRODUCER,
        forum_id=doc["forum_id"],
        conclusion_id=doc["_id"],
        session_code=doc["session_code"],
        languages=sorted(doc["texts"]),
        texts=doc["texts"],
        **extra,
    )


def draft_conclusion(
    document: dict[str, Any] | None,
    conclusion_id: str,
    forum_id: str,
    session_code: str,
    texts: dict[str, dict[str, str]],
    rapporteur: str | None,
    now: datetime,
) -> Change | None:
    """Create or edit a draft; only drafts can be edited."""
    if document is not None and document["status"] != "draft":
        raise RuleViolation(f"status: a {document['status']} conclusion cannot be edited")
    if not texts:
        raise RuleViolation("texts: write the conclusion in at least one language (es or en)")
    if (
        document is not None
        and document["texts"] == texts
        and document["session_code"] == session_code
    ):
        return None
    fields = {
        "forum_id": forum_id,
        "session_code": session_code,
        "texts": texts,
        "status": "draft",
        "rapporteur": rapporteur,
        "updated_at": now,
    }
    if document is None:
        fields["created_at"] = now
    updated = {**(document or {}), **fields, "_id": conclusion_id}
    return Change(set=fields, events=[_conclusion_event(ConclusionDrafted, updated)])


def submit_conclusion(document: dict[str, Any] | None, now: datetime) -> Change | None:
    if document is None:
        raise RuleViolation("conclusion: not found")
    if document["status"] == "submitted":
        return None
    if document["status"] != "draft":
        raise RuleViolation(f"status: a {document['status']} conclusion cannot be submitted")
    updated = {**document, "status": "submitted"}
    return Change(
        set={"status": "submitted", "submitted_at": now, "updated_at": now},
        events=[_conclusion_event(ConclusionSubmitted, updated)],
    )


def approve_conclusion(
    document: dict[str, Any] | None, approver: str | None, now: datetime
) -> Change | None:
    if document is None:
        raise RuleViolation("conclusion: not found")
    if document["status"] == "approved":
        return None
    if document["status"] != "submitted":
        raise RuleViolation("status: only a submitted conclusion can be approved")
    updated = {**document, "status": "approved"}
    return Change(
        set={"status": "approved", "approved_at": now, "approved_by": approver, "updated_at": now},
        events=[_conclusion_event(ConclusionApproved, updated)],
    )


def return_conclusion(document: dict[str, Any] | None, now: datetime) -> Change | None:
    if document is None:
        raise RuleViolation("conclusion: not found")
    if document["status"] != "submitted":
        raise RuleViolation("status: only a submitted conclusion can be returned to its rapporteur")
    updated = {**document, "status": "draft"}
    return Change(
        set={"status": "draft", "updated_at": now},
        events=[_conclusion_event(ConclusionDrafted, updated)],
    )


# --- action plan -----------------------------------------------------------------------------


def _item_payload(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "forum_id": doc["forum_id"],
        "action_item_id": doc["_id"],
        "title": doc["title"],
        "owner": doc["owner"],
        "deadline": doc["deadline"],
        "status": doc["status"],
        "conclusion_ids": doc.get("conclusion_ids", []),
    }


def create_action_item(
    document: dict[str, Any] | None, item: dict[str, Any], now: datetime
) -> Change | None:
    """`item`: forum_id, title {es,en}, owner, deadline (ISO date), conclusion_ids."""
    if document is not None:
        return None  # the same creation retried
    fields = {
        **item,
        "status": "planned",
        "notes": [],
        "follow_ups": [],
        "overdue": False,
        "created_at": now,
        "updated_at": now,
    }
    return Change(
        set=fields,
        events=[
            ActionItemCreated(producer=PRODUCER, **_item_payload({**fields, "_id": item["_id"]}))
        ],
    )


@dataclass(frozen=True)
class ItemUpdate:
    status: str | None = None
    deadline: date | None = None
    owner: dict[str, Any] | None = None
    note: str | None = None
    evidence_url: str | None = None
    conclusion_ids: list[str] | None = None


ALLOWED_MOVES = {
    "planned": {"planned", "in_progress", "done", "cancelled"},
    "in_progress": {"in_progress", "done", "cancelled"},
    "done": {"done", "in_progress"},
    "cancelled": {"cancelled", "planned"},
}


def update_action_item(
    document: dict[str, Any] | None, change: ItemUpdate, now: datetime, today: date
) -> Change:
    if document is None:
        raise RuleViolation("action item: not found")
    fields: dict[str, Any] = {"updated_at": now}
    if change.status is not None:
        if change.status not in ALLOWED_MOVES[document["status"]]:
            raise RuleViolation(
                f"status: an item {document['status']} cannot become {change.status}"
            )
        fields["status"] = change.status
    if change.deadline is not None:
        fields["deadline"] = change.deadline.isoformat()
    if change.owner is not None:
        fields["owner"] = change.owner
    if change.conclusion_ids is not None:
        fields["conclusion_ids"] = change.conclusion_ids
    if change.note or change.evidence_url:
        fields["notes"] = [
            *document.get("notes", []),
            {"at": now, "text": change.note or "", "evidence_url": change.evidence_url},
        ]
    updated = {**document, **fields}
    fields["overdue"] = is_overdue(updated, today)
    return Change(
        set=fields,
        events=[
            ActionItemUpdated(
                producer=PRODUCER,
                **_item_payload(updated),
                note=change.note,
                evidence_url=change.evidence_url,
            )
        ],
    )


def is_overdue(document: dict[str, Any], today: date) -> bool:
    return document["status"] in OPEN_ITEM and date.fromisoformat(document["deadline"]) < today


def follow_up(document: dict[str, Any] | None, today: date, now: datetime) -> Change | None:
    """Flag an overdue item and remind its owner — once per item and deadline."""
    if document is None:
        return None
    overdue = is_overdue(document, today)
    if not overdue:
        return Change(set={"overdue": False}) if document.get("overdue") else None
    deadline = document["deadline"]
    if deadline in document.get("follow_ups", []):
        return None if document.get("overdue") else Change(set={"overdue": True})
    owner = document["owner"]
    language = owner.get("language", "es")
    title = document["title"].get(language) or next(iter(document["title"].values()))
    event = ActionItemFollowUpDue(
        event_id=derive_id(document["_id"], "follow_up", deadline),
        producer=PRODUCER,
        forum_id=document["forum_id"],
        action_item_id=document["_id"],
        title=title,
        owner=owner,
        deadline=deadline,
        days_overdue=(today - date.fromisoformat(deadline)).days,
        status=document["status"],
    )
    return Change(
        set={
            "overdue": True,
            "follow_ups": [*document.get("follow_ups", []), deadline],
            "followed_up_at": now,
        },
        events=[event],
    )


# --- budget ----------------------------------------------------------------------------------


def consumed_cents(line: dict[str, Any]) -> int:
    return sum(entry["amount_cents"] for entry in (line.get("entries") or {}).values())


def executed_cents(line: dict[str, Any]) -> int:
    return sum(
        e["amount_cents"] for e in (line.get("entries") or {}).values() if e["kind"] == "expense"
    )


def record_budget_entry(
    document: dict[str, Any] | None,
    *,
    forum_id: str,
    line: str,
    planned_cents: int,
    currency: str,
    entry_id: str,
    kind: str,
    amount_cents: int,
    description: str,
    as_of: str,
    source: str,
) -> Change | None:
    """Add or replace (newer `as_of` wins) an entry of a budget line; alert on crossing 80 % / 100 %."""
    if kind not in ("commitment", "expense"):
        raise RuleViolation("kind: must be commitment or expense")
    if amount_cents < 0:
        raise RuleViolation("amount: must not be negative")
    entries = dict((document or {}).get("entries") or {})
    current = entries.get(entry_id)
    if current is not None and current["as_of"] >= as_of:
        return None
    entries[entry_id] = {
        "kind": kind,
        "amount_cents": amount_cents,
        "description": description,
        "as_of": as_of,
        "source": source,
    }
    alerted = list((document or {}).get("alerted") or [])
    consumed = sum(entry["amount_cents"] for entry in entries.values())
    events = []
    for threshold in THRESHOLDS:
        if (
            threshold not in alerted
            and planned_cents > 0
            and consumed * 100 >= planned_cents * threshold
        ):
            alerted.append(threshold)
            events.append(
                BudgetThresholdCrossed(
                    event_id=derive_id(forum_id, "budget", line, threshold),
                    producer=PRODUCER,
                    forum_id=forum_id,
                    line=line,
                    threshold_percent=threshold,
                    planned_cents=planned_cents,
                    consumed_cents=consumed,
                    currency=currency,
                )
            )
    fields = {
        "forum_id": forum_id,
        "line": line,
        "planned_cents": planned_cents,
        "currency": currency,
        "entries": entries,
        "alerted": alerted,
    }
    return Change(set=fields, events=events)


def budget_summary(
    lines: list[dict[str, Any]], plan: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    """Planned, committed, executed and percentage per line, in the pack's order."""
    by_code = {line["line"]: line for line in lines}
    rows = []
    for code, planned in plan:
        line = by_code.get(code, {})
        consumed, executed = consumed_cents(line), executed_cents(line)
        rows.append(
            {
                "line": code,
                "planned_cents": planned,
                "executed_cents": executed,
                "committed_cents": consumed - executed,
                "consumed_cents": consumed,
                "percent": round(consumed * 100 / planned, 1) if planned else 0.0,
                "alerted": sorted(line.get("alerted") or []),
            }
        )
    return rows

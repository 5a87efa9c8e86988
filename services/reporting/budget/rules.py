"""The budget against plan — pure rules.

A line's consumption is its expenses and open commitments; it alerts once when consumption
reaches 80 % of the planned amount, once at 100 %. Entries come from the secretariat and from
other services' events (panelist support granted, paid or cancelled: one entry, replaced as it
moves; a newer `as_of` wins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.reporting.common import PRODUCER, RuleViolation
from services.reporting.documents import BudgetLine
from services.reporting.projections.rules import BUDGET_PREFIXES, SESSION_IDS
from services.reporting.projections.views import EventView, find, participant_id_of, safe
from shared.contracts.envelope import derive_id
from shared.contracts.reporting import BudgetEntryRecorded, BudgetThresholdCrossed
from shared.decisions import Change

THRESHOLDS = (80, 100)
SECRETARIAT = "secretariat"  # the source of an entry the secretariat records (not an event's)
PANELIST_LINE = "panelist_support"
_RELEASED = {"cancelled", "withdrawn", "revoked", "rejected", "declined"}
_PAID = {"paid", "reimbursed", "settled", "disbursed"}


@dataclass(frozen=True)
class EntryRequest:
    """An entry to record on a line: from the secretariat, or from another service's event."""

    line: str
    entry_id: str
    kind: str  # "commitment" | "expense"
    amount_cents: int
    description: str
    as_of: str
    source: str


@dataclass(frozen=True)
class LinePlan:
    """A line as the pack plans it."""

    forum_id: str
    line: str
    planned_cents: int
    currency: str


def record_entry(document: BudgetLine | None, plan: LinePlan, entry: EntryRequest) -> Change | None:
    """Add or replace (newer `as_of` wins) an entry of a budget line; alert on crossing 80 % / 100 %."""
    if entry.kind not in ("commitment", "expense"):
        raise RuleViolation("kind: must be commitment or expense")
    if entry.amount_cents < 0:
        raise RuleViolation("amount: must not be negative")
    entries = {key: e.dump() for key, e in document.entries.items()} if document else {}
    current = entries.get(entry.entry_id)
    if current is not None and current["as_of"] >= entry.as_of:
        return None
    entries[entry.entry_id] = {
        "kind": entry.kind,
        "amount_cents": entry.amount_cents,
        "description": entry.description,
        "as_of": entry.as_of,
        "source": entry.source,
    }
    alerted = list(document.alerted) if document else []
    consumed = sum(e["amount_cents"] for e in entries.values())
    events: list[BudgetEntryRecorded | BudgetThresholdCrossed] = []
    if entry.source == SECRETARIAT:  # who changed the line: the audit trail reads it
        events.append(
            BudgetEntryRecorded.model_validate(
                {
                    "event_id": derive_id(
                        plan.forum_id, "budget-entry", plan.line, entry.entry_id, entry.as_of
                    ),
                    "producer": PRODUCER,
                    "forum_id": plan.forum_id,
                    "line": plan.line,
                    "entry_id": entry.entry_id,
                    "kind": entry.kind,
                    "amount_cents": entry.amount_cents,
                    "consumed_cents": consumed,
                    "currency": plan.currency,
                }
            )
        )
    for threshold in THRESHOLDS:
        if (
            threshold not in alerted
            and plan.planned_cents > 0
            and consumed * 100 >= plan.planned_cents * threshold
        ):
            alerted.append(threshold)
            events.append(
                BudgetThresholdCrossed.model_validate(
                    {
                        "event_id": derive_id(plan.forum_id, "budget", plan.line, threshold),
                        "producer": PRODUCER,
                        "forum_id": plan.forum_id,
                        "line": plan.line,
                        "threshold_percent": threshold,
                        "planned_cents": plan.planned_cents,
                        "consumed_cents": consumed,
                        "currency": plan.currency,
                    }
                )
            )
    fields = {
        "forum_id": plan.forum_id,
        "line": plan.line,
        "planned_cents": plan.planned_cents,
        "currency": plan.currency,
        "entries": entries,
        "alerted": alerted,
    }
    return Change(set=fields, events=events)


def budget_summary(lines: list[BudgetLine], plan: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Planned, committed, executed and percentage per line, in the pack's order."""
    by_code = {line.line: line for line in lines}
    rows = []
    for code, planned in plan:
        line = by_code.get(code)
        consumed = line.consumed_cents if line else 0
        executed = line.executed_cents if line else 0
        rows.append(
            {
                "line": code,
                "planned_cents": planned,
                "executed_cents": executed,
                "committed_cents": consumed - executed,
                "consumed_cents": consumed,
                "percent": round(consumed * 100 / planned, 1) if planned else 0.0,
                "alerted": sorted(line.alerted) if line else [],
            }
        )
    return rows


# --- entries from other services' events -------------------------------------------------------


def amount_cents(payload: dict[str, Any]) -> int | None:
    """An amount from a tolerant payload: `amount_cents`, or `amount`/`amount_usd` in units."""
    if isinstance(payload.get("amount_cents"), int):
        return int(payload["amount_cents"])
    for name in ("amount_usd", "amount", "cost_usd", "cost"):
        value = payload.get(name)
        if isinstance(value, (int, float)) or (
            isinstance(value, str) and re.fullmatch(r"\d+(\.\d{1,2})?", value)
        ):
            return round(float(value) * 100)
        if isinstance(value, dict) and isinstance(value.get("amount"), (int, float, str)):
            return amount_cents({"amount": value["amount"]})
    return None


def budget_entry_from(event: EventView) -> EntryRequest | None:
    """Panelist support granted, paid or cancelled becomes one budget entry, replaced as it moves."""
    kind = event.event_type
    if not ("support" in kind or kind.startswith(BUDGET_PREFIXES)):
        return None
    payload = event.payload
    cents = amount_cents(payload)
    if cents is None:
        return None
    support = find(payload, ("support_id", "grant_id", "request_id", "travel_support_id")) or (
        f"{participant_id_of(payload) or ''}:{find(payload, SESSION_IDS) or ''}"
    )
    if event.verb in _RELEASED:
        entry_kind, cents = "commitment", 0
    elif event.verb in _PAID:
        entry_kind = "expense"
    else:
        entry_kind = "commitment"
    return EntryRequest(
        line=str(payload.get("budget_line") or PANELIST_LINE),
        entry_id=safe(f"support-{support}"),
        kind=entry_kind,
        amount_cents=cents,
        description=kind,
        as_of=event.stamp,
        source=str(event.event_id),
    )

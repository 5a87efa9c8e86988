"""The budget's use cases: entries from the secretariat and from other services' events, and the
execution against plan."""

from __future__ import annotations

import uuid
from typing import Any

from services.reporting.budget import rules
from services.reporting.common import RuleViolation
from services.reporting.deps import Reporting, on_budget_line
from services.reporting.documents import BudgetLine
from services.reporting.projections.views import now_stamp, safe


def line_plan(deps: Reporting, line: str) -> rules.LinePlan:
    for planned in deps.pack.budget.lines:
        if planned.code == line:
            return rules.LinePlan(
                deps.forum_id, line, int(planned.amount * 100), deps.pack.budget.currency
            )
    raise RuleViolation(f"line: {line!r} is not a budget line of this forum")


async def apply_entry(
    deps: Reporting, entry: rules.EntryRequest, cause_id: str | None = None
) -> dict[str, Any] | None:
    """Record `entry` on its line (a newer `as_of` replaces an entry; an older one changes
    nothing); `RuleViolation` for a line the pack does not plan."""
    plan = line_plan(deps, entry.line)
    applied = await deps.repository.budget.apply(
        f"{deps.forum_id}:{entry.line}",
        cause_id,
        on_budget_line(lambda line: rules.record_entry(line, plan, entry)),
    )
    return applied.document


async def record_budget_entry(
    deps: Reporting,
    line: str,
    kind: str,
    amount_cents: int,
    description: str,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """The secretariat records a commitment or an expense; the same `entry_id` again changes nothing."""
    key = safe(f"manual-{entry_id or uuid.uuid4()}")
    entry = rules.EntryRequest(
        line=line,
        entry_id=key,
        kind=kind,
        amount_cents=amount_cents,
        description=description,
        as_of=now_stamp(deps.clock()),
        source=rules.SECRETARIAT,
    )
    return await apply_entry(deps, entry, cause_id=f"entry:{key}") or {}


async def budget_execution(deps: Reporting) -> list[dict[str, Any]]:
    plan = [(line.code, int(line.amount * 100)) for line in deps.pack.budget.lines]
    stored = await deps.repository.budget_lines(deps.forum_id)
    return rules.budget_summary([BudgetLine.model_validate(line) for line in stored], plan)

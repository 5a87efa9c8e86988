"""The conclusions' use cases: a rapporteur drafts, the secretariat submits, approves or returns."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from services.reporting.common import RuleViolation
from services.reporting.conclusions import rules
from services.reporting.deps import Reporting, on_conclusion

type Move = Literal["submit", "approve", "return"]


async def draft_conclusion(
    deps: Reporting,
    session_code: str,
    texts: dict[str, dict[str, str]],
    rapporteur: str | None,
    conclusion_id: str | None = None,
) -> dict[str, Any]:
    if deps.pack.programme.item(session_code) is None:
        raise RuleViolation(f"session_code: {session_code!r} is not in the programme")
    draft = rules.Draft(
        conclusion_id or str(uuid.uuid4()), deps.forum_id, session_code, texts, rapporteur
    )
    now = deps.clock()
    applied = await deps.repository.conclusions.apply(
        draft.conclusion_id,
        None,
        on_conclusion(lambda conclusion: rules.draft_conclusion(conclusion, draft, now)),
    )
    return applied.document or {}


async def move_conclusion(
    deps: Reporting, conclusion_id: str, action: Move, actor: str | None = None
) -> dict[str, Any]:
    now = deps.clock()
    decide = {
        "submit": on_conclusion(lambda c: rules.submit_conclusion(c, now)),
        "approve": on_conclusion(lambda c: rules.approve_conclusion(c, actor, now)),
        "return": on_conclusion(lambda c: rules.return_conclusion(c, now)),
    }[action]
    applied = await deps.repository.conclusions.apply(conclusion_id, None, decide)
    return applied.document or {}

"""Conclusions of the sessions — pure rules.

A conclusion moves  draft ─► submitted ─► approved   (submitted ─► draft when returned);
only a draft is edited, and each move is announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.reporting.common import PRODUCER, RuleViolation
from services.reporting.documents import Conclusion
from shared.contracts.reporting import ConclusionApproved, ConclusionDrafted, ConclusionSubmitted
from shared.decisions import Change

type ConclusionEvent = ConclusionDrafted | ConclusionSubmitted | ConclusionApproved


@dataclass(frozen=True)
class Draft:
    """What a rapporteur writes: the session and the texts by language."""

    conclusion_id: str
    forum_id: str
    session_code: str
    texts: dict[str, dict[str, str]]
    rapporteur: str | None


def _announced(cls: type[ConclusionEvent], conclusion: Conclusion) -> ConclusionEvent:
    return cls.model_validate(
        {
            "producer": PRODUCER,
            "forum_id": conclusion.forum_id,
            "conclusion_id": conclusion.id,
            "session_code": conclusion.session_code,
            "languages": sorted(conclusion.texts),
            "texts": conclusion.texts,
        }
    )


def draft_conclusion(document: Conclusion | None, draft: Draft, now: datetime) -> Change | None:
    """Create or edit a draft; only drafts can be edited."""
    if document is not None and document.status != "draft":
        raise RuleViolation(f"status: a {document.status} conclusion cannot be edited")
    if not draft.texts:
        raise RuleViolation("texts: write the conclusion in at least one language (es or en)")
    if (
        document is not None
        and document.texts == draft.texts
        and document.session_code == draft.session_code
    ):
        return None
    fields = {
        "forum_id": draft.forum_id,
        "session_code": draft.session_code,
        "texts": draft.texts,
        "status": "draft",
        "rapporteur": draft.rapporteur,
        "updated_at": now,
    }
    if document is None:
        fields["created_at"] = now
        after = Conclusion.model_validate({"_id": draft.conclusion_id, **fields})
    else:
        after = document.updated(fields)
    return Change(set=fields, events=[_announced(ConclusionDrafted, after)])


def _found(document: Conclusion | None) -> Conclusion:
    if document is None:
        raise RuleViolation("conclusion: not found")
    return document


def submit_conclusion(document: Conclusion | None, now: datetime) -> Change | None:
    conclusion = _found(document)
    if conclusion.status == "submitted":
        return None
    if conclusion.status != "draft":
        raise RuleViolation(f"status: a {conclusion.status} conclusion cannot be submitted")
    fields = {"status": "submitted", "submitted_at": now, "updated_at": now}
    return Change(set=fields, events=[_announced(ConclusionSubmitted, conclusion.updated(fields))])


def approve_conclusion(
    document: Conclusion | None, approver: str | None, now: datetime
) -> Change | None:
    conclusion = _found(document)
    if conclusion.status == "approved":
        return None
    if conclusion.status != "submitted":
        raise RuleViolation("status: only a submitted conclusion can be approved")
    fields = {"status": "approved", "approved_at": now, "approved_by": approver, "updated_at": now}
    return Change(set=fields, events=[_announced(ConclusionApproved, conclusion.updated(fields))])


def return_conclusion(document: Conclusion | None, now: datetime) -> Change | None:
    conclusion = _found(document)
    if conclusion.status != "submitted":
        raise RuleViolation("status: only a submitted conclusion can be returned to its rapporteur")
    fields = {"status": "draft", "updated_at": now}
    return Change(set=fields, events=[_announced(ConclusionDrafted, conclusion.updated(fields))])

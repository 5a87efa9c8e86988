"""Conflicts of the draft as the secretariat sees them before publishing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.scheduling.conflicts.rules import Conflict, find_conflicts, scheduled
from services.scheduling.deps import Scheduling
from services.scheduling.documents import SessionDocument


def of_draft(deps: Scheduling, documents: Iterable[dict[str, Any]]) -> list[Conflict]:
    """Every conflict of the draft `documents` (as the repository read them)."""
    sessions = (SessionDocument.model_validate(d) for d in documents)
    return find_conflicts(scheduled(sessions), deps.venue)


async def conflicts(deps: Scheduling) -> list[Conflict]:
    return of_draft(deps, await deps.repository.draft(deps.forum_id))

"""What every capability's use cases share: the dependencies, and the adapters that hand a typed
rule what a store read.

`Reporting` is built once in `bootstrap` and kept on the app (`app.state.deps`); routers,
declared at module level, get it with `Depends(reporting)` (the `Deps` annotation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from services.reporting.documents import ActionItem, BudgetLine, Conclusion, ReportRecord
from services.reporting.repository import ReportingRepository
from shared.pack import EventPack

type Stored = dict[str, Any] | None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Reporting:
    """Everything reporting's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ReportingRepository
    clock: Callable[[], datetime] = utc_now
    output_dir: Path | None = None
    fold_batch: int = 500  # events the live fold writes together, at most

    @property
    def forum_id(self) -> str:
        return self.pack.forum.id

    def today(self) -> date:
        """Today on the forum's calendar (deadlines are local dates)."""
        return self.clock().astimezone(self.pack.forum.tz).date()


def reporting(request: Request) -> Reporting:
    """The service's dependencies, for routes (`bootstrap.create_app` keeps them on the app)."""
    return cast(Reporting, request.app.state.deps)


Deps = Annotated[Reporting, Depends(reporting)]


# --- typed rules as the store calls them: with what it read ----------------------------------


def on_conclusion[R](rule: Callable[[Conclusion | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(Conclusion.read(stored))


def on_action_item[R](rule: Callable[[ActionItem | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(ActionItem.read(stored))


def on_budget_line[R](rule: Callable[[BudgetLine | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(BudgetLine.read(stored))


def on_report[R](rule: Callable[[ReportRecord | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(ReportRecord.read(stored))

"""The periodic round: remind owners of overdue action items, and once the forum has ended,
generate the final Memoria (once per language). Every `interval` seconds."""

from __future__ import annotations

from services.reporting.action_plan.handlers import check_follow_ups
from services.reporting.deps import Reporting
from services.reporting.publishing.handlers import generate_final_if_due
from shared.periodic import Periodic


class FollowUpScheduler(Periodic):
    name = "reporting-follow-ups"

    def __init__(self, deps: Reporting, interval: float, *, final_memoria: bool = True) -> None:
        super().__init__(interval)
        self._deps = deps
        self._final_memoria = final_memoria

    async def tick(self) -> None:
        await check_follow_ups(self._deps)
        if self._final_memoria:
            await generate_final_if_due(self._deps)

"""The periodic round: remind owners of overdue action items, and once the forum has ended,
generate the final Memoria (once per language). Every `interval` seconds."""

from __future__ import annotations

from services.reporting import handlers
from shared.periodic import Periodic


class FollowUpScheduler(Periodic):
    name = "reporting-follow-ups"

    def __init__(
        self, deps: handlers.Reporting, interval: float, *, final_memoria: bool = True
    ) -> None:
        super().__init__(interval)
        self._deps = deps
        self._final_memoria = final_memoria

    async def tick(self) -> None:
        await handlers.check_follow_ups(self._deps)
        if self._final_memoria:
            await handlers.generate_final_if_due(self._deps)

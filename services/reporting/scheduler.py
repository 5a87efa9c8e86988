"""The periodic round: remind owners of overdue action items, and once the forum has ended,
generate the final Memoria (once per language). Every `interval` seconds."""

from __future__ import annotations

import asyncio

import structlog

from services.reporting import handlers

log = structlog.get_logger("foro.reporting.scheduler")


class FollowUpScheduler:
    def __init__(self, deps: handlers.Reporting, interval: float, *, final_memoria: bool = True) -> None:
        self._deps = deps
        self._final_memoria = final_memoria
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reporting-follow-ups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await handlers.check_follow_ups(self._deps)
                if self._final_memoria:
                    await handlers.generate_final_if_due(self._deps)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database down: the next round retries
                log.exception("follow-up check failed; retrying at the next interval")
            await asyncio.sleep(self._interval)

"""The background loop: due reminders, campaign batches, and the stale-message safety net.

State lives in the database (reminders with their due time, campaigns with their cursor), so a
restart loses nothing; claims are atomic, so two replicas never fire one reminder twice.
"""

from __future__ import annotations

import asyncio

import structlog

from services.notification import handlers

log = structlog.get_logger("foro.notification.scheduler")


class Scheduler:
    def __init__(self, deps: handlers.Notification, tick_seconds: float) -> None:
        self.deps = deps
        self.tick_seconds = tick_seconds
        self.ticks = 0  # completed passes; tests wait on it instead of sleeping
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        await handlers.fire_due_reminders(self.deps)
        await handlers.expand_campaigns(self.deps)
        await handlers.requeue_stale(self.deps)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notification-scheduler")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database or broker down: the next tick tries again
                log.exception("scheduler pass failed")
            self.ticks += 1
            await asyncio.sleep(self.tick_seconds)

"""A background pass every few seconds, for work that is due by time rather than by message
(reminders, follow-ups). A failed pass is logged and the next one tries again; state lives in
the database, so a restart loses nothing."""

from __future__ import annotations

import asyncio

import structlog

log = structlog.get_logger("foro.periodic")


class Periodic:
    name = "periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.ticks = 0  # completed passes; tests wait on it instead of sleeping
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

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
            except Exception:
                log.exception("periodic pass failed; the next one retries", task=self.name)
            self.ticks += 1
            await asyncio.sleep(self.interval)

"""A background pass every few seconds, for work that is due by time rather than by message
(reminders, follow-ups). A failed pass is logged and the next one tries again; state lives in
the database, so a restart loses nothing. With a `lease` (shared/leases.py), only the replica
holding it runs the pass; the others skip it until the lease lapses or is given back."""

from __future__ import annotations

import asyncio

import structlog

from shared.leases import Lease

log = structlog.get_logger("foro.periodic")


class Periodic:
    name = "periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.ticks = 0  # completed passes; tests wait on it instead of sleeping
        self._task: asyncio.Task[None] | None = None
        self.lease: Lease | None = None  # set by the service: one replica runs the pass
        self.skipped = 0  # passes left to the lease's holder

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
        if self.lease is not None:
            try:  # another replica takes over at once rather than after the lease's ttl
                async with asyncio.timeout(2.0):
                    await self.lease.release()
            except Exception as error:
                log.warning("lease not given back; it lapses", task=self.name, error=repr(error))

    async def _run(self) -> None:
        while True:
            try:
                if self.lease is None or await self.lease.hold():
                    await self.tick()
                else:
                    self.skipped += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic pass failed; the next one retries", task=self.name)
            self.ticks += 1
            await asyncio.sleep(self.interval)

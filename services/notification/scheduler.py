"""The background loop: due reminders, campaign batches, and the delivery sweep.

State lives in the database (reminders with their due time, campaigns with their cursor, messages
with their lease), so a restart loses nothing; claims are atomic, so two replicas never fire one
reminder twice. The sweep (lapsed leases, lost queue messages) runs every `sweep_seconds`.
Started and stopped by the runtime's hooks (`runtime.on_start` / `on_stop`).
"""

from __future__ import annotations

import time

from services.notification.campaigns.handlers import expand_campaigns
from services.notification.delivery.sweep import sweep
from services.notification.deps import Notification
from services.notification.reminders.handlers import fire_due_reminders
from shared.periodic import Periodic


class Scheduler(Periodic):
    name = "notification-scheduler"

    def __init__(self, deps: Notification, tick_seconds: float, sweep_seconds: float = 5.0) -> None:
        super().__init__(tick_seconds)
        self.deps = deps
        self.sweep_seconds = sweep_seconds
        self._next_sweep = 0.0

    async def start(self) -> None:
        """Idempotent: a start-up the runtime retries (the broker unreachable) starts one loop."""
        if self._task is None or self._task.done():
            await super().start()

    async def tick(self) -> None:
        await fire_due_reminders(self.deps)
        await expand_campaigns(self.deps)
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_seconds
            await sweep(self.deps)

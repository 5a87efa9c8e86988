"""The background loop: due reminders, campaign batches, and the stale-message safety net.

State lives in the database (reminders with their due time, campaigns with their cursor), so a
restart loses nothing; claims are atomic, so two replicas never fire one reminder twice.
"""

from __future__ import annotations

from services.notification import handlers
from shared.periodic import Periodic


class Scheduler(Periodic):
    name = "notification-scheduler"

    def __init__(self, deps: handlers.Notification, tick_seconds: float) -> None:
        super().__init__(tick_seconds)
        self.deps = deps

    async def tick(self) -> None:
        await handlers.fire_due_reminders(self.deps)
        await handlers.expand_campaigns(self.deps)
        await handlers.requeue_stale(self.deps)

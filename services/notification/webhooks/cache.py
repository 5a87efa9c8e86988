"""The enabled outbound webhook endpoints, in memory: an event's fan-out never waits on the
database for them (every trigger would otherwise pay one more round trip for a handful of
documents that rarely change).

Each replica loads them at start, then again every `refresh_seconds` (a task of its own, not the
scheduler's lease: every replica fans out), and at once after a change made through its own API.
A change made on another replica reaches this one within `refresh_seconds`. A cache no refresher
keeps (a handler called outside the running service) reads again once it is that old.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import structlog

from services.notification.webhooks.rules import EndpointDocument

if TYPE_CHECKING:
    from services.notification.repository import NotificationRepository

log = structlog.get_logger("foro.notification.webhooks")


class EndpointCache:
    def __init__(self, refresh_seconds: float = 5.0) -> None:
        self.refresh_seconds = refresh_seconds
        self.endpoints: list[EndpointDocument] = []
        self.loaded_at: float | None = None
        self._refresher: asyncio.Task[None] | None = None

    async def load(self, repository: NotificationRepository) -> None:
        found = await repository.endpoint_collection.find({"enabled": True}).to_list()
        self.endpoints = [EndpointDocument.model_validate(document) for document in found]
        self.loaded_at = time.monotonic()

    async def current(self, repository: NotificationRepository) -> list[EndpointDocument]:
        kept = self._refresher is not None and not self._refresher.done()
        stale = self.loaded_at is None or (
            not kept and time.monotonic() - self.loaded_at > self.refresh_seconds
        )
        if stale:
            await self.load(repository)
        return self.endpoints

    async def start(self, repository: NotificationRepository) -> None:
        await self.load(repository)
        self._refresher = asyncio.create_task(self._refresh(repository), name="webhook-endpoints")

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None

    async def _refresh(self, repository: NotificationRepository) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.load(repository)
            except Exception as error:  # the database away: keep what is known, try again
                log.warning("webhook endpoints not refreshed", error=type(error).__name__)

"""Every query notification sends while it tells people, delivers, parks and sweeps is answered
from an index (issue 12): recorded from the wire and explained over a few hundred messages and
contacts. On SecantusDB an `$or` or a filter no index covers is a collection scan, which grows
with the forum."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.notification.delivery.handlers import deliver
from services.notification.delivery.sweep import replay, sweep
from services.notification.deps import Notification
from services.notification.reminders.handlers import fire_due_reminders
from services.notification.repository import NotificationRepository
from services.notification.settings import NotificationSettings
from services.notification.triggers.handlers import handle_trigger
from shared.contracts.notification import NotificationQueued
from tests.integration.notification.conftest import RunningNotification
from tests.support.notification import badge_issued, confirmed, participant
from tests.support.wire import FilterRecorder, located_by

CROWD = 300


async def test_telling_delivering_parking_and_sweeping_read_only_through_indexes(
    notification: RunningNotification,
    notification_settings: NotificationSettings,
    mongo_url: str,
) -> None:
    recorder = FilterRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        database = client[notification_settings.database]
        running = notification.deps
        deps = Notification(
            pack=running.pack,
            book=running.book,
            repository=NotificationRepository(database),
            providers=running.providers,
            policy=running.policy,
            clock=running.clock,
            sweep_seconds=0.0,
        )
        for person in [participant() for _ in range(CROWD)]:
            await handle_trigger(confirmed(person), deps)
        recorder.filters.clear()

        # A new person, a known one, a badge before its registration (parked, then completed).
        known, late = participant(), participant()
        await handle_trigger(confirmed(known), deps)
        await handle_trigger(confirmed({**known, "given_name": "Ana María"}), deps)
        await handle_trigger(badge_issued(late), deps)
        await handle_trigger(confirmed(late), deps)
        # The delivery queue: a duplicate, a replay; the sweep; due reminders.
        (message, _) = await notification.messages(person_id=known["participant_id"])
        queued = NotificationQueued(
            producer="test",
            message_id=message["_id"],
            message_type=message["message_type"],
            channel="email",
            recipient_id=known["participant_id"],
        )
        assert await deliver(queued, deps) == "duplicate_sent"
        assert await replay(str(uuid.uuid4()), deps) is None
        await sweep(deps)
        # A month later (this pass's clock only: the running service's scheduler stays put).
        deps.clock = lambda: notification.clock() + timedelta(days=30)
        assert await fire_due_reminders(deps) > CROWD

        issued = list(recorder.filters)
        collections = {name for name, _ in issued}
        assert {"messages", "contacts", "parked", "reminders"} <= collections, collections
        for collection, query in issued:
            plan = await database[collection].find(located_by(query)).explain()
            assert "COLLSCAN" not in json.dumps(plan, default=str), (collection, query, plan)
    finally:
        await client.close()

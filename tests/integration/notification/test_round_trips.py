"""What a confirmation costs the database (issue 12): a person not seen before is told in three
writes — the contact upserted, the message created already claimed, the result with its event —
and no queue message; counted on the wire. Then the outbox relay clears the event."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from services.notification.deps import Notification
from services.notification.repository import NotificationRepository
from services.notification.settings import NotificationSettings
from services.notification.triggers.handlers import handle_trigger
from tests.integration.notification.conftest import RunningNotification
from tests.support.notification import confirmed, participant
from tests.support.wire import Commands


async def test_a_new_person_is_told_in_three_writes_and_a_known_one_reads_their_contact(
    notification: RunningNotification,
    notification_settings: NotificationSettings,
    mongo_url: str,
) -> None:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[commands], tz_aware=True
    )
    try:
        running = notification.deps
        deps = Notification(
            pack=running.pack,
            book=running.book,
            repository=NotificationRepository(client[notification_settings.database]),
            providers=running.providers,
            policy=running.policy,
            clock=running.clock,
            webhooks=running.webhooks,  # the endpoints in memory, kept by the running service
        )
        await client.admin.command("ping")
        person = participant()
        commands.sent.clear()
        counts = await handle_trigger(confirmed(person), deps)

        assert counts == {"sending": 1, "sent": 1}
        assert commands.sent == [
            ("update", "contacts"),  # one upsert creates the contact
            ("insert", "messages"),  # rendered, claimed: the attempt recorded before the send
            ("update", "reminders"),  # the forum's day-before reminder
            ("update", "messages"),  # sent, with notification.sent in its outbox
        ]
        (email,) = notification.emails_to(person["email"])

        # A known person: the contact is read back after the write (preferences, parked triggers).
        commands.sent.clear()
        await handle_trigger(confirmed({**person, "status": "confirmed"}), deps)
        assert commands.sent[:3] == [
            ("update", "contacts"),
            ("find", "contacts"),
            ("insert", "messages"),
        ]
        assert len(notification.emails_to(person["email"])) == 2
        assert email["Message-ID"] != notification.emails_to(person["email"])[1]["Message-ID"]
    finally:
        await client.close()

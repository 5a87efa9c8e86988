"""Reporting folds what an event's envelope says it is, however it reached the queue, and in any order.

A retried event comes back through the default exchange with the queue's own name as routing key
(issue 10: five participants went missing from the statistics after a database restart, because
their retried `registration.confirmed` was refused for not matching its routing key).
"""

from __future__ import annotations

import json
from typing import Any

import aio_pika
import pytest

from services.reporting.projections.handlers import current_statistics
from shared.messaging.topology import ORIGINAL_EXCHANGE_HEADER, ORIGINAL_ROUTING_KEY_HEADER
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting
from tests.support.bus import dead_letters, handled, handled_at_least


async def publish_as_a_retry_returns_it(
    reporting: RunningReporting, event: dict[str, Any], *, headers: bool
) -> None:
    """Through the default exchange, routed by the queue's name, as an expired retry copy is."""
    channel = await reporting.amqp.channel(publisher_confirms=True)
    identity = (
        {
            ORIGINAL_EXCHANGE_HEADER: reporting.runtime.topology.events.name,
            ORIGINAL_ROUTING_KEY_HEADER: event["event_type"],
            "event_type": event["event_type"],
            "x-foro-attempt": 1,
        }
        if headers
        else {}
    )
    await channel.default_exchange.publish(
        aio_pika.Message(
            json.dumps(event).encode(),
            content_type="application/json",
            message_id=event["event_id"],
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=identity,
        ),
        routing_key=reporting.queue,
    )
    await channel.close()


@pytest.mark.parametrize("headers", [True, False], ids=["with-identity-headers", "bare"])
async def test_an_event_routed_by_the_queues_name_is_folded_not_dead_lettered(
    reporting: RunningReporting, headers: bool
) -> None:
    who = ev.person()
    confirmed = ev.registration("registration.confirmed", who, 1)
    await publish_as_a_retry_returns_it(reporting, confirmed, headers=headers)
    await handled_at_least(reporting.queue, 1)

    stats = await current_statistics(reporting.deps)
    assert stats["participants"]["confirmed"] == 1
    assert stats["events"]["by_type"] == {"registration.confirmed": 1}
    assert handled(reporting.queue, "dead_lettered") == 0
    assert await dead_letters(reporting.amqp, reporting.queue) == []


async def test_an_event_that_fails_transiently_once_is_folded_exactly_once(
    reporting: RunningReporting, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = reporting.deps.repository
    record_events = repository.record_events
    failed_batches: list[int] = []

    async def fails_once(entries: Any) -> None:
        # After the fold was written: the retry finds its own write and must not count it twice.
        if not failed_batches:
            failed_batches.append(len(entries))
            raise ConnectionError("database restarting")
        await record_events(entries)

    monkeypatch.setattr(repository, "record_events", fails_once)
    who = ev.person()
    await reporting.publish(
        ev.registration("registration.confirmed", who, 1), ev.checked_in(who, 2)
    )
    await reporting.settled()

    # Every delivery of the batch that failed went to the retry queue, and only those.
    assert len(failed_batches) == 1 and handled(reporting.queue, "retry") == failed_batches[0]
    stats = await current_statistics(reporting.deps)
    assert stats["participants"]["confirmed"] == 1
    assert stats["participants"]["check_in"]["checked_in"] == 1
    assert stats["events"]["by_type"] == {"registration.confirmed": 1, "attendee.checked_in": 1}
    assert await dead_letters(reporting.amqp, reporting.queue) == []

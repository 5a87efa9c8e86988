"""Publishing, the one way: persistent, confirmed and mandatory, to the exchange the contract names.

`declare_publishers` puts a service's events on its router, which is what the AsyncAPI document
shows; the outbox relay publishes them with `publish_body`. `publish_event` is for commands taken
at the HTTP edge (a webhook, a secretariat request), which have no state to write first.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitExchange, RabbitRouter

from shared.contracts.envelope import Event
from shared.messaging.topology import Topology


def describe(event: type[Event]) -> str:
    # cleandoc, not strip: Python 3.13 dedents docstrings itself and 3.12 does not.
    return inspect.cleandoc(event.__doc__ or "")


def declare_publishers(
    router: RabbitRouter, topology: Topology, events: Iterable[type[Event]]
) -> None:
    for event in events:
        router.publisher(
            exchange=topology.exchange_named(event.exchange),
            routing_key=event.type_name(),
            schema=event,
            persist=True,
            title=event.type_name(),
            description=describe(event),
        )


async def publish_body(
    broker: RabbitBroker,
    exchange: RabbitExchange,
    event_type: str,
    body: Mapping[str, Any],
    *,
    event_id: str,
) -> None:
    """Publish an event body; raises when the broker does not confirm it or no queue takes it."""
    await broker.publish(
        json.dumps(body, ensure_ascii=False).encode(),
        exchange=exchange,
        routing_key=event_type,
        message_id=event_id,
        correlation_id=body.get("correlation_id") or event_id,
        headers={"event_type": event_type, "schema_version": body.get("schema_version", 1)},
        content_type="application/json",
        persist=True,
        mandatory=True,
    )


async def publish_event(broker: RabbitBroker, topology: Topology, event: Event) -> None:
    await publish_body(
        broker,
        topology.exchange_named(event.exchange),
        event.event_type,
        event.model_dump(mode="json"),
        event_id=str(event.event_id),
    )

"""Declares a service's published events on its router: this is what the AsyncAPI document shows.
The outbox relay does the publishing itself; the declaration says where each event goes."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from faststream.rabbit import RabbitRouter

from shared.contracts.envelope import Event
from shared.messaging.topology import Topology


def describe(event: type[Event]) -> str:
    # cleandoc, not strip: Python 3.13 dedents docstrings itself and 3.12 does not.
    return inspect.cleandoc(event.__doc__ or "")


def declare_publishers(router: RabbitRouter, topology: Topology, events: Iterable[type[Event]]) -> None:
    for event in events:
        router.publisher(
            exchange=topology.intake if event.exchange == "intake" else topology.events,
            routing_key=event.type_name(),
            schema=event,
            persist=True,
            title=event.type_name(),
            description=describe(event),
        )

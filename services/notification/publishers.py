"""What notification publishes: its events (through the outbox, declared here for the AsyncAPI
document), and the sweep's way back into the delivery work queue.

Delivery retries and rate-limit deferrals are not published here: the handler raises
`shared.errors.RetryLater` and the shared consumer middleware holds the message in the queue's
retry tiers (`<queue>.retry.<n>`), like every other retry in foro.
"""

from __future__ import annotations

from faststream.rabbit import RabbitBroker, RabbitRouter

from shared.contracts.notification import NotificationFailed, NotificationQueued, NotificationSent
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (NotificationQueued, NotificationSent, NotificationFailed)
SERVICE = "notification"


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)


class DeliveryQueue:
    """The work queue `<ns>.notification.deliveries`, for messages whose queue message was lost
    (or whose sender's lease lapsed): the sweep puts them back here."""

    def __init__(self, broker: RabbitBroker, topology: Topology) -> None:
        self.broker = broker
        self.topology = topology
        self.work = topology.queue_name(SERVICE, "deliveries")

    async def enqueue(self, event: NotificationQueued) -> None:
        """Straight to the work queue, through the default exchange."""
        await self.broker.publish(
            event.model_dump_json().encode(),
            exchange=None,
            routing_key=self.work,
            message_id=str(event.event_id),
            correlation_id=event.correlation_id or str(event.message_id),
            headers={"event_type": NotificationQueued.type_name()},
            content_type="application/json",
            persist=True,
            mandatory=True,
        )

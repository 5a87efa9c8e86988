"""What notification publishes: its events (through the outbox, declared here for the AsyncAPI
document) and the delivery work queue with its broker-side retry queues.

Delivery retries never sleep in a handler: a message to retry is published to a classic durable
*retry queue* with a per-message TTL; when it expires the broker dead-letters it back to the
work queue. One retry queue per attempt number keeps the delays in one queue alike, so a long
TTL never holds shorter ones behind it (RabbitMQ expires only at the head of a queue); rate-limit
deferrals (all shorter than a second or two) have their own queue.
"""

from __future__ import annotations

from faststream.rabbit import QueueType, RabbitBroker, RabbitQueue, RabbitRouter

from shared.contracts.notification import NotificationFailed, NotificationQueued, NotificationSent
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (NotificationQueued, NotificationSent, NotificationFailed)
SERVICE = "notification"


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)


class DeliveryQueue:
    """The work queue `<ns>.notification.deliveries` and its retry queues."""

    def __init__(self, broker: RabbitBroker, topology: Topology, max_attempts: int) -> None:
        self.broker = broker
        self.topology = topology
        self.work = topology.queue_name(SERVICE, "deliveries")
        self.tiers = [f"{self.work}.retry.{n}" for n in range(1, max_attempts)]
        self.defer_queue = f"{self.work}.retry.defer"

    @property
    def retry_queues(self) -> list[str]:
        return [*self.tiers, self.defer_queue]

    def retry_queue(self, name: str) -> RabbitQueue:
        return RabbitQueue(
            name,
            queue_type=QueueType.CLASSIC,
            durable=True,
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.work},
        )

    async def declare(self) -> None:
        await self.broker.connect()
        for name in self.retry_queues:
            await self.broker.declare_queue(self.retry_queue(name))

    async def _publish(self, body: bytes, queue: str, *, message_id: str, correlation_id: str | None,
                       delay: float | None = None) -> None:
        await self.broker.publish(
            body,
            exchange=None,
            routing_key=queue,
            message_id=message_id,
            correlation_id=correlation_id or message_id,
            headers={"event_type": NotificationQueued.type_name()},
            content_type="application/json",
            expiration=max(1, int(delay * 1000)) / 1000 if delay is not None else None,
            persist=True,
            mandatory=True,
        )

    async def retry(self, event: NotificationQueued, delay: float, attempts_made: int) -> None:
        """Back to the work queue after `delay` seconds (attempt tier `attempts_made`)."""
        tier = self.tiers[min(max(attempts_made, 1), len(self.tiers)) - 1] if self.tiers else self.defer_queue
        await self._publish(event.model_dump_json().encode(), tier, message_id=str(event.event_id),
                            correlation_id=event.correlation_id, delay=delay)

    async def defer(self, event: NotificationQueued, delay: float) -> None:
        """Back to the work queue after a short wait that uses no attempt (rate limit)."""
        await self._publish(event.model_dump_json().encode(), self.defer_queue, message_id=str(event.event_id),
                            correlation_id=event.correlation_id, delay=max(delay, 0.05))

    async def enqueue(self, event: NotificationQueued) -> None:
        """Straight to the work queue (stale messages whose queue message was lost)."""
        await self._publish(event.model_dump_json().encode(), self.work, message_id=str(event.event_id),
                            correlation_id=event.correlation_id)

"""The broker topology, declared from code.

- `<ns>.events`: durable topic exchange of domain events, routing key = event type.
- `<ns>.intake`: durable topic exchange where external producers (sign-up forms) publish.
- `<ns>.dlx`: direct exchange receiving what a queue dead-letters, routed by the queue's name.
- `<ns>.events.log`: a stream bound to every domain event: the history a projection is rebuilt
  from, and the reason a domain event is never unroutable while foro runs.
- one durable quorum queue per consumer, with a delivery limit and a dead-letter queue
  `<queue>.dlq`; a message refused as invalid, or still failing after its retries, ends there.
- beside it one retry queue per attempt, `<queue>.retry.<n>`: a failed message waits there
  (per-message TTL, growing with each attempt, so a long delay never holds a short one behind it)
  and expires back into its queue. The broker keeps the delay; no handler sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

DEAD_LETTER_REASON_HEADER = "x-foro-dead-letter-reason"
DEAD_LETTER_QUEUE_HEADER = "x-foro-dead-letter-queue"
ATTEMPT_HEADER = "x-foro-attempt"
# Where a message was first published: a copy in a retry or dead-letter queue keeps them, so it
# is handled (or replayed) exactly as the original.
ORIGINAL_EXCHANGE_HEADER = "x-foro-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-foro-original-routing-key"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, held by the broker between attempts."""

    attempts: int = 5
    base_seconds: float = 0.5
    max_seconds: float = 60.0

    def delay(self, attempt: int, jitter: float) -> float:
        """Seconds before `attempt` (1-based) is retried; `jitter` in [0, 1) spreads a burst."""
        return min(self.base_seconds * 2.0 ** (attempt - 1), self.max_seconds) * (0.5 + jitter / 2)

    def tier_for(self, delay: float) -> int:
        """The retry queue (1 … attempts-1) for a wait of `delay` seconds: the first whose longest
        delay covers it. Waits in one queue differ by at most ×2, so none holds another long
        (RabbitMQ expires messages only at the head of a queue)."""
        tiers = max(self.attempts - 1, 1)
        for tier in range(1, tiers + 1):
            if delay <= min(self.base_seconds * 2 ** (tier - 1), self.max_seconds):
                return tier
        return tiers


@dataclass(frozen=True)
class Topology:
    namespace: str = "foro"
    delivery_limit: int = 10
    retry: RetryPolicy = RetryPolicy()
    event_log_max_bytes: int = 2_000_000_000
    # Largest body accepted from outside (the intake exchange); 0 means no limit.
    max_intake_bytes: int = 65_536

    @property
    def events(self) -> RabbitExchange:
        return RabbitExchange(f"{self.namespace}.events", type=ExchangeType.TOPIC, durable=True)

    @property
    def intake(self) -> RabbitExchange:
        return RabbitExchange(f"{self.namespace}.intake", type=ExchangeType.TOPIC, durable=True)

    @property
    def dead_letters(self) -> RabbitExchange:
        return RabbitExchange(f"{self.namespace}.dlx", type=ExchangeType.DIRECT, durable=True)

    def exchange_named(self, name: str) -> RabbitExchange:
        """`events` or `intake`: where a contract says it is published (`Event.exchange`)."""
        return self.intake if name == "intake" else self.events

    @property
    def event_log_name(self) -> str:
        return f"{self.namespace}.events.log"

    def queue_name(self, service: str, purpose: str) -> str:
        return f"{self.namespace}.{service}.{purpose}"

    def queue(self, service: str, purpose: str, routing_key: str) -> RabbitQueue:
        """A consumer queue: quorum, durable, limited deliveries, dead-lettered by name."""
        name = self.queue_name(service, purpose)
        return RabbitQueue(
            name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=routing_key,
            arguments={
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": self.dead_letters.name,
                "x-dead-letter-routing-key": name,
                # Dead-letter with confirms inside the broker, so nothing is lost on the way.
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    @staticmethod
    def dead_letter_queue_name(queue_name: str) -> str:
        return f"{queue_name}.dlq"

    @staticmethod
    def retry_queue_name(queue_name: str, attempt: int) -> str:
        return f"{queue_name}.retry.{attempt}"

    def retry_queue_names(self, queue_name: str) -> list[str]:
        tiers = max(self.retry.attempts - 1, 1)
        return [self.retry_queue_name(queue_name, tier) for tier in range(1, tiers + 1)]

    async def declare(self, broker: RabbitBroker, queue_names: list[str]) -> None:
        """Declare exchanges, the event log and the dead-letter queue of every consumer queue.

        Consumer queues themselves are declared by FastStream when their subscriber starts.
        Idempotent: every service calls it at start-up with its own queues.
        """
        events = await broker.declare_exchange(self.events)
        await broker.declare_exchange(self.intake)
        dlx = await broker.declare_exchange(self.dead_letters)
        log = await broker.declare_queue(
            RabbitQueue(
                self.event_log_name,
                queue_type=QueueType.STREAM,
                durable=True,
                arguments={"x-max-length-bytes": self.event_log_max_bytes},
            )
        )
        await log.bind(events, routing_key="#")
        for name in queue_names:
            dlq = await broker.declare_queue(
                RabbitQueue(
                    self.dead_letter_queue_name(name), queue_type=QueueType.QUORUM, durable=True
                )
            )
            await dlq.bind(dlx, routing_key=name)
            # Classic, because quorum queues (RabbitMQ 3.10) ignore per-message TTL. Expired
            # messages go back through the default exchange, straight into `name`.
            for retry_name in self.retry_queue_names(name):
                await broker.declare_queue(
                    RabbitQueue(
                        retry_name,
                        durable=True,
                        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name},
                    )
                )


def persistent_message(body: bytes, **kwargs: Any) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type="application/json",
        **kwargs,
    )

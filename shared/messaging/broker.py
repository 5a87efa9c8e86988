"""The one way a foro service builds its RabbitMQ broker."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel

from shared.messaging.consumer import ConsumeMiddleware
from shared.messaging.topology import RetryPolicy, Topology
from shared.settings import ServiceSettings


def create_broker(settings: ServiceSettings, *, description: str = "") -> tuple[RabbitBroker, Topology]:
    """A broker with confirms, unroutable publishes raising, bounded prefetch and the consume
    middleware; nothing connects until `broker.start()`."""
    topology = Topology(
        settings.namespace,
        delivery_limit=settings.delivery_limit,
        retry=RetryPolicy(settings.retry_attempts, settings.retry_base_seconds, settings.retry_max_seconds),
        max_intake_bytes=settings.max_intake_bytes,
    )
    broker = RabbitBroker(
        settings.broker_url.get_secret_value(),
        default_channel=Channel(
            prefetch_count=settings.prefetch, publisher_confirms=True, on_return_raises=True
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=settings.graceful_timeout,
        middlewares=[ConsumeMiddleware],
        # FastStream's own per-message lines would double ours; keep them for DEBUG.
        log_level=logging.DEBUG,
        description=description,
    )
    broker.context.set_global("topology", topology)
    return broker, topology

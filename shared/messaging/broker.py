"""The one way a foro service builds its RabbitMQ broker.

Connections are bounded in time and recover on their own:
- establishing one (TCP and the AMQP handshake) gives up after `broker_connect_timeout`, so a
  broker that accepts the socket and never answers fails the attempt instead of hanging it
  (the runtime retries start-up with backoff, see `shared.runtime`);
- once connected, aio-pika's robust connection (FastStream connects with `connect_robust`)
  reconnects every `broker_reconnect_seconds` after the connection is lost or closed by the
  server, and restores its channels, queues, bindings and consumers;
- heartbeats every `broker_heartbeat_seconds` detect a silent network (no RST, no FIN): the
  client gives up on a connection after about three heartbeat intervals without a frame;
- every publish (the outbox relay's, `publish_event`'s, the subscribers') raises
  `PublishTimeout` if the broker has not confirmed it within `broker_publish_timeout`: while the
  connection is lost a publish fails loudly and at once, while the network is silent it fails
  at the deadline — it never hangs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream import AckPolicy, BaseMiddleware
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel
from faststream.rabbit.utils import build_url
from yarl import URL

from shared.messaging.consumer import ConsumeMiddleware
from shared.messaging.topology import RetryPolicy, Topology
from shared.settings import ServiceSettings

log = structlog.get_logger("foro.broker")


class PublishTimeout(TimeoutError):
    """The broker did not confirm a publish in time; the message may or may not have been routed."""


def publish_timeout_middleware(seconds: float) -> type[BaseMiddleware]:
    """A middleware bounding every publish of the broker it is installed on."""

    class PublishTimeoutMiddleware(BaseMiddleware):
        async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
            try:
                async with asyncio.timeout(seconds):
                    return await call_next(cmd)
            except TimeoutError as error:
                raise PublishTimeout(
                    f"the broker did not confirm the publish within {seconds:g} s"
                ) from error

    return PublishTimeoutMiddleware


def connection_url(url: str, *, heartbeat: int, name: str = "") -> str:
    """`url` with our heartbeat and connection name, unless the URL sets its own."""
    parsed = URL(url)
    extra = {"heartbeat": str(heartbeat)}
    if name:
        extra["name"] = name
    return str(parsed.update_query({**extra, **dict(parsed.query)}))


def create_broker(
    settings: ServiceSettings, *, description: str = "", name: str = ""
) -> tuple[RabbitBroker, Topology]:
    """A broker with confirms, unroutable publishes raising, bounded prefetch, bounded connects
    and publishes, and the consume middleware; nothing connects until `broker.connect()`.
    `name` is the connection's name in RabbitMQ's management tools."""
    topology = Topology(
        settings.namespace,
        delivery_limit=settings.delivery_limit,
        retry=RetryPolicy(
            settings.retry_attempts, settings.retry_base_seconds, settings.retry_max_seconds
        ),
        max_intake_bytes=settings.max_intake_bytes,
    )
    url = settings.broker_url.get_secret_value()
    broker = RabbitBroker(
        connection_url(url, heartbeat=settings.broker_heartbeat_seconds, name=name),
        timeout=settings.broker_connect_timeout,
        reconnect_interval=settings.broker_reconnect_seconds,
        # What FastStream would document for `url` itself: no credentials, no connection options.
        specification_url=str(build_url(url).with_user(None)),
        default_channel=Channel(
            prefetch_count=settings.prefetch, publisher_confirms=True, on_return_raises=True
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=settings.graceful_timeout,
        middlewares=[
            ConsumeMiddleware,
            publish_timeout_middleware(settings.broker_publish_timeout),
        ],
        # FastStream's own per-message lines would double ours; keep them for DEBUG.
        log_level=logging.DEBUG,
        description=description,
    )
    broker.context.set_global("topology", topology)
    return broker, topology


async def close_broker(broker: RabbitBroker, *, timeout: float) -> None:
    """Stop the broker's consumers and close its connection within `timeout` seconds, whatever
    state the connection is in.

    `broker.stop()` cancels each consumer with an RPC: over a silent network that waits for
    heartbeats to give up, and when a cancel fails FastStream raises before closing the channel
    and the connection — which would then live on, reconnecting by itself. So after a failed or
    late stop the connection is closed here directly and the broker forgets it, so the next
    `connect()` opens a fresh one.
    """
    try:
        async with asyncio.timeout(timeout):
            await broker.stop()
        return
    except Exception as error:
        log.warning("broker did not stop cleanly; closing its connection", error=repr(error))
    # FastStream has no public way to drop a connection it failed to stop.
    connection = broker._connection
    if connection is not None:
        try:
            async with asyncio.timeout(timeout):
                await connection.close()
        except Exception as error:
            log.warning("broker connection did not close in time", error=repr(error))
    broker._connection = None
    broker._channel = None
    broker.config.disconnect()

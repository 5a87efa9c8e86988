"""What happens around every consumed message, for every service.

- binds the log context (event, correlation and message ids, queue) and writes one log line
  per handled message, with no personal data;
- turns *permanent* failures (malformed JSON, schema violations, `InvalidMessage`) into a copy
  in the queue's dead-letter queue, with a readable reason header, then acks the original;
- sends *transient* failures (database or provider down) to the queue's retry queue with a
  growing delay, and after the last attempt to the dead-letter queue with the reason. Never
  retried forever, never lost; the quorum queue's delivery limit is the backstop for a process
  that dies while handling.
"""

from __future__ import annotations

import json
import random
import time
from typing import TYPE_CHECKING, Any, cast

import aio_pika
import structlog
from bson.errors import InvalidDocument
from faststream import BaseMiddleware
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shared.errors import InvalidMessage, RetryLater
from shared.messaging.topology import (
    ATTEMPT_HEADER,
    DEAD_LETTER_QUEUE_HEADER,
    DEAD_LETTER_REASON_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    Topology,
)

__all__ = ["ConsumeMiddleware", "InvalidMessage", "RetryLater", "permanent_reason"]

if TYPE_CHECKING:
    from types import TracebackType

log = structlog.get_logger("foro.consumer")

HANDLED = Counter(
    "foro_messages_handled_total", "Messages handled, by queue and outcome", ["queue", "outcome"]
)
HANDLING_SECONDS = Histogram("foro_message_handling_seconds", "Time to handle a message", ["queue"])

MAX_REASON_LENGTH = 2000
SUMMARY_SECONDS = 60.0


class QueueSummary:
    """Counts of handled messages per queue and outcome, logged at INFO once a minute at most:
    the per-message line is DEBUG, so a busy queue costs no log I/O per message."""

    def __init__(self, every: float = SUMMARY_SECONDS) -> None:
        self.every = every
        self.counts: dict[tuple[str, str], int] = {}
        self.since = time.monotonic()

    def count(self, queue: str, outcome: str) -> None:
        key = (queue, outcome)
        self.counts[key] = self.counts.get(key, 0) + 1
        now = time.monotonic()
        if now - self.since >= self.every:
            by_queue: dict[str, dict[str, int]] = {}
            for (name, result), n in self.counts.items():
                by_queue.setdefault(name, {})[result] = n
            for name, outcomes in sorted(by_queue.items()):
                log.info(
                    "messages handled", queue=name, seconds=round(now - self.since), **outcomes
                )
            self.counts.clear()
            self.since = now


SUMMARY = QueueSummary()


def describe_validation_error(error: ValidationError) -> str:
    """`field: reason` for every problem, never the rejected values (they may be personal data)."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        parts = [str(part) for part in item["loc"]]
        if len(parts) > 1 and parts[0] == "body":
            parts = parts[1:]  # FastStream names the handler's message parameter `body`
        location = ".".join(parts) or "body"
        message = item["msg"]
        if location == "body" and item["type"] in {
            "model_type",
            "dict_type",
            "model_attributes_type",
        }:
            message = "the body must be a JSON object"
        problems.append(f"{location}: {message}")
    return "; ".join(problems)


def permanent_reason(error: BaseException) -> str | None:
    """The dead-letter reason for an error no redelivery can fix; None for transient errors."""
    if isinstance(error, InvalidMessage):
        reason = error.reason
    elif isinstance(error, ValidationError):
        reason = describe_validation_error(error)
    elif isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        reason = f"body: not valid JSON ({type(error).__name__} at position {getattr(error, 'pos', '?')})"
    elif isinstance(error, (UnicodeEncodeError, InvalidDocument)):
        # A text no database can store (a lone surrogate that slipped past a contract): no retry
        # changes it. The contracts refuse such text with the field's name before this happens.
        reason = f"body: a text field cannot be stored ({type(error).__name__})"
    else:
        return None
    return reason[:MAX_REASON_LENGTH]


JSON_CONTENT_TYPES = ("application/json", "text/json")


def content_type_reason(content_type: str | None) -> str | None:
    """Why a message's declared content type is refused; None when it is JSON or unset."""
    if not content_type:
        return None  # many AMQP clients set none; the body itself must still be JSON
    media = content_type.split(";", 1)[0].strip().lower()
    if media in JSON_CONTENT_TYPES or media.endswith("+json"):
        return None
    return f"content_type: {media[:100]!r} is not accepted; send the body as application/json"


def original_route(raw: aio_pika.IncomingMessage) -> tuple[str, str]:
    """The exchange and routing key a message was first published with.

    A message back from a retry queue arrives through the default exchange with the queue's own
    name as routing key; the retry kept where it came from in two headers.
    """
    headers = raw.headers or {}
    exchange = headers.get(ORIGINAL_EXCHANGE_HEADER)
    routing_key = headers.get(ORIGINAL_ROUTING_KEY_HEADER)
    if exchange is None or routing_key is None:
        return raw.exchange or "", raw.routing_key or ""
    return str(exchange), str(routing_key)


class ConsumeMiddleware(BaseMiddleware):
    """Installed on every broker by `shared.messaging.broker.create_broker`."""

    @property
    def _raw(self) -> aio_pika.IncomingMessage:
        """The delivery being consumed. FastStream types `msg` as optional because it also builds
        broker middlewares for publishing, without one; the consume hooks here always have it."""
        return cast(aio_pika.IncomingMessage, self.msg)

    async def on_receive(self) -> None:
        self.started = time.perf_counter()
        handler = self.context.get_local("handler_")
        self.queue_name = handler.queue.name if handler is not None else "?"
        raw = self._raw
        headers = raw.headers or {}
        _, routing_key = original_route(raw)
        structlog.contextvars.bind_contextvars(
            queue=self.queue_name,
            routing_key=routing_key,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            event_type=headers.get("event_type", routing_key),
            redelivered=raw.redelivered,
        )

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        """Refuse, before anything parses it, a body no handler should read."""
        raw = self._raw
        topology: Topology = self.context.get("topology")
        exchange, _ = original_route(raw)
        limit = topology.max_intake_bytes
        if exchange == topology.intake.name and limit and len(raw.body) > limit:
            raise InvalidMessage(f"body: larger than {limit} bytes ({len(raw.body)} bytes)")
        if reason := content_type_reason(raw.content_type):
            raise InvalidMessage(reason)
        return await call_next(msg)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        elapsed = time.perf_counter() - self.started
        HANDLING_SECONDS.labels(self.queue_name).observe(elapsed)
        try:
            if exc_val is None:
                HANDLED.labels(self.queue_name, "ok").inc()
                SUMMARY.count(self.queue_name, "ok")
                log.debug("message handled", outcome="ok", ms=round(elapsed * 1000, 1))
                return False
            reason = permanent_reason(exc_val)
            if reason is None:
                headers = self._raw.headers or {}
                # Written as an int by _retry_later; AMQP types a header as any field value.
                attempt = int(cast(int, headers.get(ATTEMPT_HEADER, 0)))
                topology: Topology = self.context.get("topology")
                counts = not isinstance(exc_val, RetryLater) or exc_val.counts_as_attempt
                if counts:
                    attempt += 1
                if not counts or attempt < topology.retry.attempts:
                    if isinstance(exc_val, RetryLater):
                        delay = exc_val.delay
                    else:
                        delay = topology.retry.delay(attempt, random.random())
                    await self._retry_later(attempt, delay)
                    HANDLED.labels(self.queue_name, "retry").inc()
                    SUMMARY.count(self.queue_name, "retry")
                    log.warning(
                        "message failed, retrying later",
                        outcome="retry",
                        error=type(exc_val).__name__,
                        attempt=attempt,
                        delay_s=round(delay, 2),
                    )
                    return True
                reason = f"gave up after {attempt} attempts: {type(exc_val).__name__}"
            await self._dead_letter(reason)
            HANDLED.labels(self.queue_name, "dead_lettered").inc()
            SUMMARY.count(self.queue_name, "dead_lettered")
            log.warning("message dead-lettered", outcome="dead_lettered", reason=reason)
            return (
                True  # suppressed: the original is acked, its copy waits in the DLQ or retry queue
            )
        finally:
            structlog.contextvars.unbind_contextvars(
                "queue", "routing_key", "message_id", "correlation_id", "event_type", "redelivered"
            )

    def _identity_headers(self) -> dict[str, Any]:
        """The delivery's headers plus where it was first published: a copy (retry or dead
        letter) is the original message, with the same event type and route."""
        raw = self._raw
        headers: dict[str, Any] = dict(raw.headers or {})
        exchange, routing_key = original_route(raw)
        headers[ORIGINAL_EXCHANGE_HEADER] = exchange
        headers[ORIGINAL_ROUTING_KEY_HEADER] = routing_key
        headers.setdefault("event_type", routing_key)
        return headers

    async def _retry_later(self, attempt: int, delay: float) -> None:
        raw = self._raw
        topology: Topology = self.context.get("topology")
        headers = self._identity_headers()
        headers[ATTEMPT_HEADER] = attempt
        await self.context.get("broker").publish(
            raw.body,
            exchange="",
            routing_key=Topology.retry_queue_name(self.queue_name, topology.retry.tier_for(delay)),
            headers=headers,
            content_type=raw.content_type,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            expiration=max(delay, 0.001),
            persist=True,
            mandatory=True,
        )

    async def _dead_letter(self, reason: str) -> None:
        raw = self._raw
        broker = self.context.get("broker")
        topology = self.context.get("topology")
        headers = self._identity_headers()
        headers[DEAD_LETTER_REASON_HEADER] = reason
        headers[DEAD_LETTER_QUEUE_HEADER] = self.queue_name
        await broker.publish(
            raw.body,
            exchange=topology.dead_letters,
            routing_key=self.queue_name,
            headers=headers,
            content_type=raw.content_type,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            persist=True,
            mandatory=True,
        )

"""Dead letters an operator can count, read, replay and purge (plain aio-pika, no FastStream).

Every consumer queue `<ns>.<service>.<purpose>` has a dead-letter queue `<queue>.dlq` (see
`shared.messaging.topology`); `shared.messaging.namespace.build_plan` knows every one of them from
the services' own composition roots. A dead letter carries why and where from in its headers
(`x-foro-dead-letter-reason`, `x-foro-dead-letter-queue`, `x-foro-original-exchange`,
`x-foro-original-routing-key`, `x-foro-attempt`), or, when the broker itself dead-lettered it (a
consumer queue's delivery limit), in RabbitMQ's `x-death` / `x-first-death-*` headers.

How a message that does not match stays in its DLQ — and why not by requeueing it
------------------------------------------------------------------------------------
AMQP 0-9-1 has no way to read a quorum queue without taking its messages. The usual "browse"
(basic.get, then nack/reject with requeue, or close the channel) returns each message to the
queue, and on RabbitMQ 4.x that counts against the queue's delivery limit: since 4.0 every
quorum queue has one (default 20) even when none is declared, and a message over it is dropped,
or dead-lettered if the queue has a dead-letter exchange. Our DLQs are quorum queues declared
without `x-delivery-limit` and without a DLX (`Topology.declare`), so on 4.0–4.2 (where the limit
counts every return, "acquired-count") browsing a DLQ 20 times would silently delete its dead
letters; 4.3 counts only failure-flavoured returns (basic.reject, a closed channel), and 3.10
counts nothing (no limit without the argument). Changing the DLQs' arguments is no way out:
existing queues cannot be redeclared with other arguments (406 PRECONDITION_FAILED), and
`x-delivery-limit: -1` means "unlimited" only on 4.x.

So nothing here ever returns a message to a DLQ. Every operation is one pass over the messages
the DLQ held when it began (basic.get, unacknowledged), and each message is settled by
publishing first and acknowledging only after the broker confirmed that publish:
- kept (not matching, `--dry-run`, or a replay that failed): a copy — same body, properties and
  headers — is published back to the same DLQ through the default exchange, persistent,
  mandatory, confirmed; then the original is acked. A fresh message starts with no delivery
  count, so a DLQ browsed 100 or 10,000 times loses nothing. A full pass keeps the order.
- replayed: published to the original exchange and routing key (or, `direct`, through the
  default exchange to the consumer queue alone), persistent, mandatory, confirmed, without the
  dead-letter and attempt headers, with `x-foro-replayed-by` / `x-foro-replayed-at`; then acked.
  A returned (unroutable) or refused publish keeps the message instead.
- purged: acked.
If the process dies between a confirmed publish and its ack, the broker gives the unacked
original back: the message then exists twice (in the DLQ, or in the DLQ and its consumer queue),
never zero times — consumers are idempotent. Such a return counts once towards 4.x's limit, and
the next pass replaces the message with a fresh copy. Each pass stamps its copies with
`x-foro-dlq-pass` and stops if it meets its own copy, so a pass never goes round twice.

Every replay and purge (dry runs too) is logged with who ran it, the queue, the message ids and
the counts.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import AMQPError, ChannelNotFoundEntity

from shared.messaging.namespace import queue_depth
from shared.messaging.topology import (
    ATTEMPT_HEADER,
    DEAD_LETTER_QUEUE_HEADER,
    DEAD_LETTER_REASON_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    Topology,
)

log = structlog.get_logger("foro.dlq")

PASS_HEADER = "x-foro-dlq-pass"
REPLAYED_BY_HEADER = "x-foro-replayed-by"
REPLAYED_AT_HEADER = "x-foro-replayed-at"
# What RabbitMQ adds when it dead-letters or redelivers a message itself.
BROKER_HEADERS = (
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
    "x-acquired-count",
)
STRIPPED_ON_REPLAY = (
    DEAD_LETTER_REASON_HEADER,
    DEAD_LETTER_QUEUE_HEADER,
    ATTEMPT_HEADER,
    PASS_HEADER,
    *BROKER_HEADERS,
)
# Fault injection for the crash test: exit after a replay is confirmed, before its ack.
EXIT_BEFORE_ACK = "exit_before_ack"
BATCH = 100

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, `1h30m` → a timedelta; ValueError naming the problem otherwise."""
    cleaned = text.strip().lower()
    if not cleaned or _DURATION.sub("", cleaned):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit (s, m, h, d, w): 90s, 2h, 1h30m"
        )
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(cleaned))
    return timedelta(seconds=seconds)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container without an /etc/passwd entry
        return f"uid:{os.getuid()}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _first_death(headers: dict[str, Any]) -> dict[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[-1], dict):
        return deaths[-1]  # the oldest death is last
    return {}


@dataclass(frozen=True)
class DeadLetter:
    """One message in a dead-letter queue, as an operator reads it."""

    queue: str  # the consumer queue that dead-lettered it
    dead_letter_queue: str
    message_id: str | None
    event_type: str | None
    reason: str
    original_exchange: str | None
    original_routing_key: str | None
    attempt: int | None
    timestamp: datetime | None
    correlation_id: str | None
    content_type: str | None
    headers: dict[str, Any]
    body: bytes

    @classmethod
    def read(cls, message: AbstractIncomingMessage, queue: str) -> DeadLetter:
        headers = dict(message.headers or {})
        death = _first_death(headers)
        reason = _text(headers.get(DEAD_LETTER_REASON_HEADER))
        if reason is None:
            broker_reason = _text(headers.get("x-first-death-reason") or death.get("reason"))
            reason = f"broker: {broker_reason}" if broker_reason else "unknown"
        exchange = _text(headers.get(ORIGINAL_EXCHANGE_HEADER))
        routing_key = _text(headers.get(ORIGINAL_ROUTING_KEY_HEADER))
        if exchange is None and death:
            exchange = _text(death.get("exchange"))
            keys = death.get("routing-keys") or []
            routing_key = _text(keys[0]) if keys else None
        attempt = headers.get(ATTEMPT_HEADER)
        timestamp = message.timestamp
        if timestamp is not None and timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        return cls(
            queue=queue,
            dead_letter_queue=Topology.dead_letter_queue_name(queue),
            message_id=message.message_id,
            event_type=_text(headers.get("event_type")) or message.type or routing_key,
            reason=reason,
            original_exchange=exchange,
            original_routing_key=routing_key,
            attempt=int(attempt) if isinstance(attempt, (int, float, str)) else None,
            timestamp=timestamp,
            correlation_id=message.correlation_id,
            content_type=message.content_type,
            headers=headers,
            body=message.body,
        )

    @property
    def key(self) -> str:
        """The message id, or a digest of the body for a message published without one."""
        return self.message_id or "sha256:" + hashlib.sha256(self.body).hexdigest()[:16]

    def age(self, now: datetime) -> timedelta | None:
        return None if self.timestamp is None else now - self.timestamp

    def to_json(self, now: datetime, *, body: bool = False) -> dict[str, Any]:
        age = self.age(now)
        document: dict[str, Any] = {
            "queue": self.queue,
            "dead_letter_queue": self.dead_letter_queue,
            "message_id": self.key,
            "event_type": self.event_type,
            "reason": self.reason,
            "original_exchange": self.original_exchange,
            "original_routing_key": self.original_routing_key,
            "attempt": self.attempt,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "age_seconds": round(age.total_seconds()) if age is not None else None,
            "correlation_id": self.correlation_id,
            "content_type": self.content_type,
            "headers": {name: _jsonable(value) for name, value in sorted(self.headers.items())},
            "size": len(self.body),
        }
        if body:
            document["body"] = self.body.decode("utf-8", "replace")
        return document


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Selection:
    """Which dead letters an operation applies to; every given criterion must hold."""

    reason: str | None = None  # substring of the reason, case-insensitive
    reason_pattern: re.Pattern[str] | None = None  # regular expression searched in the reason
    older_than: timedelta | None = None
    newer_than: timedelta | None = None
    message_ids: frozenset[str] = frozenset()
    limit: int | None = None  # at most this many matching messages, across queues

    @property
    def everything(self) -> bool:
        return (
            self.reason is None
            and self.reason_pattern is None
            and self.older_than is None
            and self.newer_than is None
            and not self.message_ids
        )

    def matches(self, letter: DeadLetter, now: datetime) -> bool:
        if self.reason is not None and self.reason.lower() not in letter.reason.lower():
            return False
        if self.reason_pattern is not None and not self.reason_pattern.search(letter.reason):
            return False
        if self.message_ids and letter.key not in self.message_ids:
            return False
        if self.older_than is not None or self.newer_than is not None:
            age = letter.age(now)
            if age is None:  # published without a timestamp: no age to compare
                return False
            if self.older_than is not None and age < self.older_than:
                return False
            if self.newer_than is not None and age >= self.newer_than:
                return False
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "reason_regex": self.reason_pattern.pattern if self.reason_pattern else None,
            "older_than_s": self.older_than.total_seconds() if self.older_than else None,
            "newer_than_s": self.newer_than.total_seconds() if self.newer_than else None,
            "message_ids": sorted(self.message_ids) or None,
            "limit": self.limit,
        }


class Action(Enum):
    KEEP = "keep"
    REPLAY = "replay"
    DROP = "drop"


@dataclass
class QueueOutcome:
    """What one pass over one DLQ found and did."""

    queue: str
    dead_letter_queue: str
    absent: bool = False
    scanned: int = 0
    matched: list[DeadLetter] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # message id → why it was kept


@dataclass
class Outcome:
    operation: str
    dry_run: bool
    queues: list[QueueOutcome] = field(default_factory=list)
    more: int = 0  # messages that matched beyond the limit (left alone)

    @property
    def matched(self) -> list[DeadLetter]:
        return [letter for queue in self.queues for letter in queue.matched]

    @property
    def replayed(self) -> int:
        return sum(len(q.replayed) for q in self.queues)

    @property
    def purged(self) -> int:
        return sum(len(q.purged) for q in self.queues)

    @property
    def failed(self) -> int:
        return sum(len(q.failed) for q in self.queues)

    @property
    def scanned(self) -> int:
        return sum(q.scanned for q in self.queues)


@dataclass
class _Pass:
    """One operation's state across queues (the limit counts across them)."""

    operation: str
    selection: Selection
    dry_run: bool
    now: datetime
    actor: str
    direct: bool
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    taken: int = 0
    more: int = 0  # matching, beyond the limit

    def decide(self, letter: DeadLetter) -> tuple[bool, Action]:
        """Whether the letter is selected (it matches, within the limit), and what to do."""
        if not self.selection.matches(letter, self.now):
            return False, Action.KEEP
        if self.selection.limit is not None and self.taken >= self.selection.limit:
            self.more += 1
            return False, Action.KEEP
        self.taken += 1
        if self.dry_run or self.operation == "browse":
            return True, Action.KEEP
        return True, Action.REPLAY if self.operation == "replay" else Action.DROP


class DeadLetterQueues:
    """The dead-letter queues of `queue_names` (consumer queues), over one AMQP connection."""

    def __init__(
        self,
        connection: AbstractConnection,
        queue_names: Sequence[str],
        *,
        fault: str | None = None,
        batch: int = BATCH,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection = connection
        self.queue_names = list(queue_names)
        self.fault = fault
        self.batch = batch
        self.clock = clock
        self._publisher: AbstractChannel | None = None
        self._exchanges: dict[str, bool] = {"": True}

    async def counts(self) -> dict[str, int | None]:
        """Consumer queue → messages in its DLQ (None: the DLQ does not exist). Reads nothing."""
        return {
            name: await queue_depth(self.connection, Topology.dead_letter_queue_name(name))
            for name in self.queue_names
        }

    async def browse(self, selection: Selection) -> Outcome:
        """The matching dead letters (up to the limit); every message stays."""
        return await self._run(_Pass("browse", selection, True, self.clock(), "", False))

    async def replay(
        self,
        selection: Selection,
        *,
        actor: str,
        dry_run: bool = False,
        direct: bool = False,
    ) -> Outcome:
        """Publish each match to where it was first published (`direct`: to its consumer queue
        only), then take it out of the DLQ; what cannot be published stays."""
        return await self._run(_Pass("replay", selection, dry_run, self.clock(), actor, direct))

    async def purge(self, selection: Selection, *, actor: str, dry_run: bool = False) -> Outcome:
        """Delete the matching dead letters; the others stay."""
        return await self._run(_Pass("purge", selection, dry_run, self.clock(), actor, False))

    async def _run(self, state: _Pass) -> Outcome:
        outcome = Outcome(state.operation, state.dry_run)
        try:
            for name in self.queue_names:
                result = await self._pass_over(name, state)
                outcome.queues.append(result)
                if state.operation != "browse" and result.matched:
                    self._audit(state, result)
        finally:
            if self._publisher is not None and not self._publisher.is_closed:
                await self._publisher.close()
            self._publisher = None
        outcome.more = state.more
        if state.operation != "browse":
            # One line per operation, even when nothing matched: who looked, for what.
            log.info(
                f"dead letter {state.operation} done",
                operation=state.operation,
                actor=state.actor,
                dry_run=state.dry_run,
                selection=state.selection.describe(),
                queues=[q.queue for q in outcome.queues if not q.absent],
                scanned=outcome.scanned,
                matched=len(outcome.matched),
                replayed=outcome.replayed,
                purged=outcome.purged,
                failed=outcome.failed,
            )
        return outcome

    def _audit(self, state: _Pass, result: QueueOutcome) -> None:
        log.info(
            f"dead letters {'replayed' if state.operation == 'replay' else 'purged'}",
            operation=state.operation,
            actor=state.actor,
            dry_run=state.dry_run,
            direct=state.direct or None,
            queue=result.queue,
            dead_letter_queue=result.dead_letter_queue,
            selection=state.selection.describe(),
            scanned=result.scanned,
            matched=len(result.matched),
            message_ids=[letter.key for letter in result.matched],
            replayed=len(result.replayed),
            purged=len(result.purged),
            failed=result.failed or None,
        )

    async def _publishing_channel(self) -> AbstractChannel:
        if self._publisher is None or self._publisher.is_closed:
            self._publisher = await self.connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
        return self._publisher

    async def _pass_over(self, queue_name: str, state: _Pass) -> QueueOutcome:
        dlq_name = Topology.dead_letter_queue_name(queue_name)
        result = QueueOutcome(queue_name, dlq_name)
        # Messages are taken on their own channel: a failed publish (which closes the publishing
        # channel) never hands them back to the queue.
        channel = await self.connection.channel()
        try:
            try:
                dlq = await channel.declare_queue(dlq_name, passive=True)
            except ChannelNotFoundEntity:
                result.absent = True
                return result
            remaining = dlq.declaration_result.message_count or 0
            while remaining > 0:
                batch: list[tuple[AbstractIncomingMessage, DeadLetter, Action]] = []
                while remaining > 0 and len(batch) < self.batch:
                    message = await dlq.get(no_ack=False, fail=False)
                    if message is None:
                        remaining = 0
                        break
                    remaining -= 1
                    letter = DeadLetter.read(message, queue_name)
                    if letter.headers.get(PASS_HEADER) == state.id:
                        remaining = 0  # our own copy: the pass has gone round
                        batch.append((message, letter, Action.KEEP))
                        break
                    result.scanned += 1
                    selected, action = state.decide(letter)
                    if selected:
                        result.matched.append(letter)
                    batch.append((message, letter, action))
                # One publishing channel for the batch, opened before the publishes start: they
                # then take its lock in order, and the copies keep the DLQ's order.
                await self._publishing_channel()
                await asyncio.gather(
                    *(
                        self._settle(message, letter, action, state, result)
                        for message, letter, action in batch
                    )
                )
        finally:
            if not channel.is_closed:
                await channel.close()
        return result

    async def _settle(
        self,
        message: AbstractIncomingMessage,
        letter: DeadLetter,
        action: Action,
        state: _Pass,
        result: QueueOutcome,
    ) -> None:
        """Publish (a copy back, or the replay), and ack only once the broker confirmed it."""
        if action is Action.DROP:
            await message.ack()
            result.purged.append(letter.key)
            return
        if action is Action.REPLAY:
            problem = await self._replay_one(letter, message, state)
            if problem is None:
                if self.fault == EXIT_BEFORE_ACK:
                    log.warning("fault injected: exiting after the replay, before the ack")
                    os._exit(86)
                await message.ack()
                result.replayed.append(letter.key)
                return
            result.failed[letter.key] = problem
        await self._put_back(message, letter, state)
        await message.ack()

    async def _put_back(
        self, message: AbstractIncomingMessage, letter: DeadLetter, state: _Pass
    ) -> None:
        """A fresh copy at the DLQ's tail (no delivery count); the caller then acks the original."""
        headers = dict(letter.headers)
        headers.pop("x-delivery-count", None)
        headers.pop("x-acquired-count", None)
        headers[PASS_HEADER] = state.id
        channel = await self._publishing_channel()
        await channel.default_exchange.publish(
            _copy(message, headers), routing_key=letter.dead_letter_queue, mandatory=True
        )

    async def _exchange_exists(self, name: str) -> bool:
        if name not in self._exchanges:
            channel = await self.connection.channel()
            try:
                await channel.declare_exchange(name, passive=True)
                self._exchanges[name] = True
                await channel.close()
            except ChannelNotFoundEntity:
                self._exchanges[name] = False
        return self._exchanges[name]

    async def _replay_one(
        self, letter: DeadLetter, message: AbstractIncomingMessage, state: _Pass
    ) -> str | None:
        """None once the broker confirmed the replay; otherwise why it was not replayed."""
        if state.direct:
            exchange_name, routing_key = "", letter.queue
        elif letter.original_exchange is None or letter.original_routing_key is None:
            return "no original exchange and routing key recorded"
        else:
            exchange_name, routing_key = letter.original_exchange, letter.original_routing_key
        # Publishing to a missing exchange closes the channel; check first (cached per pass).
        if not await self._exchange_exists(exchange_name):
            return f"exchange {exchange_name!r} does not exist"
        headers = {
            name: value for name, value in letter.headers.items() if name not in STRIPPED_ON_REPLAY
        }
        if letter.original_exchange is not None and letter.original_routing_key is not None:
            headers.setdefault(ORIGINAL_EXCHANGE_HEADER, letter.original_exchange)
            headers.setdefault(ORIGINAL_ROUTING_KEY_HEADER, letter.original_routing_key)
        headers[REPLAYED_BY_HEADER] = state.actor
        headers[REPLAYED_AT_HEADER] = state.now.isoformat()
        channel = await self._publishing_channel()
        exchange = (
            channel.default_exchange
            if exchange_name == ""
            else await channel.get_exchange(exchange_name, ensure=False)
        )
        try:
            await exchange.publish(_copy(message, headers), routing_key=routing_key, mandatory=True)
        except aio_pika.exceptions.DeliveryError as error:
            return f"the broker refused or returned it ({type(error).__name__}: no queue bound to {routing_key!r})"
        except AMQPError as error:
            return f"the publish failed ({type(error).__name__}: {error})"
        return None


def _copy(message: AbstractIncomingMessage, headers: dict[str, Any]) -> aio_pika.Message:
    """The same message with `headers`: persistent, never expiring, no user id of its own."""
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )

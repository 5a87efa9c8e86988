"""Delivery: one attempt at a claimed message, through the channel's providers in order.

Record, lease, send, record. The claim (written before anything is sent) records the attempt
and a lease; while the worker sends — and while it records the result — it renews the lease,
so a slow relay keeps it and a dead worker loses it within `lease_seconds`. The result and its
event (`notification.sent` / `.failed`) are one write; only the outbox publishes.

A message a trigger created is claimed by the write that created it and attempted at once, in
the trigger's handler (`attempt_now`). The delivery queue (`deliver`) takes what must wait or
come back: retries after a backoff, rate-limit deferrals, replays, reminders, campaigns, and
what the sweep recovers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from pymongo.errors import ConnectionFailure

from services.notification.delivery import rules
from services.notification.deps import Notification, on
from services.notification.documents import MessageDocument
from services.notification.domain import RETRYING, SENT, stamp
from services.notification.metrics import (
    ATTEMPTS,
    MESSAGES,
    POSSIBLE_DUPLICATES,
    UNRECORDED,
    record_failover,
)
from services.notification.providers import Outgoing, ProviderError, limiter_wait
from shared.contracts.notification import NotificationQueued
from shared.decisions import Decision
from shared.errors import InvalidMessage, RetryLater

log = structlog.get_logger("foro.notification")


async def deliver(queued: NotificationQueued, deps: Notification) -> str:
    """A delivery queue message: claim the message (if it is due and nobody has it), attempt it."""
    mid, now = str(queued.message_id), stamp(deps.wall_clock())
    until = now + timedelta(seconds=deps.lease_seconds)
    applied = await deps.repository.messages.apply(
        mid, None, on(MessageDocument, partial(rules.claim, now=now, until=until))
    )
    claim: rules.Claim = applied.result
    if not claim.claimed:
        if claim.status is None:
            raise InvalidMessage("message_id: no such message")
        if claim.wait is not None:
            # Backing off (or deferred): wait the rest in the retry tiers, at most the longest.
            raise RetryLater(
                rules.hop(claim.wait, deps.longest_hop),
                reason="backing off",
                counts_as_attempt=False,
            )
        # Sent, failed, suppressed, or being sent by another worker: this copy is a duplicate and
        # is dropped. If that worker dies mid-send, the sweep finds its lease lapsed.
        return "duplicate_" + claim.status
    claimed = MessageDocument.model_validate(applied.document)
    return await _shielded(deps, claimed, inline=False)


async def attempt_now(deps: Notification, claimed: Sequence[MessageDocument]) -> list[str]:
    """Attempt the messages a trigger just created claimed, at once and side by side."""
    # Each attempt is a task of its own from here on: a cancelled handler leaves them running.
    tasks = [asyncio.ensure_future(_attempt(deps, m, inline=True)) for m in claimed]
    if not tasks:
        return []
    outcomes = await asyncio.shield(asyncio.gather(*tasks, return_exceptions=True))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome  # unexpected: the trigger is retried; the sweep recovers the claim
    return [str(outcome) for outcome in outcomes]


async def _shielded(deps: Notification, claimed: MessageDocument, *, inline: bool) -> str:
    # Once claimed, the attempt runs to its recorded end even if this handler is cancelled (a
    # cut broker connection cancels in-flight handlers): a send the provider accepted must be
    # recorded, or the sweep would find the lease lapsed and send it again.
    return await asyncio.shield(asyncio.ensure_future(_attempt(deps, claimed, inline=inline)))


async def _attempt(deps: Notification, claimed: MessageDocument, *, inline: bool) -> str:
    """Send a claimed message through the channel's providers in order; record the result.
    `inline`: claimed outside the delivery queue, so a retry or a deferral is brought back by a
    queue message in the outbox; otherwise by this queue message, through the retry tiers."""
    mid, claimed_at = claimed.id, claimed.claimed_at
    assert claimed_at is not None  # a claimed message records when
    outcome = rules.AttemptOutcome()
    providers = deps.providers.get(claimed.channel, [])
    first_failed = False  # the channel's first provider raised (not merely rate limited)
    async with _lease(deps, mid, claimed_at):
        for index, provider in enumerate(providers):
            limiter = provider.limiter
            if limiter is not None and not limiter.has_capacity():
                if index == 0 and deps.policy.may_defer(claimed):
                    return await _defer(deps, claimed, provider.name, limiter_wait(limiter), inline)
                outcome.errors.append((provider.name, "rate limited", False))
                continue
            if limiter is not None:
                await limiter.acquire()  # has capacity: returns at once
            if claimed.possibly_sent and not outcome.errors:
                POSSIBLE_DUPLICATES.labels(claimed.channel).inc()
                log.warning(
                    "sending a message that was possibly sent already (same Message-ID)",
                    message_id=mid,
                )
            try:
                outcome.provider_message_id = await provider.send(Outgoing.of(claimed))
                outcome.provider = provider.name
                ATTEMPTS.labels(provider.name, "sent").inc()
                record_failover(claimed.channel, index, first_failed)
                break
            except ProviderError as error:
                ATTEMPTS.labels(provider.name, "error").inc()
                first_failed |= index == 0
                outcome.errors.append((provider.name, error.reason, error.permanent))
                log.warning(
                    "provider failed",
                    message_id=mid,
                    provider=provider.name,
                    reason=error.reason,
                    permanent=error.permanent,
                )
        attempted = rules.after_attempt(
            claimed, outcome, deps.policy, deps.wall_clock(), requeue=inline
        )
        recorded = await _record(deps, claimed, attempted)

    status = attempted.result.status
    log.debug(
        "delivery attempt",
        message_id=mid,
        outcome=status,
        attempts=claimed.attempts,
        provider=outcome.provider,
        recorded=recorded,
    )
    if recorded is None:
        return "unrecorded_" + status
    if not recorded:
        return "superseded_" + status  # our lease lapsed and the sweep took the message over
    if status != RETRYING:
        MESSAGES.labels(claimed.channel, status).inc()
        return status
    if inline:
        return status  # the outbox's `notification.queued` brings it back when it is due
    raise RetryLater(
        rules.hop(attempted.result.delay or 0.0, deps.longest_hop),
        reason="every provider failed",
        counts_as_attempt=False,
    )


async def _defer(
    deps: Notification, claimed: MessageDocument, provider: str, wait: float, inline: bool
) -> str:
    """The first provider is at its rate limit: the message goes back queued, using no attempt."""
    now, claimed_at = deps.wall_clock(), claimed.claimed_at
    assert claimed_at is not None  # a claimed message records when
    await deps.repository.messages.apply(
        claimed.id,
        None,
        on(
            MessageDocument,
            partial(rules.deferred, claimed_at=claimed_at, now=now, wait=wait, requeue=inline),
        ),
        current=claimed.model_dump(by_alias=True),
    )
    ATTEMPTS.labels(provider, "rate_limited").inc()
    if inline:
        return "deferred"
    raise RetryLater(max(wait, 0.05), reason="rate limited", counts_as_attempt=False)


@asynccontextmanager
async def _lease(deps: Notification, mid: str, claimed_at: datetime) -> AsyncIterator[None]:
    """Hold the claim while sending (and recording): renewed every `lease_renew_seconds`, so a
    slow provider keeps it and a dead worker loses it within `lease_seconds`."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(deps.lease_renew_seconds)
            try:
                until = deps.wall_clock() + timedelta(seconds=deps.lease_seconds)
                if not await deps.repository.renew_lease(mid, claimed_at, until):
                    return  # recorded, or no longer ours
            except ConnectionFailure as error:
                log.warning(
                    "lease not renewed: database unreachable",
                    message_id=mid,
                    error=type(error).__name__,
                )

    renewer = asyncio.create_task(renew(), name=f"lease-{mid}")
    try:
        yield
    finally:
        renewer.cancel()
        with suppress(asyncio.CancelledError):
            await renewer


async def _record(
    deps: Notification, claimed: MessageDocument, attempted: Decision[rules.Attempted]
) -> bool | None:
    """Write the attempt's result; True if written, False if it was not ours to write any more,
    None if the database stayed unreachable for `record_patience_seconds`.

    A provider that accepted the message must never be asked again because a write failed, so
    the write is retried here, in the process that knows the outcome (the lease is still renewed
    meanwhile), instead of handing the queue message back."""
    assert claimed.claimed_at is not None  # a claimed message records when
    rule = partial(rules.record, claimed_at=claimed.claimed_at, attempted=attempted)
    sent = attempted.result.status == SENT
    current: dict[str, Any] | None = claimed.model_dump(by_alias=True)
    deadline = time.monotonic() + deps.record_patience_seconds
    pause = 0.1
    while True:
        try:
            applied = await deps.repository.record_result(
                claimed.id, on(MessageDocument, rule), current
            )
            return applied.change is not None
        except ConnectionFailure as error:
            if time.monotonic() + pause > deadline:
                UNRECORDED.labels(claimed.channel).inc()
                log.error(
                    "attempt result not recorded: the sweep will find the lease lapsed and treat the "
                    "message as possibly sent",
                    message_id=claimed.id,
                    sent=sent,
                    error=type(error).__name__,
                )
                return None
            log.warning(
                "recording the attempt result failed; trying again",
                message_id=claimed.id,
                sent=sent,
                error=type(error).__name__,
            )
            # The backoff of an in-process write retry, not a wait for an event.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)
            current = None  # read it again: the write may have landed

"""Delivery's rules, free of I/O: who may attempt a message now, what an attempt's outcome
makes of it, what a lapsed lease means, when to retry.

Every rule takes the message as stored (`MessageDocument`) and returns the change to write with
its events (`notification.sent`, `notification.failed`, or `notification.queued` when the message
must come back through the delivery queue), so a result and its event are one write.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.notification.documents import MessageDocument
from services.notification.domain import (
    DELIVERABLE,
    FAILED,
    PRODUCER,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
)
from shared.contracts.envelope import derive_id
from shared.contracts.notification import NotificationFailed, NotificationQueued, NotificationSent
from shared.decisions import Change, Decision

CLAIM_SLACK = timedelta(milliseconds=20)
"""A message due this soon may be claimed (a retry tier's TTL is the wait left, so a message
comes back at or after its time; this covers the clocks' rounding)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    jitter: float = 0.25
    # Rate-limit deferrals of one attempt before the busy provider counts as a failed one: waits
    # that use no attempt are bounded here, not by the broker's retry budget.
    max_deferrals: int = 100

    def may_defer(self, message: MessageDocument) -> bool:
        return message.deferrals < self.max_deferrals

    def delay(self, attempts_made: int, rng: random.Random | None = None) -> float:
        """Backoff after `attempts_made` failed attempts: base·2^(n-1), plus up to `jitter` of it."""
        rng = rng or random.Random()
        delay = min(self.base_seconds * 2.0 ** max(attempts_made - 1, 0), self.max_seconds)
        return delay + delay * self.jitter * rng.random()


@dataclass
class AttemptOutcome:
    """What one pass through the provider chain produced."""

    provider: str | None = None
    provider_message_id: str | None = None
    # (provider, reason, permanent)
    errors: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return self.provider_message_id is not None

    @property
    def permanent(self) -> bool:
        return bool(self.errors) and all(permanent for _, _, permanent in self.errors)

    def reason(self) -> str:
        return (
            "; ".join(f"{name}: {reason}" for name, reason, _ in self.errors)[:500]
            or "no provider configured"
        )


# --- events -----------------------------------------------------------------------------------


def queued_event(
    mid: str,
    *,
    message_type: str,
    channel: str,
    person_id: str,
    correlation_id: str | None,
    source_event_id: str | None,
    tag: object,
) -> NotificationQueued:
    """The delivery queue's work item: published by the outbox when a message must (again) be
    attempted by a delivery worker."""
    return NotificationQueued(
        event_id=derive_id(mid, "queued", tag),
        producer=PRODUCER,
        correlation_id=correlation_id or mid,
        causation_id=str(source_event_id or mid)[:100],
        message_id=uuid.UUID(mid),
        message_type=message_type,
        channel=channel,  # type: ignore[arg-type]  # a stored channel is one of the contract's
        recipient_id=person_id,
    )


def requeued(message: MessageDocument, tag: object) -> NotificationQueued:
    return queued_event(
        message.id,
        message_type=message.message_type,
        channel=message.channel,
        person_id=message.person_id,
        correlation_id=message.correlation_id,
        source_event_id=message.source_event_id,
        tag=tag,
    )


def result_event(
    message: MessageDocument, fields: Mapping[str, Any]
) -> NotificationSent | NotificationFailed | None:
    if message.channel == "webhook":
        # A machine's feed, not a message to a person: its delivery log is the endpoint's
        # (`GET /webhooks/endpoints/{id}/deliveries`), not the people's statistics.
        return None
    common: dict[str, Any] = {
        "producer": PRODUCER,
        "correlation_id": message.correlation_id or message.id,
        "causation_id": str(message.source_event_id)[:100],
        "message_id": message.id,
        "message_type": message.message_type,
        "channel": message.channel,
        "recipient_id": message.person_id,
        "source_event_id": str(message.source_event_id)[:2000],
        "attempts": fields["attempts"],
    }
    if fields["status"] == SENT:
        return NotificationSent(
            event_id=derive_id(message.id, "sent"),
            provider=fields["provider"],
            provider_message_id=str(fields["provider_message_id"])[:2000],
            **common,
        )
    if fields["status"] == FAILED:
        return NotificationFailed(
            event_id=derive_id(message.id, "failed", message.replays),
            reason=fields["last_error"],
            **common,
        )
    return None


# --- claiming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Whether an attempt may begin; if not, the message's status (None: no such message) and
    how long until it is due (a backoff or a deferral not over yet)."""

    claimed: bool
    status: str | None
    wait: float | None = None


def claimed_fields(message_attempts: int, now: datetime, until: datetime) -> dict[str, Any]:
    """A claim: the attempt recorded (begun) and the lease taken, before anything is sent."""
    return {
        "status": SENDING,
        "attempts": message_attempts + 1,
        "claimed_at": now,
        "lease_until": until,
        # While it is being sent, a message is next looked at when its lease ends (the sweep's
        # one index serves both).
        "next_attempt_at": until,
        "lapse_noticed_at": None,
        "touched_at": now,
    }


def claim(message: MessageDocument | None, now: datetime, until: datetime) -> Decision[Claim]:
    """A delivery worker takes a deliverable, due message for one attempt. A sent, failed or
    suppressed message, or one being sent (a lapsed lease is the sweep's to resolve), is not
    taken: the queue message is a duplicate."""
    if message is None:
        return Decision(Claim(False, None))
    if message.status not in DELIVERABLE:
        return Decision(Claim(False, message.status))
    due = message.next_attempt_at
    if due is not None and due > now + CLAIM_SLACK:
        return Decision(Claim(False, message.status, (due - now).total_seconds()))
    return Decision(Claim(True, SENDING), Change(set=claimed_fields(message.attempts, now, until)))


def deferred(
    message: MessageDocument | None,
    claimed_at: datetime,
    now: datetime,
    wait: float,
    *,
    requeue: bool,
) -> Change | None:
    """A provider's rate limit: the claimed message goes back, queued and due after `wait`,
    without using an attempt. `requeue`: it was claimed outside the delivery queue (inline), so
    a queue message must bring it back."""
    if message is None or message.status != SENDING or message.claimed_at != claimed_at:
        return None
    deferrals = message.deferrals + 1
    fields = {
        "status": QUEUED,
        "attempts": max(message.attempts - 1, 0),
        "deferrals": deferrals,
        "lease_until": None,
        "touched_at": now,
        "next_attempt_at": now + timedelta(seconds=wait),
    }
    return Change(
        set=fields, events=[requeued(message, f"deferred-{deferrals}")] if requeue else []
    )


# --- after an attempt -------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempted:
    status: str
    delay: float | None  # retrying: seconds until the next attempt


def after_attempt(
    message: MessageDocument,
    outcome: AttemptOutcome,
    policy: RetryPolicy,
    now: datetime,
    *,
    requeue: bool,
    rng: random.Random | None = None,
) -> Decision[Attempted]:
    """The result of an attempt at the claimed `message` (its `attempts` counts this one): sent,
    retrying after a backoff, or failed; with its event. `requeue`: a retry must come back through
    the delivery queue (the attempt was made inline, not from a queue message)."""
    attempts = max(message.attempts, 1)
    entry: dict[str, Any] = {
        "attempt": attempts,
        "at": now,
        "provider": outcome.provider,
        "errors": [{"provider": p, "reason": r} for p, r, _ in outcome.errors],
    }
    if message.possibly_sent:
        entry["possible_duplicate"] = True
    common = {
        "attempts": attempts,
        "history": [*message.history, entry][-20:],
        "lease_until": None,
        "possibly_sent": False,
        "deferrals": 0,
    }
    if outcome.sent:
        fields = {
            **common,
            "status": SENT,
            "provider": outcome.provider,
            "provider_message_id": outcome.provider_message_id,
            "sent_at": now,
            "last_error": None,
        }
        return Decision(Attempted(SENT, None), _with_result(message, fields))
    base = {**common, "last_error": outcome.reason()}
    if attempts >= policy.max_attempts or outcome.permanent:
        fields = {**base, "status": FAILED, "failed_at": now}
        return Decision(Attempted(FAILED, None), _with_result(message, fields))
    delay = policy.delay(attempts, rng)
    fields = {**base, "status": RETRYING, "next_attempt_at": now + timedelta(seconds=delay)}
    events = [requeued(message, f"retry-{attempts}")] if requeue else []
    return Decision(Attempted(RETRYING, delay), Change(set=fields, events=events))


def _with_result(message: MessageDocument, fields: dict[str, Any]) -> Change:
    event = result_event(message, fields)
    return Change(set=fields, events=[event] if event else [])


def accepts_result(current: MessageDocument | None, claimed_at: datetime, *, sent: bool) -> bool:
    """Whether an attempt's result may be written over the message as it now is.

    A result is ours to write while our claim holds. A provider's acceptance is written even when
    our lease lapsed and the message was queued again (or claimed by another worker): it is the
    truth, and writing it stops a second send that has not started yet."""
    if current is None:
        return False
    if current.status == SENDING and current.claimed_at == claimed_at:
        return True
    return sent and current.status in (QUEUED, RETRYING, SENDING)


def record(
    current: MessageDocument | None, claimed_at: datetime, attempted: Decision[Attempted]
) -> Change | None:
    """The attempt's result, if it is still ours to write (`accepts_result`)."""
    if not accepts_result(current, claimed_at, sent=attempted.result.status == SENT):
        return None
    return attempted.change


# --- a lost worker ----------------------------------------------------------------------------

LOST_WORKER = "outcome unknown: the worker's lease lapsed while sending; it may have been delivered"


def after_lapsed_lease(
    message: MessageDocument | None, policy: RetryPolicy, now: datetime, claimed_at: datetime
) -> Change | None:
    """A message found `sending` whose lease lapsed: its worker died (or lost the database) during
    an attempt whose outcome nobody recorded, so it was *possibly sent*.

    The rule: send it again, with the same Message-ID (SMS: the same idempotency key), so a
    receiver can drop the copy; the lost attempt counts, so a message that kills its worker every
    time ends `failed` instead of looping. The next attempt is counted as a possible duplicate.
    None when the claim was renewed, recorded or recovered meanwhile.
    """
    if (
        message is None
        or message.status != SENDING
        or message.claimed_at != claimed_at
        or message.lease_until is None
        or message.lease_until >= now
    ):
        return None
    attempts = max(message.attempts, 1)
    entry = {"attempt": attempts, "at": now, "provider": None, "errors": [], "outcome": "unknown"}
    base = {
        "attempts": attempts,
        "history": [*message.history, entry][-20:],
        "lease_until": None,
        "lapse_noticed_at": None,
        "possibly_sent": True,
        "last_error": LOST_WORKER,
        "touched_at": now,
    }
    if attempts >= policy.max_attempts:
        return _with_result(message, {**base, "status": FAILED, "failed_at": now})
    fields = {**base, "status": QUEUED, "next_attempt_at": now}
    return Change(set=fields, events=[requeued(message, f"lapsed-{attempts}")])


# --- the safety net and the secretariat -------------------------------------------------------


def requeue_stale(
    message: MessageDocument | None, now: datetime, before: datetime
) -> Change | None:
    """A deliverable message due before `before` that nobody attempted: its queue message was
    lost. It is queued again."""
    if message is None or message.status not in (QUEUED, RETRYING):
        return None
    if message.next_attempt_at is not None and message.next_attempt_at >= before:
        return None
    return Change(
        set={"touched_at": now, "next_attempt_at": now},
        events=[requeued(message, f"stale-{now.isoformat()}")],
    )


def replay(
    message: MessageDocument | None, now: datetime, *, also_sent: bool = False
) -> Change | None:
    """The secretariat sends a failed (or suppressed, if it was rendered) message again; with
    `also_sent`, a delivered one too (a webhook delivery the receiver asks for again)."""
    again = (FAILED, "suppressed", SENT) if also_sent else (FAILED, "suppressed")
    if message is None or message.status not in again:
        return None
    if message.status == "suppressed" and not message.to:
        return None  # nothing was rendered: no address then
    replays = message.replays + 1
    fields = {
        "status": QUEUED,
        "attempts": 0,
        "replays": replays,
        "touched_at": now,
        "next_attempt_at": now,
        "last_error": None,
    }
    return Change(set=fields, events=[requeued(message, replays)])


def hop(wait: float, longest: float) -> float:
    """One broker-held wait toward `wait`: no longer than the longest retry tier, so a long backoff
    never sits at the head of a retry queue in front of shorter ones."""
    return max(0.0, min(wait, longest))

"""What notification counts (Prometheus), beside the platform's per-queue counters."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MESSAGES = Counter(
    "foro_notification_messages_total",
    "Messages by channel and final outcome",
    ["channel", "outcome"],
)
ATTEMPTS = Counter(
    "foro_notification_attempts_total",
    "Provider attempts by provider and outcome",
    ["provider", "outcome"],
)
POSSIBLE_DUPLICATES = Counter(
    "foro_notification_possible_duplicates_total",
    "Attempts at a message an earlier attempt may already have delivered (its outcome was lost); "
    "sent with the same Message-ID / idempotency key",
    ["channel"],
)
UNRECORDED = Counter(
    "foro_notification_unrecorded_results_total",
    "Attempt results that could not be written within the patience (database down); left to the sweep",
    ["channel"],
)
PARKED = Counter(
    "foro_notification_parked_total",
    "Triggers parked until a person's contact arrives, and how parked ones ended",
    ["outcome"],
)
WAITING = Gauge(
    "foro_notification_parked_waiting", "Parked triggers still waiting for a person's contact"
)
FAILOVER_ACTIVE = Gauge(
    "foro_notification_provider_failover_active",
    "1 while a channel's first provider is failing and a later one carries its messages, else 0",
    ["channel"],
)


def record_failover(channel: str, sent_by: int, first_failed: bool) -> None:
    """After a message was sent by the channel's provider number `sent_by` (0: the first):
    the first works again (0), or failed and a later one took over (1). A first provider that
    was only at its rate limit is not failing: nothing changes."""
    if sent_by == 0:
        FAILOVER_ACTIVE.labels(channel).set(0)
    elif first_failed:
        FAILOVER_ACTIVE.labels(channel).set(1)

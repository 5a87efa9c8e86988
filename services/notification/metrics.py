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

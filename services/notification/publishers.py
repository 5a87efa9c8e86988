"""What notification publishes — its events, always through the outbox — declared here for the
AsyncAPI document.

`notification.queued` is the delivery queue's work item: a message that must (again) be
attempted by a delivery worker (a retry after its backoff, a rate-limit deferral, a replay, a
reminder or campaign message, what the sweep recovers). A message a trigger creates is attempted
at once, with no queue message. Waits go through the shared consumer middleware's retry tiers
(`<queue>.retry.<n>`), like every other retry in foro.
"""

from __future__ import annotations

from faststream.rabbit import RabbitRouter

from shared.contracts.notification import (
    ContactPreferencesChanged,
    NotificationFailed,
    NotificationQueued,
    NotificationSent,
    WebhookEndpointChanged,
)
from shared.messaging.publishers import declare_publishers as declare_event_publishers
from shared.messaging.topology import Topology

PUBLISHED = (
    NotificationQueued,
    NotificationSent,
    NotificationFailed,
    ContactPreferencesChanged,
    WebhookEndpointChanged,
)
SERVICE = "notification"


def declare_publishers(router: RabbitRouter, topology: Topology) -> None:
    declare_event_publishers(router, topology, PUBLISHED)

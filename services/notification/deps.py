"""What every capability's use cases share: the service's dependencies (`Notification`, built
in bootstrap), and `on(Model, rule)`, the boundary where what a store
read becomes the model a rule takes (registration's `on_participant`, for notification's
documents)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.notification.delivery.rules import RetryPolicy
from services.notification.documents import Document
from services.notification.people.unsubscribe import UnsubscribeLinks
from services.notification.providers import Provider
from services.notification.repository import NotificationRepository
from services.notification.templates import TemplateBook
from services.notification.webhooks.cache import EndpointCache
from shared.auth.tokens import LinkSigner
from shared.pack import EventPack


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Notification:
    """Everything notification's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    book: TemplateBook
    repository: NotificationRepository
    providers: dict[str, list[Provider]]
    policy: RetryPolicy
    lease_seconds: float = 10.0
    lease_renew_seconds: float = 3.0
    sweep_seconds: float = 5.0
    record_patience_seconds: float = 60.0
    stale_seconds: float = 120.0
    longest_hop: float = 512.0  # the longest retry tier: one broker-held wait is never longer
    campaign_batch: int = 50
    clock: Callable[[], datetime] = utc_now  # business time: reminders, campaigns
    wall_clock: Callable[[], datetime] = utc_now  # delivery timing, matched to the broker's TTLs
    link_signer: LinkSigner | None = None  # mints the personal code a confirmation hands out
    webhooks: EndpointCache = field(default_factory=EndpointCache)  # enabled endpoints, in memory
    unsubscribe: UnsubscribeLinks | None = None  # one-click links of non-essential e-mails


def on[D: Document, R](
    model: type[D], rule: Callable[[D | None], R]
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over a document model, as `AggregateStore.apply` calls it: with what it read."""
    return lambda stored: rule(model.read(stored))

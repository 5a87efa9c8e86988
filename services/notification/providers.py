"""Delivery providers: SMTP relays for e-mail (`smtp.py`), HTTP gateways for SMS (`sms.py`),
each behind one interface.

A provider either returns its own id for the message or raises `ProviderError` saying whether
the failure is permanent (this provider will never take this message: a refused address, a 4xx)
or transient (down, timeout, 5xx, 429). Reasons never carry addresses or phone numbers.

Every send is bounded twice: per step (connect, each SMTP command, each HTTP phase) and as a
whole (`send_timeout_seconds`), so a provider that accepts the connection and then says nothing
cannot hold a delivery (and its lease) for ever. A timeout is transient: the attempt is retried,
with the same Message-ID (SMS: the same idempotency key), since the provider may have taken it.

A provider sends at most `connections` messages at once over connections it keeps open, and at
most `rate_per_second` a second (`aiolimiter.AsyncLimiter`, per process).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiolimiter import AsyncLimiter

from services.notification.documents import MessageDocument

if TYPE_CHECKING:
    from services.notification.settings import NotificationSettings


class ProviderError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    text: str


@dataclass(frozen=True)
class Outgoing:
    """What a provider sends: built from the stored message document."""

    message_id: str
    to: str
    text: str
    subject: str = ""
    html: str | None = None
    attachments: Sequence[Attachment] = ()
    language: str = "es"
    headers: Mapping[str, str] = field(default_factory=dict)  # List-Unsubscribe and its Post

    @classmethod
    def of(cls, message: MessageDocument) -> Outgoing:
        content = message.content
        return cls(
            message_id=message.id,
            to=message.to or "",
            subject=content.subject,
            text=content.text,
            html=content.html,
            attachments=[Attachment(**a.model_dump()) for a in content.attachments],
            language=message.language,
            headers=dict(content.headers),
        )


class Provider(Protocol):
    name: str
    limiter: AsyncLimiter | None

    async def send(self, message: Outgoing) -> str: ...

    async def close(self) -> None: ...


def rate_limiter(rate_per_second: float | None) -> AsyncLimiter | None:
    """`rate_per_second` messages a second, in bursts of as many (at least one)."""
    if not rate_per_second:
        return None
    if rate_per_second >= 1:
        return AsyncLimiter(rate_per_second, 1.0)
    return AsyncLimiter(1, 1.0 / rate_per_second)


def limiter_wait(limiter: AsyncLimiter) -> float:
    """How long until the limiter has room for one more message (at most one message's share
    of its period)."""
    return limiter.time_period / limiter.max_rate


def build_providers(settings: NotificationSettings) -> dict[str, list[Provider]]:
    """Providers per channel, in failover order."""
    from services.notification.metrics import FAILOVER_ACTIVE
    from services.notification.sms import HttpSms
    from services.notification.smtp import SmtpEmail, smtp_providers

    providers: dict[str, list[Provider]] = {
        "email": [SmtpEmail(config, settings.email_from) for config in smtp_providers(settings)],
        "sms": [HttpSms(config) for config in settings.sms_providers],
    }
    for channel, chain in providers.items():
        if len(chain) > 1:  # exported from the start, so an alert has a series to watch
            FAILOVER_ACTIVE.labels(channel).set(0)
    return providers

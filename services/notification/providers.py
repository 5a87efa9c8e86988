"""Delivery providers: SMTP relays for e-mail, HTTP gateways for SMS, each behind one interface.

A provider either returns its own id for the message or raises `ProviderError` saying whether
the failure is permanent (this provider will never take this message: a refused address, a 4xx)
or transient (down, timeout, 5xx, 429). Reasons never carry addresses or phone numbers.

Every send is bounded twice: per step (connect, each SMTP command, each HTTP phase) and as a
whole (`send_timeout_seconds`), so a provider that accepts the connection and then says nothing
cannot hold a delivery (and its lease) for ever. A timeout is transient: the attempt is retried,
with the same Message-ID (SMS: the same idempotency key), since the provider may have taken it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib
import httpx

from services.notification.domain import smtp_message_id
from services.notification.settings import NotificationSettings, SmsProvider, SmtpProvider


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


class Provider(Protocol):
    name: str
    limiter: RateLimiter | None

    async def send(self, message: Outgoing) -> str: ...

    async def close(self) -> None: ...


@dataclass
class RateLimiter:
    """A token bucket per provider (per process): `rate` messages a second, bursts of `burst`."""

    rate: float
    burst: float = 1.0
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.burst = max(self.burst, 1.0)
        self.tokens = self.burst
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_seconds(self) -> float:
        self._refill()
        return max(0.0, (1.0 - self.tokens) / self.rate)


def _limiter(rate: float | None) -> RateLimiter | None:
    return RateLimiter(rate, burst=max(1.0, rate)) if rate else None


def email_message(message: Outgoing, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    # Deterministic: a receiving system can drop a copy a crash made us send twice.
    email["Message-ID"] = smtp_message_id(message.message_id)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(
            attachment.text.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    # After the parts: building them moves Content-* headers into the first part.
    email["Content-Language"] = message.language
    return email


class SmtpEmail:
    def __init__(self, config: SmtpProvider, sender: str) -> None:
        self.name = config.name
        self.config = config
        self.sender = sender
        self.limiter = _limiter(config.rate_per_second)

    async def send(self, message: Outgoing) -> str:
        email = email_message(message, self.sender)
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.send_timeout_seconds):
                await self._send(email)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({response.code for response in error.recipients})
            raise ProviderError(
                f"recipient refused (SMTP {codes})", permanent=all(c >= 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise ProviderError(
                f"SMTP {error.code}", permanent=500 <= error.code < 600 and error.code != 554
            ) from None
        except (TimeoutError, aiosmtplib.SMTPTimeoutError):
            raise ProviderError("timeout") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ProviderError(f"{type(error).__name__}") from None
        return email["Message-ID"]

    async def _send(self, email: EmailMessage) -> None:
        cfg = self.config
        await aiosmtplib.send(
            email,
            hostname=cfg.host,
            port=cfg.port,
            use_tls=cfg.security == "tls",
            start_tls=True if cfg.security == "starttls" else False,
            username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            validate_certs=cfg.validate_certs,
            timeout=cfg.timeout_seconds,
        )

    async def close(self) -> None:
        return None


class HttpSms:
    """An SMS gateway over HTTP: the Twilio-style Messages API, or a plain JSON endpoint."""

    def __init__(self, config: SmsProvider) -> None:
        self.name = config.name
        self.config = config
        self.limiter = _limiter(config.rate_per_second)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout_seconds)
        return self._client

    async def send(self, message: Outgoing) -> str:
        try:
            async with asyncio.timeout(self.config.send_timeout_seconds):
                response = await self._post(message)
        except (TimeoutError, httpx.TimeoutException):
            raise ProviderError("timeout") from None
        except httpx.HTTPError as error:
            raise ProviderError(type(error).__name__) from None
        return self._provider_id(response)

    async def _post(self, message: Outgoing) -> httpx.Response:
        cfg = self.config
        base = cfg.base_url.rstrip("/")
        if cfg.kind == "twilio":
            return await self.client.post(
                f"{base}/2010-04-01/Accounts/{cfg.account_sid}/Messages.json",
                data={"To": message.to, "From": cfg.from_number, "Body": message.text},
                auth=(cfg.account_sid, cfg.auth_token.get_secret_value()),
                headers={"Idempotency-Key": message.message_id},
            )
        return await self.client.post(
            base,
            json={
                "to": message.to,
                "from": cfg.from_number,
                "text": message.text,
                "reference": message.message_id,
            },
            headers={
                "Authorization": f"Bearer {cfg.auth_token.get_secret_value()}",
                "Idempotency-Key": message.message_id,
            },
        )

    def _provider_id(self, response: httpx.Response) -> str:
        cfg = self.config
        if response.status_code >= 400:
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
            raise ProviderError(f"HTTP {response.status_code}", permanent=permanent)
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(f"HTTP {response.status_code} without a JSON body") from None
        provider_id = data.get("sid") if cfg.kind == "twilio" else data.get("id")
        if not provider_id:
            raise ProviderError("answer without a message id")
        return str(provider_id)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def smtp_providers(settings: NotificationSettings) -> list[SmtpProvider]:
    if settings.smtp_providers:
        return list(settings.smtp_providers)
    return [
        SmtpProvider(
            name="smtp",
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_seconds=settings.smtp_timeout_seconds,
            send_timeout_seconds=settings.smtp_send_timeout_seconds,
        )
    ]


def build_providers(settings: NotificationSettings) -> dict[str, list[Provider]]:
    """Providers per channel, in failover order."""
    return {
        "email": [SmtpEmail(config, settings.email_from) for config in smtp_providers(settings)],
        "sms": [HttpSms(config) for config in settings.sms_providers],
    }

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SmtpProvider(BaseModel):
    """One SMTP relay; several are tried in order."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$", examples=["smtp-primary"])
    host: str
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field(
        "none",
        description="none: plain SMTP (local sink); starttls: upgrade; tls: implicit TLS (465).",
    )
    username: str | None = None
    password: SecretStr | None = None
    validate_certs: bool = True
    timeout_seconds: float = Field(
        10.0, gt=0, description="Each SMTP step (connect, greeting, each command)."
    )
    send_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="The whole send; a relay that answers slowly or never is a transient failure.",
    )
    rate_per_second: float | None = Field(
        None, gt=0, description="Most messages a second (per process)."
    )
    connections: int = Field(
        4, ge=1, le=100, description="SMTP sessions at once (per process): the concurrency limit."
    )
    idle_seconds: float = Field(
        30.0, gt=0, description="A kept-open session unused this long is closed, not reused."
    )
    messages_per_connection: int = Field(
        100, ge=1, description="Messages sent over one session before it is closed."
    )


class SmsProvider(BaseModel):
    """One SMS gateway; several are tried in order."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$", examples=["sms-primary"])
    kind: Literal["twilio", "json"] = Field(
        "twilio",
        description="twilio: Twilio-style Messages API; json: POST {to, from, text} → {id}.",
    )
    base_url: str = Field(examples=["https://api.twilio.com"])
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = Field(examples=["+15005550006"])
    timeout_seconds: float = Field(
        10.0, gt=0, description="Connect, write, read and pool timeouts of a request."
    )
    send_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="The whole request; a gateway that answers slowly or never is a transient failure.",
    )
    rate_per_second: float | None = Field(
        None, gt=0, description="Most messages a second (per process)."
    )
    connections: int = Field(
        4, ge=1, le=100, description="Requests at once (per process), over kept-open connections."
    )


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTIFICATION_", extra="ignore", populate_by_name=True
    )

    database: str = "foro_notification"
    http_port: int = 8004

    templates_path: Path | None = Field(
        None,
        description="Folder of templates and triggers.yaml; the event pack's templates/ when unset.",
    )
    email_from: str = Field(
        "Foro <no-reply@foro.example.org>", description="From header of every e-mail."
    )
    # The single-relay shortcut (what docker compose and the local stack set); `smtp_providers`
    # wins when it is not empty.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(
        10.0, gt=0, description="The shortcut relay's timeout per SMTP step."
    )
    smtp_send_timeout_seconds: float = Field(
        30.0, gt=0, description="The shortcut relay's timeout for a whole send."
    )
    smtp_connections: int = Field(
        4, ge=1, le=100, description="The shortcut relay's SMTP sessions at once."
    )
    smtp_providers: list[SmtpProvider] = Field(
        default_factory=list, description="SMTP relays in failover order (JSON)."
    )
    sms_providers: list[SmsProvider] = Field(
        default_factory=list, description="SMS gateways in failover order (JSON)."
    )

    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="How long an outbound webhook endpoint has to answer."
    )
    webhook_disable_after: int = Field(
        20,
        ge=1,
        le=1000,
        description="Failed attempts in a row after which an outbound webhook endpoint is "
        "disabled (the secretariat enables it again).",
    )
    webhook_refresh_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description="How often each replica reloads the enabled endpoints (a change made on "
        "another replica reaches it within this).",
    )
    webhooks_require_https: bool | None = Field(
        None,
        description="Refuse endpoints that are not https:// (loopback excepted); default: in "
        "production only.",
    )

    public_url: str | None = Field(
        None,
        description="Base URL people reach notification at: the one-click unsubscribe link of "
        "non-essential e-mails is <public_url>/unsubscribe (default: http://<http_host>:<http_port>).",
    )
    unsubscribe_mailto: str | None = Field(
        None,
        description="An address that unsubscribes whoever writes to it, offered in "
        "List-Unsubscribe beside the link; unset: the link only.",
        examples=["baja@foro.example.org"],
    )

    delivery_attempts: int = Field(
        6, ge=1, le=30, description="Delivery attempts (each tries every provider) before failing."
    )
    delivery_retry_base_seconds: float = Field(
        5.0, gt=0, description="Backoff base: base·2^(attempt-1) plus jitter."
    )
    delivery_retry_max_seconds: float = Field(3600.0, gt=0)
    delivery_retry_jitter: float = Field(
        0.25, ge=0, le=1, description="Jitter as a fraction of the delay."
    )
    lease_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a claim on a message being sent lasts unless its worker renews it.",
    )
    lease_renew_seconds: float = Field(
        3.0, gt=0, description="How often a sending worker renews its lease."
    )
    sweep_seconds: float = Field(
        5.0,
        gt=0,
        description="How often lapsed leases and lost queue messages are looked for. A lapsed lease "
        "is acted on at the second sweep that sees it: in-flight work resumes within lease + 2 sweeps.",
    )
    record_patience_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a worker keeps trying to record an attempt's result (database down) "
        "before leaving the message to the sweep, which treats it as possibly sent.",
    )
    stale_seconds: float = Field(
        120.0,
        gt=0,
        description="A queued (or due retrying) message untouched this long is queued again.",
    )
    # The shared retry tiers (`<queue>.retry.<n>`) hold delivery backoffs too: enough of them that a
    # backoff of minutes waits in a tier of its own size (a message never waits behind a longer one).
    retry_attempts: int = Field(
        12, ge=1, le=50, description="Attempts at a transiently failing message."
    )
    retry_max_seconds: float = Field(
        600.0, gt=0, description="Longest retry delay (and retry tier)."
    )

    outbox_concurrency: int = Field(
        8, ge=1, le=64, description="Documents whose events the relay publishes at once."
    )
    scheduler_tick_seconds: float = Field(
        1.0, gt=0, description="How often due reminders and campaigns are looked at."
    )
    campaign_batch: int = Field(
        50, ge=1, le=10_000, description="Campaign recipients expanded per tick (the throttle)."
    )

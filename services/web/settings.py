"""The web component's settings: where the five services are, the cookie secret, and what the
public sign-up form needs (the intake webhook's secret, its rate limit and spam gates).

It owns no data, so it has no broker or database settings; `FORO_ENVIRONMENT=production` refuses
a missing or weak cookie secret exactly as the services refuse theirs (shared/secrets_policy.py
finds every `SecretStr` field by itself).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.pack import EventPack, load_pack
from shared.secrets_policy import InsecureSettingsError, SecretProblem, check_settings
from shared.settings import SecretList

log = structlog.get_logger("foro.web.settings")


def _foro(name: str) -> AliasChoices:
    return AliasChoices(f"FORO_{name.upper()}", name)


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
        raise ValueError("an http(s) base URL without query or fragment is needed")
    return value.rstrip("/")


class WebSettings(BaseSettings):
    """`WEB_*` variables (and the platform-wide `FORO_*` ones it shares with the services)."""

    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=_foro("environment")
    )
    registration_url: str = Field(
        "http://127.0.0.1:8001", description="Registration's base URL (sign-in, participants)."
    )
    scheduling_url: str = Field("http://127.0.0.1:8002", description="Scheduling's base URL.")
    expo_url: str = Field("http://127.0.0.1:8003", description="Expo's base URL.")
    notification_url: str = Field("http://127.0.0.1:8004", description="Notification's base URL.")
    reporting_url: str = Field("http://127.0.0.1:8005", description="Reporting's base URL.")
    cookie_secret: SecretList = Field(
        default_factory=list,
        description="Keys of the sign-in cookie (encrypted and authenticated): one value, or a "
        "JSON list during a rotation (the first seals, every one opens). Unset in development: a "
        "random key per process, so a restart signs everyone out; production refuses to start.",
    )
    session_hours: float = Field(
        12.0,
        gt=0,
        le=24,
        description="A sign-in cookie is refused after this long (the staff "
        "token inside expires after 12 hours anyway).",
    )
    backend_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds one call to a service may take before the page says it "
        "is not answering.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC secret the public sign-up form signs registration's intake webhook "
        "with, as a form vendor does: one of REGISTRATION_WEBHOOK_SECRETS. Unset: the form says "
        "sign-ups are not taken on this site (production allows that, but refuses a weak one).",
    )
    signup_webhook_url: str | None = Field(
        None,
        description="The intake webhook the form posts to; default: WEB_REGISTRATION_URL + "
        "/intake/registrations.",
    )
    signup_producer: str = Field(
        "foro-web",
        pattern=r"^[a-z][a-z0-9_-]{0,79}$",
        description="The form's producer name in the `registration.submitted` events it sends.",
    )
    signup_rate_limit: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Sign-up submissions one client address may send per window.",
    )
    signup_rate_window_seconds: float = Field(
        600.0, gt=0, description="The rate limit's window (a token bucket refilling over it)."
    )
    signup_min_seconds: float = Field(
        3.0,
        ge=0,
        le=600,
        description="A form sent sooner than this after it was drawn is a robot's: quietly dropped.",
    )
    signup_form_hours: float = Field(
        12.0, gt=0, le=168, description="A sign-up form older than this is drawn again (expired)."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8006
    graceful_timeout: float = Field(10.0, gt=0)
    log_level: str = Field("INFO", validation_alias=_foro("log_level"))
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", validation_alias=_foro("log_format")
    )
    pack_path: Path | None = Field(None, validation_alias=_foro("pack_path"))
    forum_start_date: str | None = Field(None, validation_alias=_foro("forum_start_date"))

    @field_validator(
        "registration_url", "scheduling_url", "expo_url", "notification_url", "reporting_url"
    )
    @classmethod
    def _urls(cls, value: str) -> str:
        return _base_url(value)

    @field_validator("signup_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return _base_url(value) if value else None

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> WebSettings:
        if self.environment == "production" and (problems := self.secret_problems()):
            raise InsecureSettingsError(problems)
        return self

    def secret_problems(self) -> list[SecretProblem]:
        # The webhook secret may stay unset (a site without the public form); a weak one may not.
        return [
            problem
            for problem in check_settings(self)
            if not (problem.variable == "WEB_WEBHOOK_SECRET" and problem.reason == "missing")
        ]

    def log_weak_secrets(self) -> None:
        for problem in self.secret_problems():
            log.warning(
                "weak secret (FORO_ENVIRONMENT=production would refuse to start)",
                variable=problem.variable,
                reason=problem.reason,
            )

    def cookie_keys(self) -> list[str]:
        """The cookie secret's values, the sealing one first; a process-wide random one when unset
        (development only: the validator above refuses that in production)."""
        values = [s.get_secret_value() for s in self.cookie_secret if s.get_secret_value()]
        return values or [_PROCESS_KEY]

    def service_urls(self) -> dict[str, str]:
        return {
            "registration": self.registration_url,
            "scheduling": self.scheduling_url,
            "expo": self.expo_url,
            "notification": self.notification_url,
            "reporting": self.reporting_url,
        }

    def intake_url(self) -> str:
        """Where the public sign-up form posts its signed `registration.submitted` events."""
        return self.signup_webhook_url or f"{self.registration_url}/intake/registrations"

    def load_pack(self) -> EventPack:
        overrides: dict[str, Any] = {}
        if self.forum_start_date:
            overrides["forum.start_date"] = self.forum_start_date
        return load_pack(self.pack_path, overrides=overrides)


_PROCESS_KEY = secrets.token_urlsafe(32)

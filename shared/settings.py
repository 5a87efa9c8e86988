"""Typed settings shared by every service.

Each service subclasses `ServiceSettings` with its own env prefix (`REGISTRATION_`, ...); the
platform-wide values (broker, database, namespace) are read from `FORO_*` variables so that one
environment file configures all five services.

`FORO_ENVIRONMENT=production` makes every secret setting mandatory and strong: settings with a
missing, default or weak secret raise `InsecureSettingsError` naming each variable and why
(shared/secrets_policy.py), so a service refuses to start. In development (the default) the same
findings are only logged, once each, when the service starts (`log_weak_secrets`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import structlog
from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.auth.tokens import LinkSigner, parse_public_keys
from shared.pack import EventPack, load_pack
from shared.secrets_policy import InsecureSettingsError, SecretProblem, check_settings, decode_list

log = structlog.get_logger("foro.settings")


def _secret_list(value: Any) -> Any:
    return decode_list(value) if isinstance(value, str) else value


# Secrets accepted side by side (two during a rotation): a JSON list, or one value as it is —
# `REGISTRATION_API_TOKENS=abc` means ["abc"], so an env file's token passes straight through.
SecretList = Annotated[list[SecretStr], NoDecode, BeforeValidator(_secret_list)]


def _json_object(value: Any) -> Any:
    """A JSON object from a variable; empty (compose's `${VAR:-}`) means none."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value


def _foro(name: str) -> AliasChoices:
    """Accept the platform-wide `FORO_<NAME>` variable for a field of any service."""
    return AliasChoices(f"FORO_{name.upper()}", name)


class ServiceSettings(BaseSettings):
    """What every foro service needs; subclass per service with `env_prefix`."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development",
        validation_alias=_foro("environment"),
        description="production refuses to start with a missing, default or weak secret; "
        "development only warns.",
    )
    broker_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        validation_alias=_foro("broker_url"),
        description="AMQP URL of RabbitMQ.",
    )
    mongo_url: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false"),
        validation_alias=_foro("mongo_url"),
        description="MongoDB URL; SecantusDB wants directConnection=true&retryWrites=false.",
    )
    namespace: str = Field(
        "foro",
        pattern=r"^[a-z][a-z0-9_-]{0,40}$",
        validation_alias=_foro("namespace"),
        description="Prefix of every exchange and queue; lets several stacks share one broker.",
    )
    pack_path: Path | None = Field(
        None,
        validation_alias=_foro("pack_path"),
        description="Event pack file; the bundled CRM forum pack when unset.",
    )
    forum_start_date: str | None = Field(
        None,
        validation_alias=_foro("forum_start_date"),
        description="Overrides the pack's forum.start_date (YYYY-MM-DD).",
    )
    pack_overrides: dict[str, Any] = Field(
        default_factory=dict,
        validation_alias=_foro("pack_overrides"),
        description='Dotted-path overrides of the pack, JSON: {"categories[3].capacity": 2}.',
    )
    log_level: str = Field("INFO", validation_alias=_foro("log_level"))
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", validation_alias=_foro("log_format")
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    database: str = Field(description="This service's own MongoDB database.")
    prefetch: int = Field(16, ge=1, le=1000, description="Unacked messages per consumer.")
    delivery_limit: int = Field(
        10, ge=1, le=100, description="Deliveries of one message before the broker dead-letters it."
    )
    max_intake_bytes: int = Field(
        65_536,
        ge=0,
        validation_alias=_foro("max_intake_bytes"),
        description="Largest sign-up body accepted from outside, over AMQP intake and the webhook "
        "(bytes; 0 means no limit). A larger one is refused: HTTP 413, or dead-lettered.",
    )
    retry_attempts: int = Field(
        5, ge=1, le=50, description="Attempts at a transiently failing message."
    )
    retry_base_seconds: float = Field(
        0.5, gt=0, description="First retry delay; doubles each attempt."
    )
    retry_max_seconds: float = Field(60.0, gt=0, description="Longest retry delay.")
    outbox_sweep_seconds: float = Field(
        2.0, gt=0, description="How often the relay looks for events a crash left unpublished."
    )
    outbox_concurrency: int = Field(
        8, ge=1, le=64, description="Documents the relay publishes at once."
    )
    graceful_timeout: float = Field(15.0, gt=0, description="Seconds to finish in-flight messages.")
    broker_connect_timeout: float = Field(
        5.0,
        gt=0,
        validation_alias=_foro("broker_connect_timeout"),
        description="Seconds one attempt to connect to RabbitMQ may take, TCP and AMQP handshake.",
    )
    broker_reconnect_seconds: float = Field(
        2.0,
        gt=0,
        validation_alias=_foro("broker_reconnect_seconds"),
        description="Pause between attempts to re-establish a lost broker connection.",
    )
    broker_heartbeat_seconds: int = Field(
        10,
        ge=1,
        le=600,
        validation_alias=_foro("broker_heartbeat_seconds"),
        description="AMQP heartbeat; a connection silent for about three intervals is dropped and re-established.",
    )
    broker_publish_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias=_foro("broker_publish_timeout"),
        description="Seconds a publish may wait for the broker's confirm before it fails.",
    )
    start_retry_max_seconds: float = Field(
        30.0,
        gt=0,
        validation_alias=_foro("start_retry_max_seconds"),
        description="Longest pause between start-up attempts while the broker or database is unreachable "
        "(the pause starts at half a second and doubles).",
    )
    queue_metrics_seconds: float = Field(
        15.0,
        gt=0,
        validation_alias=_foro("queue_metrics_seconds"),
        description="Seconds between two readings of a service's queue depths and consumers "
        "(foro_queue_messages_ready, foro_queue_consumers, foro_dead_letter_messages).",
    )
    mongo_connect_timeout: float = Field(
        5.0,
        gt=0,
        validation_alias=_foro("mongo_connect_timeout"),
        description="Seconds to open one connection to MongoDB.",
    )
    mongo_server_selection_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias=_foro("mongo_server_selection_timeout"),
        description="Seconds an operation waits for a reachable MongoDB server before failing.",
    )
    mongo_socket_timeout: float = Field(
        120.0,
        ge=0,
        validation_alias=_foro("mongo_socket_timeout"),
        description="Seconds one MongoDB reply may take before the connection is deemed lost "
        "(a silent network); longer than any query we run. 0 means no limit.",
    )
    participant_token_secret: SecretList = Field(
        default_factory=list,
        validation_alias=_foro("participant_token_secret"),
        description="Link secrets signing parties' own tokens — participants' personal codes and "
        "agenda feeds, exhibitors' and focal points' access (shared/auth/tokens.py, LinkSigner): "
        "one value, or a JSON list during a rotation (the first signs, every one verifies). "
        "Unset: no party links are minted or accepted, only staff tokens.",
    )
    party_token_days: int = Field(
        180,
        ge=1,
        le=366,
        validation_alias=_foro("party_token_days"),
        description="Days a party's link (personal code, agenda feed, exhibitor or focal-point "
        "access) stays valid once issued; revoked earlier one party at a time.",
    )
    api_tokens: SecretList = Field(
        default_factory=list,
        description="Static secretariat tokens: accepted as an admin only with "
        "FORO_ENVIRONMENT=development (the local stack, the tests); production refuses to start "
        "with any set. Staff and machines use accounts and API tokens (shared/auth).",
    )
    auth_public_keys: Annotated[dict[str, str], NoDecode, BeforeValidator(_json_object)] = Field(
        default_factory=dict,
        validation_alias=_foro("auth_public_keys"),
        description='Public keys verifying access tokens, JSON {"<key id>": "<base64 of the PEM>"}: '
        "registration's signing key's, and during a rotation the next one's too.",
    )

    @field_validator("auth_public_keys")
    @classmethod
    def _public_keys_are_ed25519(cls, value: dict[str, str]) -> dict[str, str]:
        parse_public_keys(value)  # a wrong key is named at start-up, not at the first request
        return value

    def link_secrets(self) -> list[str]:
        """`participant_token_secret`'s values, the signing one first."""
        return [secret.get_secret_value() for secret in self.participant_token_secret]

    def link_signer(self) -> LinkSigner | None:
        """What mints parties' own tokens; None without a link secret."""
        secrets = self.link_secrets()
        if not secrets:
            return None
        return LinkSigner(secrets, timedelta(days=self.party_token_days))

    def auth_public_key_pems(self) -> dict[str, bytes]:
        """`auth_public_keys` as key id → PEM, for `shared.auth.tokens.TokenVerifier`."""
        return parse_public_keys(self.auth_public_keys)

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production" and (problems := self.secret_problems()):
            raise InsecureSettingsError(problems)
        return self

    def secret_problems(self) -> list[SecretProblem]:
        """Every missing, default or weak secret setting (shared/secrets_policy.py)."""
        return check_settings(self)

    def log_weak_secrets(self) -> None:
        """One warning per weak secret: what development tolerates and production refuses."""
        for problem in self.secret_problems():
            log.warning(
                "weak secret (FORO_ENVIRONMENT=production would refuse to start)",
                variable=problem.variable,
                reason=problem.reason,
            )

    def load_pack(self) -> EventPack:
        return load_pack(self.pack_path, overrides=self.pack_override_map())

    def pack_override_map(self) -> dict[str, Any]:
        overrides = dict(self.pack_overrides)
        if self.forum_start_date:
            overrides["forum.start_date"] = self.forum_start_date
        return overrides

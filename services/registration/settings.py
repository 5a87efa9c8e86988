from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore", populate_by_name=True)

    database: str = "foro_registration"
    http_port: int = 8001
    webhook_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="HMAC secrets accepted on the intake webhook (two during a rotation).",
    )
    webhook_tolerance_seconds: int = Field(300, ge=1, le=3600)
    fault: str | None = Field(None, description="Fault injection for tests: crash_before_publish.")

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import SecretList, ServiceSettings


class RegistrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGISTRATION_", extra="ignore", populate_by_name=True
    )

    database: str = "foro_registration"
    http_port: int = 8001
    webhook_secrets: SecretList = Field(
        default_factory=list,
        description="HMAC secrets accepted on the intake webhook (two during a rotation).",
    )
    webhook_tolerance_seconds: int = Field(300, ge=1, le=3600)
    fault: str | None = Field(None, description="Fault injection for tests: crash_before_publish.")
    badge_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "REGISTRATION_BADGE_SECRET", "FORO_BADGE_SECRET", "badge_secret"
        ),
        description="HMAC secret signing badge QR tokens (expo verifies with the same one); unset disables badges.",
    )
    badge_previous_secrets: SecretList = Field(
        default_factory=list,
        description="Older badge secrets still accepted at check-in during a rotation.",
    )
    checkin_points: list[str] = Field(
        default_factory=lambda: ["entrance", "expo"],
        description="Named check-in points besides the rooms of the event pack.",
    )

    checkin_margin_hours: float = Field(
        12.0,
        ge=0,
        le=168,
        description="Check-in is accepted from this many hours before the forum's first day until this "
        "many after its last (venue time); outside, scans are refused.",
    )

    def badge_verification_secrets(self) -> list[SecretStr]:
        return [
            s
            for s in (self.badge_secret, *self.badge_previous_secrets)
            if s is not None and s.get_secret_value()
        ]

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import SecretList, ServiceSettings


class ExpoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXPO_", extra="ignore", populate_by_name=True)

    database: str = "foro_expo"
    http_port: int = 8003
    public_url: str | None = Field(
        None, description="Base URL people reach expo at (printed with the floor plan's address)."
    )
    cv_max_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, le=10 * 1024 * 1024, description="Largest CV accepted."
    )
    meeting_minutes: int = Field(30, ge=10, le=120, description="Length of a B2B meeting slot.")
    meeting_tables: int = Field(12, ge=1, le=500, description="Tables in the B2B meeting area.")
    meeting_cap: int = Field(
        8, ge=1, le=100, description="Most open or confirmed meetings per participant."
    )
    interview_minutes: int = Field(30, ge=10, le=120, description="Length of a job-fair interview.")
    launches_per_exhibitor: int = Field(
        1, ge=1, le=10, description="Launches per exhibitor per day."
    )
    badge_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("EXPO_BADGE_SECRET", "FORO_BADGE_SECRET", "badge_secret"),
        description="Registration's badge secret: signed QR tokens are verified with it (see shared/badges.py).",
    )
    badge_previous_secrets: SecretList = Field(
        default_factory=list, description="Older badge secrets still accepted during a rotation."
    )
    accept_participant_id_scans: bool = Field(
        False,
        description="Also accept a bare participant id as a scan (manual entry at a booth without a "
        "scanner). Off by default: participant ids are derived from forum and e-mail, so anyone who "
        "knows an attendee's address could compute one.",
    )
    fault: str | None = Field(None, description="Fault injection for tests: crash_before_publish.")

    def badge_verification_secrets(self) -> list[SecretStr]:
        return [
            s
            for s in (self.badge_secret, *self.badge_previous_secrets)
            if s is not None and s.get_secret_value()
        ]

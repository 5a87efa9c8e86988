from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTING_", extra="ignore", populate_by_name=True
    )

    database: str = "foro_reporting"
    http_port: int = 8005
    follow_up_check_seconds: float = Field(
        3600.0,
        gt=0,
        description="How often overdue action items are looked for (and owners reminded).",
    )
    final_memoria: bool = Field(
        True,
        description="Generate the final Memoria (every language) automatically once the forum has ended.",
    )
    output_dir: Path | None = Field(
        None, description="Also write every generated document here (files named by report id)."
    )
    prefetch: int = Field(
        500,
        ge=1,
        le=1000,
        description=(
            "Unacked deliveries on the projections queue: what is in flight is folded and written "
            "together, so more in flight means fewer, larger writes."
        ),
    )
    fold_batch: int = Field(
        500, ge=1, le=5000, description="Most events the live fold writes in one batch."
    )

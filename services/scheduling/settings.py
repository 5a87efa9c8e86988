from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SCHEDULING_", extra="ignore", populate_by_name=True
    )

    database: str = "foro_scheduling"
    http_port: int = 8002
    # The event pack has no venue hours (only the expo's): until it does, they are settings.
    venue_opens_at: time = Field(
        time(8, 0), description="The venue opens (local time); earlier sessions conflict."
    )
    venue_closes_at: time = Field(
        time(20, 0), description="The venue closes (local time); later sessions conflict."
    )
    auto_publish: bool = Field(
        True,
        description="At start-up, publish release 1 (or what the pack changed) when the draft has no hard conflicts.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL of this service in feed links (what calendars subscribe to); "
        "default: the URL each request came in on.",
    )
    fault: str | None = Field(None, description="Fault injection for tests: crash_before_publish.")

    @property
    def base_url(self) -> str:
        """For the start-up log line: the public URL, else where this process listens."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

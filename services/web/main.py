"""Entry point: `python -m services.web` (or `python -m services.web.main`)."""

from __future__ import annotations

import sys

import uvicorn

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from shared.logging import configure_logging
from shared.secrets_policy import InsecureSettingsError


def main() -> None:
    try:
        settings = WebSettings()
    except InsecureSettingsError as refused:  # FORO_ENVIRONMENT=production with a weak secret
        sys.exit(f"foro web: {refused}")
    configure_logging("web", settings.log_level, settings.log_format)
    settings.log_weak_secrets()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        proxy_headers=True,  # behind a TLS proxy, https from X-Forwarded-Proto: Secure cookies
        timeout_graceful_shutdown=int(settings.graceful_timeout),
    )


if __name__ == "__main__":
    main()

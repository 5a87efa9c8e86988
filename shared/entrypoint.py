"""What every service's `main.py` does: serve the app, or describe it for AsyncAPI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from faststream import FastStream

from shared.asyncapi import asyncapi_app, documented_settings
from shared.logging import configure_logging
from shared.secrets_policy import InsecureSettingsError
from shared.settings import ServiceSettings


def serve[S: ServiceSettings](
    service: str, settings_class: type[S], create_app: Callable[[S], FastAPI]
) -> None:
    """Run the service until SIGTERM/SIGINT; in-flight messages finish within the graceful timeout."""
    try:
        settings = settings_class()
    except InsecureSettingsError as refused:  # FORO_ENVIRONMENT=production with a weak secret
        sys.exit(f"foro {service}: {refused}")
    configure_logging(service, settings.log_level, settings.log_format)
    settings.log_weak_secrets()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        # X-Forwarded-For is read by foro's own code, from the proxies a service names
        # (REGISTRATION_TRUSTED_PROXIES), never by uvicorn for every caller on 127.0.0.1.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
    )


def documented[S: ServiceSettings](
    service: str,
    settings_class: type[S],
    build_runtime: Callable[[S], tuple[Any, Any]],
    description: str,
) -> FastStream:
    """The FastStream app `faststream docs gen --factory` reads, built on fixed settings."""
    runtime, _ = build_runtime(documented_settings(settings_class))
    return asyncapi_app(runtime.broker, service, description)

"""Entry point: `python -m services.registration.main`."""

from __future__ import annotations

import uvicorn
from faststream import FastStream

from services.registration.bootstrap import DESCRIPTION, build_runtime, create_app
from services.registration.settings import RegistrationSettings
from shared.asyncapi import asyncapi_app as shared_asyncapi_app
from shared.asyncapi import documented_settings
from shared.logging import configure_logging


def main() -> None:
    settings = RegistrationSettings()
    configure_logging("registration", settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
    )


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.registration.main:asyncapi_app`."""
    runtime, _ = build_runtime(documented_settings(RegistrationSettings))
    return shared_asyncapi_app(runtime.broker, "registration", DESCRIPTION)


if __name__ == "__main__":
    main()

"""Entry point: `python -m services.reporting.main`."""

from __future__ import annotations

from faststream import FastStream

from services.reporting.bootstrap import DESCRIPTION, build_runtime, create_app
from services.reporting.settings import ReportingSettings
from shared.entrypoint import documented, serve


def main() -> None:
    serve("reporting", ReportingSettings, create_app)


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.reporting.main:asyncapi_app`."""
    return documented("reporting", ReportingSettings, build_runtime, DESCRIPTION)


if __name__ == "__main__":
    main()

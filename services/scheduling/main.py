"""Entry point: `python -m services.scheduling.main`."""

from __future__ import annotations

from faststream import FastStream

from services.scheduling.bootstrap import DESCRIPTION, build_runtime, create_app
from services.scheduling.settings import SchedulingSettings
from shared.entrypoint import documented, serve


def main() -> None:
    serve("scheduling", SchedulingSettings, create_app)


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.scheduling.main:asyncapi_app`."""
    return documented("scheduling", SchedulingSettings, build_runtime, DESCRIPTION)


if __name__ == "__main__":
    main()

"""Entry point: `python -m services.expo.main`."""

from __future__ import annotations

from faststream import FastStream

from services.expo.bootstrap import DESCRIPTION, build_runtime, create_app
from services.expo.settings import ExpoSettings
from shared.entrypoint import documented, serve


def main() -> None:
    serve("expo", ExpoSettings, create_app)


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.expo.main:asyncapi_app`."""
    return documented("expo", ExpoSettings, build_runtime, DESCRIPTION)


if __name__ == "__main__":
    main()

"""Entry point: `python -m services.notification.main`."""

from __future__ import annotations

from faststream import FastStream

from services.notification.bootstrap import DESCRIPTION, build_runtime, create_app
from services.notification.settings import NotificationSettings
from shared.entrypoint import documented, serve


def main() -> None:
    serve("notification", NotificationSettings, create_app)


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.notification.main:asyncapi_app`."""
    return documented("notification", NotificationSettings, build_runtime, DESCRIPTION)


if __name__ == "__main__":
    main()

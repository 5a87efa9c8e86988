"""Entry point: `python -m services.registration.main`."""

from __future__ import annotations

from faststream import FastStream

from services.registration.bootstrap import DESCRIPTION, build_runtime, create_app
from services.registration.settings import RegistrationSettings
from shared.entrypoint import documented, serve


def main() -> None:
    serve("registration", RegistrationSettings, create_app)


def asyncapi_app() -> FastStream:
    """For `faststream docs gen --factory services.registration.main:asyncapi_app`."""
    return documented("registration", RegistrationSettings, build_runtime, DESCRIPTION)


if __name__ == "__main__":
    main()

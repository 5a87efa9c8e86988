"""Each service's API documentation (`/docs`, `/redoc`) renders in headless Chromium with every
request outside this machine refused: the pages' scripts, styles and favicon come from the
service itself, so they work on a network without internet (issue 13).

The services run as their real HTTP apps (`create_app(settings)`), in process, with the broker
and the database unreachable: the documentation must not wait for either.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr

from services.expo.bootstrap import create_app as create_expo
from services.expo.settings import ExpoSettings
from services.notification.bootstrap import create_app as create_notification
from services.notification.settings import NotificationSettings
from services.registration.bootstrap import create_app as create_registration
from services.registration.settings import RegistrationSettings
from services.reporting.bootstrap import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from services.scheduling.bootstrap import create_app as create_scheduling
from services.scheduling.settings import SchedulingSettings
from shared.docs_ui import STATIC_PATH
from tests.support.browser import (  # noqa: F401  (the fixtures are found by their names)
    PageOpener,
    RecordedPage,
    browser,
    chromium_path,
    open_page,
    serve_app,
)
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e

SECRET = SecretStr("a-test-secret-of-at-least-thirty-two-characters")

# Per service: its app factory, its settings class and the secrets its settings require.
SERVICES: dict[str, tuple[Callable[..., FastAPI], type, dict[str, Any]]] = {
    "registration": (create_registration, RegistrationSettings, {"webhook_secrets": [SECRET]}),
    "scheduling": (
        create_scheduling,
        SchedulingSettings,
        {"participant_token_secret": [SECRET]},
    ),
    "expo": (
        create_expo,
        ExpoSettings,
        {"badge_secret": SECRET, "participant_token_secret": [SECRET]},
    ),
    "notification": (
        create_notification,
        NotificationSettings,
        {"participant_token_secret": [SECRET]},
    ),
    "reporting": (create_reporting, ReportingSettings, {"final_memoria": False}),
}

LIVENESS_SUMMARY = "The process is up"  # GET /health/live, an operation every service has


def unreachable_settings(service: str) -> Any:
    """The service's settings with the broker and the database on ports nobody listens on."""
    _, settings_class, extra = SERVICES[service]
    namespace = "t" + uuid.uuid4().hex[:10]
    return settings_class(
        namespace=namespace,
        database=f"{service}_{namespace}",
        broker_url=SecretStr(f"amqp://guest:guest@127.0.0.1:{free_port()}/"),
        mongo_url=SecretStr(
            f"mongodb://127.0.0.1:{free_port()}/?directConnection=true&retryWrites=false"
        ),
        **extra,
    )


@pytest_asyncio.fixture(loop_scope="session", params=sorted(SERVICES))
async def service(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str]]:
    """(service name, base URL) of one service's HTTP app, served for the test."""
    name: str = request.param
    create_app = SERVICES[name][0]
    async with serve_app(create_app(unreachable_settings(name))) as url:
        yield name, url


def assert_offline(recorded: RecordedPage, url: str, assets: list[str]) -> None:
    """Nothing left loopback, every asset came from the service, nothing failed to load."""
    assert recorded.left_loopback == [], recorded.report()
    assert recorded.blocked == [], recorded.report()
    for asset in assets:
        assert recorded.requested(f"{url}{STATIC_PATH}/{asset}"), recorded.report()
    assert recorded.failed == [], recorded.report()
    assert recorded.console_errors == [], recorded.report()
    assert recorded.page_errors == [], recorded.report()


async def test_swagger_ui_renders_offline(
    service: tuple[str, str],
    open_page: PageOpener,  # noqa: F811
) -> None:
    name, url = service
    recorded = await open_page()
    page = recorded.page
    response = await page.goto(f"{url}/docs", wait_until="networkidle", timeout=30_000)
    assert response is not None and response.ok

    assert await page.title() == f"foro · {name} — API"
    heading = page.locator(".swagger-ui .info .title")
    await heading.wait_for(timeout=15_000)
    assert f"foro · {name}" in await heading.inner_text()
    live = page.locator('.opblock-summary-path[data-path="/health/live"]')
    await live.wait_for(timeout=15_000)  # the operations list, read from /openapi.json
    assert await page.locator(".opblock").count() > 3

    assert_offline(recorded, url, ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"])
    assert recorded.requested(f"{url}/openapi.json"), recorded.report()


async def test_redoc_renders_offline(
    service: tuple[str, str],
    open_page: PageOpener,  # noqa: F811
) -> None:
    name, url = service
    recorded = await open_page()
    page = recorded.page
    response = await page.goto(f"{url}/redoc", wait_until="networkidle", timeout=30_000)
    assert response is not None and response.ok

    assert await page.title() == f"foro · {name} — API"
    heading = page.locator("h1", has_text=f"foro · {name}")
    await heading.wait_for(timeout=15_000)  # ReDoc rendered the document's title
    operation = page.locator("h2", has_text=LIVENESS_SUMMARY)
    await operation.wait_for(timeout=15_000)  # and an operation from /openapi.json

    assert_offline(recorded, url, ["redoc.standalone.js", "favicon.png"])
    assert recorded.requested(f"{url}/openapi.json"), recorded.report()

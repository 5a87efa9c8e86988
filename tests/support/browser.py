"""Headless Chromium for the tests, through Playwright: Debian's `chromium` package (Playwright's
own browser download cannot run here), pages that record every request they make and can refuse
any that would leave the machine, and an in-process server for the app a page opens.

Use from a test module (pytest finds fixtures imported into it by name; ruff wants F401 and
F811 silenced for them):

    from tests.support.browser import PageOpener, browser, chromium_path, open_page, serve_app

    async def test_page(open_page: PageOpener) -> None:
        async with serve_app(create_app(settings)) as url:
            recorded = await open_page()  # offline: only loopback hosts answer
            await recorded.page.goto(f"{url}/docs")
            ...
            assert recorded.left_loopback == [], recorded.report()

Where Chromium is looked for: `FORO_TEST_CHROMIUM` (a path), else `chromium` or
`chromium-browser` on PATH (`apt-get install -y chromium`). Without one the browser tests skip
on a developer's machine and FAIL under CI (`CI=true`), so a CI image that lost the package
cannot pass by running none of them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    WebSocket,
    async_playwright,
)

from tests.support.bus import eventually

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-error", "devtools"})
"""URLs that never reach a network: inline data, in-page objects, the browser's own pages."""

PageOpener = Callable[..., Awaitable["RecordedPage"]]


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None when the machine has none."""
    if configured := os.environ.get("FORO_TEST_CHROMIUM"):
        return configured if Path(configured).exists() else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def is_loopback(url: str) -> bool:
    """Whether a request to `url` stays on this machine: a loopback address (127.0.0.0/8, ::1),
    `localhost`, or a scheme that never reaches a network (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    host = (parts.hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, which a resolver would have to look up elsewhere
        return False


@dataclass
class RecordedPage:
    """A page and everything it did: each request (in order), the ones refused for leaving
    loopback, the ones that failed, console errors and uncaught script errors."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def left_loopback(self) -> list[str]:
        """Requests (blocked or not) to a host that is not this machine."""
        return [url for url in self.requests if not is_loopback(url)]

    def requested(self, url: str) -> bool:
        return url in self.requests

    def report(self) -> str:
        """Everything recorded, for an assertion message."""
        sections = {
            "requests": self.requests,
            "blocked (not loopback)": self.blocked,
            "failed": self.failed,
            "console errors": self.console_errors,
            "page errors": self.page_errors,
        }
        return "\n".join(
            f"{name}:\n" + "".join(f"  {line}\n" for line in lines)
            for name, lines in sections.items()
        )

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_websocket(self, websocket: WebSocket) -> None:
        self.requests.append(websocket.url)  # not routed by Playwright: recorded, never blocked

    def _on_failed(self, request: Request) -> None:
        self.failed.append(f"{request.url}: {request.failure}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            self.console_errors.append(f"{message.text} ({location.get('url', '')})")

    def _on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))


async def _open(context: BrowserContext, *, offline: bool) -> RecordedPage:
    page = await context.new_page()
    recorded = RecordedPage(page)
    page.on("request", recorded._on_request)
    page.on("requestfailed", recorded._on_failed)
    page.on("websocket", recorded._on_websocket)
    page.on("console", recorded._on_console)
    page.on("pageerror", recorded._on_page_error)
    if offline:

        async def refuse_outside(route: Route) -> None:
            url = route.request.url
            if is_loopback(url):
                await route.continue_()
            else:  # before any DNS look-up or connection: nothing leaves the machine
                recorded.blocked.append(url)
                await route.abort("blockedbyclient")

        # On the context, so requests of workers and pop-ups the page opens are caught too.
        await context.route("**/*", refuse_outside)
    return recorded


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; skips without it, except under CI, where its absence fails the run."""
    found = find_chromium()
    if found is None:
        message = (
            "no Chromium for the browser tests: `apt-get install -y chromium` "
            "(or point FORO_TEST_CHROMIUM at an executable)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """One headless Chromium for the session (each page gets its own context)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def open_page(browser: Browser) -> AsyncIterator[PageOpener]:
    """`await open_page()` → a `RecordedPage` in a fresh browser context, with every request to a
    host outside loopback refused (and recorded); `open_page(offline=False)` only records.
    Keyword arguments besides `offline` go to `browser.new_context` (viewport, locale, …)."""
    contexts: list[BrowserContext] = []

    async def opener(*, offline: bool = True, **context_options: object) -> RecordedPage:
        context = await browser.new_context(**context_options)  # type: ignore[arg-type]
        contexts.append(context)
        return await _open(context, offline=offline)

    yield opener
    for context in contexts:
        await context.close()


@asynccontextmanager
async def serve_app(app: object, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an ASGI app (its lifespan included) with uvicorn in this event loop, on a port the
    kernel picks at bind time; yields its base URL and stops it at the end of the block."""
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=0, log_config=None, lifespan="on")  # type: ignore[arg-type]
    )
    serving = asyncio.create_task(server.serve(), name="serve-app")

    async def started() -> bool:
        if serving.done():  # it failed to start: its exception says why
            await serving
            raise AssertionError("the app's server stopped before it started")
        return server.started

    try:
        await eventually(started, 30, "the app's server to start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(30):
            await serving

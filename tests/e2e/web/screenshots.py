"""Screenshots of the main web pages at desktop (1280 px) and phone (375 px) width, for the README.

    python -m tests.e2e.web.screenshots                 # fake services, into docs/screenshots/
    python -m tests.e2e.web.screenshots --url http://127.0.0.1:8006 \\
        --username admin --password-file pw.txt         # a running stack (`foro up`)

Without `--url` the web app runs in this process against the fake services of the unit tests
(tests/unit/test_web_pages.py: a pending media accreditation, a two-day programme, statistics),
so the pictures are the same on every machine. With `--url` it signs in to a running web
component instead (a real stack shows real data; pages of roles the account lacks show the
"your role cannot" page). Chromium is Debian's (`apt-get install -y chromium`, or
FORO_TEST_CHROMIUM), driven by Playwright like the browser tests; every request off this machine
is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from playwright.async_api import Browser, Route, ViewportSize, async_playwright
from pydantic import SecretStr

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.support.browser import find_chromium, is_loopback, serve_app
from tests.unit.test_web_pages import PID, FakeServices

ROOT = Path(__file__).resolve().parents[3]
OUTPUT = ROOT / "docs" / "screenshots"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 812},
}
FAKE_PASSWORD = "the right passphrase"  # what the fakes accept

# (file name, path, signed in?)
PAGES: list[tuple[str, str, bool]] = [
    ("programme", "/programme", False),
    ("signin", "/signin", False),
    ("console", "/console", True),
    ("accreditation", "/console/accreditation", True),
    ("participant", f"/console/participants/{PID}", True),
]


class ScreenshotServices(FakeServices):
    """The unit tests' fakes, plus the dashboard's alert sources: the services' /metrics (one
    dead-lettered message at notification) and a message that failed for good."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/metrics":
            queue = "foro.notification.registration-confirmed"
            count = 1 if request.url.port == 8004 else 0
            text = (
                "# TYPE foro_dead_letter_messages gauge\n"
                f'foro_dead_letter_messages{{queue="{queue}"}} {count}\n'
            )
            return httpx.Response(200, text=text, headers={"content-type": "text/plain"})
        if request.url.path == "/messages/summary":
            return httpx.Response(200, json={"failed": 2})
        if request.url.path == "/budget":
            return httpx.Response(200, json={"lines": []})
        return super().__call__(request)


@asynccontextmanager
async def fake_stack() -> AsyncIterator[str]:
    app = create_app(
        WebSettings(cookie_secret=[SecretStr("the-screenshots-cookie-secret-Hk4Lm7Np2Qr5St8Vw")]),
        transport=httpx.MockTransport(ScreenshotServices()),
    )
    async with serve_app(app) as url:
        yield url


async def shoot(
    browser: Browser, web: str, output: Path, lang: str, username: str, password: str
) -> list[Path]:
    written: list[Path] = []
    for width, viewport in WIDTHS.items():
        context = await browser.new_context(viewport=viewport, device_scale_factor=1)

        async def local_only(route: Route) -> None:
            if is_loopback(route.request.url):
                await route.continue_()
            else:
                await route.abort("blockedbyclient")

        await context.route("**/*", local_only)
        page = await context.new_page()
        page.set_default_timeout(20_000)
        await page.goto(f"{web}/?lang={lang}")
        signed_in = False
        for name, path, needs_sign_in in PAGES:
            if needs_sign_in and not signed_in:
                await page.goto(f"{web}/signin")
                await page.fill("#username", username)
                await page.fill("#password", password)
                async with page.expect_navigation():
                    await page.click("form[action='/signin'] button[type=submit]")
                if "/signin" in page.url:
                    raise SystemExit(f"signing in as {username} was refused at {web}")
                signed_in = True
            await page.goto(f"{web}{path}")
            await page.wait_for_load_state("networkidle")
            target = output / f"{name}-{width}.png"
            await page.screenshot(path=str(target), full_page=True)
            written.append(target)
        await context.close()
    return written


async def run(args: argparse.Namespace) -> list[Path]:
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium: `apt-get install -y chromium` (or set FORO_TEST_CHROMIUM)")
    args.output.mkdir(parents=True, exist_ok=True)
    password = (
        args.password_file.read_text().strip() if args.password_file is not None else FAKE_PASSWORD
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            if args.url:
                return await shoot(
                    browser, args.url.rstrip("/"), args.output, args.lang, args.username, password
                )
            async with fake_stack() as web:
                return await shoot(browser, web, args.output, args.lang, args.username, password)
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running web component (default: fake services here)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password-file", type=Path, help="the account's password, in a file")
    parser.add_argument("--lang", default="en", choices=["en", "es"])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    for path in asyncio.run(run(args)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, file=sys.stderr)


if __name__ == "__main__":
    main()

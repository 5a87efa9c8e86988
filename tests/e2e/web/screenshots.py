"""Screenshots of the main web pages at desktop (1280 px) and phone (375 px) width, for the README.

    python -m tests.e2e.web.screenshots                 # fake services, into docs/screenshots/
    python -m tests.e2e.web.screenshots --url http://127.0.0.1:8006 \\
        --username admin --password-file pw.txt         # a running stack (`foro up`)

Without `--url` the web app runs in this process against the fake services of the web unit
tests (tests/e2e/web/site_fakes.py: a pending media accreditation, a two-day programme,
statistics, a delegation, an exhibitor, messages, the budget), so the pictures are the same on
every machine; the parties' pages are drawn signed in with the fakes' access links. With `--url`
it signs in to a running web component instead, as a member of staff (a real stack shows real
data; pages of roles the account lacks show the "your role cannot" page), and leaves out the
parties' pages (their access links are personal). Chromium is Debian's (`apt-get install -y chromium`, or
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
from playwright.async_api import Browser, Page, Route, ViewportSize, async_playwright
from pydantic import SecretStr

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.e2e.web import site_fakes
from tests.support.browser import find_chromium, is_loopback, serve_app

ROOT = Path(__file__).resolve().parents[3]
OUTPUT = ROOT / "docs" / "screenshots"
WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 812},
}
FAKE_PASSWORD = "the right passphrase"  # what the fakes accept

# (file name, path, who: "public", "staff" or a party of site_fakes.PARTIES)
PAGES: list[tuple[str, str, str]] = [
    ("programme", "/programme", "public"),
    ("signup", "/signup", "public"),
    ("expo", "/expo", "public"),
    ("signin", "/signin", "public"),
    ("console", "/console", "staff"),
    ("accreditation", "/console/accreditation", "staff"),
    ("participant", f"/console/people/{site_fakes.PARTICIPANT_ID}", "staff"),
    ("programme-editor", "/console/programme", "staff"),
    ("expo-console", "/console/expo/booths", "staff"),
    ("messages", "/console/messages/templates/registration_confirmed", "staff"),
    ("budget", "/console/reports/budget", "staff"),
    ("door", "/door", "staff"),
    ("focal-point", "/delegation", "focal_point"),
    ("exhibitor", "/exhibitor", "exhibitor"),
    ("my-agenda", "/me", "participant"),
]


@asynccontextmanager
async def fake_stack() -> AsyncIterator[str]:
    app = create_app(
        WebSettings(cookie_secret=[SecretStr("the-screenshots-cookie-secret-Hk4Lm7Np2Qr5St8Vw")]),
        transport=httpx.MockTransport(site_fakes.SiteFakes()),
    )
    async with serve_app(app) as url:
        yield url


async def sign_in(page: Page, web: str, who: str, username: str, password: str) -> None:
    if who in site_fakes.PARTIES:
        token, first_page = site_fakes.PARTIES[who]
        await page.goto(f"{web}/access#{token}")
        await page.wait_for_url(f"{web}{first_page}*")
        return
    await page.goto(f"{web}/signin")
    await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("form[action='/signin'] button[type=submit]")
    if "/signin" in page.url:
        raise SystemExit(f"signing in as {username} was refused at {web}")


async def shoot(
    browser: Browser,
    web: str,
    output: Path,
    lang: str,
    username: str,
    password: str,
    *,
    fakes: bool,
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
        signed_in: str | None = None
        for name, path, who in PAGES:
            if who in site_fakes.PARTIES and not fakes:
                continue  # a party's access link is personal: only the fakes have one
            if who != "public" and who != signed_in:
                await sign_in(page, web, who, username, password)
                signed_in = who
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
                    browser,
                    args.url.rstrip("/"),
                    args.output,
                    args.lang,
                    args.username,
                    password,
                    fakes=False,
                )
            async with fake_stack() as web:
                return await shoot(
                    browser, web, args.output, args.lang, args.username, password, fakes=True
                )
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

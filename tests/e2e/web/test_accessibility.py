"""Accessibility: axe-core on every page of the web component, in a real browser.

Every GET page without path parameters is found in the app's own routes (`app.routes`: a page
another area adds is checked without editing this file), plus a sample of pages with parameters
(`SAMPLES`). Each is opened signed out and signed in as an admin, in Spanish and English, at
phone (375 px) and desktop (1280 px) width, and axe-core runs on it; any violation of impact
"serious" or "critical" fails the test, listed with its rule, its targets and the page.

The services behind the pages are fakes (the app's `transport`, the fakes of
tests/unit/test_web_pages.py): this test is about the pages' markup, for breadth; the flows
through real services are the other e2e tests. A route whose page the fakes cannot draw (5xx),
or that answers something other than HTML, is listed in the output and not checked, except the
core pages (`MUST_DRAW`), which must draw.

axe-core is a TEST asset, vendored from npm under tests/support/vendor/ (see its README there),
never served by the app. It is injected with `page.add_script_tag(path=…)`, which inserts the
file's text as an inline <script>: the pages' Content-Security-Policy (`script-src 'self'`, no
inline scripts) refuses that, so this test's browser contexts are opened with `bypass_csp=True`.
That affects these contexts only; the other browser tests keep the CSP and fail on its errors.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page
from pydantic import SecretStr
from starlette.routing import BaseRoute, Route

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.support.browser import (  # noqa: F401  (the fixtures are found by their names)
    PageOpener,
    browser,
    chromium_path,
    open_page,
    serve_app,
)
from tests.unit.test_web_pages import PID, FakeServices

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "support" / "vendor" / "axe.min.js"
COOKIE_SECRET = SecretStr("the-accessibility-cookie-secret-Qw7Er9Ty2Ui4Op6As8Df")
FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = ("es", "en")
WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}
TIMEOUT_MS = 20_000

# Never pages: probes, files, feeds and downloads.
EXCLUDED = re.compile(r"^/(health|static)(/|$)|\.(ics|pdf|svg|json|js|webmanifest|txt|csv)$")
# Pages with parameters, and pages with a query worth drawing too.
SAMPLES = (
    "/programme?day=0&room=plenary",
    f"/console/participants/{PID}",
    "/no/such/page",  # the 404 page
)
# Pages the fakes serve fully: they must draw (not 5xx) and be checked.
MUST_DRAW = ("/", "/programme", "/signin", "/console", "/console/accreditation")


def get_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    """The paths of the GET routes among `routes`, routers included by the app (FastAPI keeps an
    included router whole, with its prefix) walked into."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from get_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Route) and "GET" in (route.methods or set()):
            yield prefix + route.path


def page_paths() -> tuple[list[str], dict[str, str]]:
    """Every GET page of the app without path parameters, and the routes left out with why."""
    app = create_app(WebSettings(cookie_secret=[COOKIE_SECRET]))
    paths: list[str] = []
    skipped: dict[str, str] = {}
    for path in get_routes(app.routes):
        if EXCLUDED.search(path):
            continue
        if "{" in path:
            skipped[path] = "has path parameters (a sample is in SAMPLES)"
            continue
        paths.append(path)
    assert {"/", "/signin", "/programme"} <= set(paths), f"routes not found: {paths}"
    return sorted(set(paths)) + list(SAMPLES), skipped


class AdminServices(FakeServices):
    """The fakes of the unit tests, signing in as an admin (every console link shown)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if request.url.path == "/auth/login" and response.status_code == 200:
            body = json.loads(response.content)
            return httpx.Response(200, json={**body, "roles": ["admin"]})
        return response


@dataclass
class Finding:
    page: str
    rule: str
    impact: str
    targets: list[str]
    help: str

    def __str__(self) -> str:
        return f"{self.page}: {self.rule} ({self.impact}) {self.help} at {self.targets}"


@pytest_asyncio.fixture(loop_scope="session")
async def web() -> AsyncIterator[str]:
    app = create_app(
        WebSettings(cookie_secret=[COOKIE_SECRET]),
        transport=httpx.MockTransport(AdminServices()),
    )
    async with serve_app(app) as url:
        yield url


async def sign_in(page: Page, web: str) -> None:
    await page.goto(f"{web}/signin")
    await page.fill("#username", "admin")
    await page.fill("#password", "the right passphrase")
    async with page.expect_navigation():
        await page.click("form[action='/signin'] button[type=submit]")
    assert "/signin" not in page.url, "the fake sign-in was refused"


async def axe(page: Page, where: str) -> list[Finding]:
    await page.add_script_tag(path=str(AXE))
    results = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        Finding(
            where,
            violation["id"],
            violation["impact"],
            [", ".join(node["target"]) for node in violation["nodes"]][:5],
            violation["help"],
        )
        for violation in results["violations"]
        if violation.get("impact") in FAILING_IMPACTS
    ]


async def test_every_page_has_no_serious_accessibility_violations(
    web: str,
    open_page: PageOpener,  # noqa: F811
) -> None:
    paths, skipped = page_paths()
    findings: list[Finding] = []
    not_drawn: dict[str, str] = {}
    checked = 0
    for signed_in in (False, True):
        for lang in LANGUAGES:
            for width, viewport in WIDTHS.items():
                recorded = await open_page(bypass_csp=True, viewport=viewport)
                page = recorded.page
                page.set_default_timeout(TIMEOUT_MS)
                await page.goto(f"{web}/?lang={lang}")  # the language cookie
                if signed_in:
                    await sign_in(page, web)
                state = f"{'admin' if signed_in else 'signed out'}, {lang}, {width}"
                for path in paths:
                    response = await page.goto(f"{web}{path}")
                    assert response is not None, path
                    kind = response.headers.get("content-type", "")
                    if response.status >= 500 or "text/html" not in kind:
                        not_drawn[path] = f"{response.status} {kind or 'no content type'}"
                        continue
                    findings += await axe(page, f"{path} [{state}; at {page.url}]")
                    checked += 1
                assert recorded.page_errors == [], recorded.report()
                await page.context.close()

    report = "\n".join(
        [f"checked {checked} page views; {len(paths)} pages"]
        + [f"  not a page here: {path} ({why})" for path, why in sorted(skipped.items())]
        + [f"  not drawn with fake services: {path} ({why})" for path, why in not_drawn.items()]
    )
    print(report)
    assert not [p for p in MUST_DRAW if p in not_drawn], report
    assert findings == [], "serious or critical axe violations:\n" + "\n".join(map(str, findings))


async def test_the_check_finds_what_it_looks_for(open_page: PageOpener) -> None:  # noqa: F811
    """axe-core, injected as above, reports a form field without a label and an image without a
    text alternative (both critical): the check above cannot pass by checking nothing."""
    recorded = await open_page(bypass_csp=True)
    page = recorded.page
    await page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "</main></body></html>"
    )
    rules = {finding.rule for finding in await axe(page, "a bad page")}
    assert {"label", "image-alt"} <= rules, rules


async def test_the_screenshot_script_draws_the_main_pages(
    tmp_path: Path,
    chromium_path: str,  # noqa: F811  (skips without Chromium, fails so under CI)
) -> None:
    """`python -m tests.e2e.web.screenshots` (README's pictures) keeps working: PNGs of every
    page it lists, at both widths."""
    from tests.e2e.web import screenshots

    args = argparse.Namespace(
        url=None, username="admin", password_file=None, lang="es", output=tmp_path
    )
    written = await screenshots.run(args)
    assert len(written) == len(screenshots.PAGES) * len(screenshots.WIDTHS)
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG"), path

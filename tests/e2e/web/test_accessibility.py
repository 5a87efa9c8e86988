"""Accessibility: axe-core on every page of the web component, in a real browser.

Every GET page without path parameters is found in the app's own routes (`app.routes`: a page
another area adds is checked without editing this file), plus every page with parameters, filled
from the fakes' ids (`site_fakes`); a page with parameters that is neither sampled nor named in
`NOT_PAGES` fails the test. Each page is opened by each kind of visitor — signed out, a member of
staff (admin: every console page), and each party with their access (focal point, exhibitor,
participant: their own pages) — in Spanish and English, at phone (375 px) and desktop (1280 px)
width, and axe-core runs on it; any violation of impact "serious" or "critical" fails the test,
listed with its rule, its targets and the page. Every page must draw: a 4xx/5xx (other than the
404 page itself) or a page saying a service answered an error fails the test too.

The services behind the pages are fakes (`site_fakes`: the web unit tests' fakes behind one
transport), so every page draws with data in it: this test is about the pages' markup, for
breadth; the flows through real services are the other browser tests.

axe-core is a TEST asset, vendored from npm under tests/support/vendor/ (see its README there),
never served by the app. It is injected with `page.add_script_tag(path=…)`, which inserts the
file's text as an inline <script>: the pages' Content-Security-Policy (`script-src 'self'`, no
inline scripts) refuses that, so this test's browser contexts are opened with `bypass_csp=True`.
That affects these contexts only; the other browser tests keep the CSP and fail on its errors.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page
from pydantic import SecretStr
from starlette.routing import BaseRoute, Route

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.e2e.web import site_fakes
from tests.support.browser import PageOpener, serve_app

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "support" / "vendor" / "axe.min.js"
COOKIE_SECRET = SecretStr("the-accessibility-cookie-secret-Qw7Er9Ty2Ui4Op6As8Df")
FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = ("es", "en")
WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}
TIMEOUT_MS = 20_000

# Never pages: probes, files, feeds and downloads.
EXCLUDED = re.compile(r"^/(health|static)(/|$)|\.(ics|pdf|svg|json|js|webmanifest|txt|csv)$")
# Routes with parameters that are not pages (files, downloads, a preview drawn inside a frame).
NOT_PAGES = {
    "/console/participants/{participant_id}/badge.pdf",
    "/console/delegations/{code}/badges.pdf",
    "/console/messages/templates/{message_type}/email.html",
    "/console/reports/memoria/{report_id}.{fmt}",
    "/exhibitor/applications/{application_id}/cv",
    "/me/calendar/{participant_id}.ics",
    "/programme/rooms/{room}.ics",
}
# The parties' own pages and the sign-in pages: a member of staff opening one is asked to sign in.
PARTIES_OWN = ("/access", "/party", "/delegation", "/exhibitor", "/me", "/signin")
# Signed out: the public pages with a query worth drawing, and the 404 page.
PUBLIC_SAMPLES = ["/programme?day=0&room=plenary", "/no/such/page"]
# What a page says when a service behind it answered an error (the error page, a panel).
# (English: every page is drawn in English too.)
SERVICE_TROUBLE = re.compile(
    r"no fake for|not found|not answering|cannot see this part|refused this|HTTP 5\d\d",
    re.IGNORECASE,
)


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


def page_paths() -> list[str]:
    """Every GET page of the app without path parameters; every page with parameters is in
    `site_fakes`' samples or in NOT_PAGES (else this fails: a new page must be checked)."""
    app = create_app(WebSettings(cookie_secret=[COOKIE_SECRET]))
    paths: list[str] = []
    sampled = site_fakes.CONSOLE_SAMPLES + [p for ps in site_fakes.PARTY_PAGES.values() for p in ps]
    unchecked = []
    for path in get_routes(app.routes):
        if EXCLUDED.search(path) and "{" not in path:
            continue
        if "{" in path:
            pattern = re.compile(
                "^" + re.sub(r"\\{[^}]+\\}", "[^/?]+", re.escape(path)) + "(\\?|$)"
            )
            if path not in NOT_PAGES and not any(pattern.match(s) for s in sampled):
                unchecked.append(path)
            continue
        paths.append(path)
    assert {"/", "/signin", "/programme"} <= set(paths), f"routes not found: {paths}"
    assert unchecked == [], f"pages with parameters neither sampled nor in NOT_PAGES: {unchecked}"
    return sorted(set(paths))


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
        transport=httpx.MockTransport(site_fakes.SiteFakes()),
    )
    async with serve_app(app) as url:
        yield url


async def sign_in(page: Page, web: str, visitor: str) -> None:
    """Sign `visitor` in: staff with the sign-in form, a party with the link they are sent."""
    if visitor == "signed out":
        return
    if visitor == "admin":
        await page.goto(f"{web}/signin")
        await page.fill("#username", "admin")
        await page.fill("#password", "the right passphrase")
        async with page.expect_navigation():
            await page.click("form[action='/signin'] button[type=submit]")
        assert "/signin" not in page.url, "the fake sign-in was refused"
        return
    token, first_page = site_fakes.PARTIES[visitor]
    await page.goto(f"{web}/access#{token}")
    await page.wait_for_url(f"{web}{first_page}*")


def visitors_pages(paths: list[str]) -> dict[str, list[str]]:
    """What each visitor opens: signed out and admin every page; a party its own pages."""
    return {
        "signed out": paths + PUBLIC_SAMPLES,
        "admin": [p for p in paths if not p.startswith(PARTIES_OWN)] + site_fakes.CONSOLE_SAMPLES,
        **site_fakes.PARTY_PAGES,
    }


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
    open_page: PageOpener,
) -> None:
    findings: list[Finding] = []
    not_drawn: list[str] = []
    checked = 0
    for visitor, paths in visitors_pages(page_paths()).items():
        for lang in LANGUAGES:
            for width, viewport in WIDTHS.items():
                recorded = await open_page(bypass_csp=True, viewport=viewport)
                page = recorded.page
                page.set_default_timeout(TIMEOUT_MS)
                await page.goto(f"{web}/?lang={lang}")  # the language cookie
                await sign_in(page, web, visitor)
                state = f"{visitor}, {lang}, {width}"
                for path in paths:
                    response = await page.goto(f"{web}{path}")
                    assert response is not None, path
                    kind = response.headers.get("content-type", "")
                    expected = 404 if path == "/no/such/page" else 200
                    trouble = (
                        SERVICE_TROUBLE.search(await page.inner_text("main"))
                        if expected == 200
                        else None
                    )
                    if visitor != "signed out" and urlsplit(page.url).path in (
                        "/signin",
                        "/access",
                    ):
                        trouble = re.search("signed out", "signed out")  # the session was lost
                    if response.status != expected or "text/html" not in kind or trouble:
                        not_drawn.append(
                            f"{path} [{state}]: {response.status} {kind}"
                            + (f", says {trouble.group(0)!r}" if trouble else "")
                        )
                        continue
                    findings += await axe(page, f"{path} [{state}; at {page.url}]")
                    checked += 1
                assert recorded.page_errors == [], recorded.report()
                await page.context.close()

    print(f"checked {checked} page views")
    assert not_drawn == [], "pages that did not draw:\n" + "\n".join(not_drawn)
    assert findings == [], "serious or critical axe violations:\n" + "\n".join(map(str, findings))


async def test_the_check_finds_what_it_looks_for(open_page: PageOpener) -> None:
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
    chromium_path: str,
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

"""End to end through a real browser: a delegation's focal point follows the link with their
access, lands on their delegation's page and nominates a member, who is then listed with their
status.

Registration runs as a real process (the real broker and database) with a link secret; a
registrar made with `foro users add` registers the delegation and issues the focal point's access
over the API, as the secretariat does; the web app runs in process and is driven by Debian's
Chromium (tests/support/browser.py) with every request off this machine refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.e2e.web.stack import (
    PHONE,
    TIMEOUT_MS,
    add_account,
    assert_clean,
    registration_process,
    signed_in_headers,
)
from tests.support.browser import PageOpener, serve_app
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

LINK_SECRET = "a-link-secret-for-the-party-web-e2e-test-0123456789"
STATUSES = ("Pending approval", "Allocating a seat", "Confirmed", "Waitlisted")


@pytest_asyncio.fixture(loop_scope="session")
async def registration(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with registration_process(
        namespace, mongo_url, amqp_url, tmp_path, FORO_PARTICIPANT_TOKEN_SECRET=LINK_SECRET
    ) as process:
        yield process


async def focal_point_access(registration: ServiceProcess, username: str, code: str) -> str:
    """The secretariat registers the delegation and issues its focal point's access."""
    async with httpx.AsyncClient(base_url=registration.url, timeout=10) as http:
        headers = await signed_in_headers(http, username)
        registered = await http.put(f"/delegations/{code}", json={}, headers=headers)
        assert registered.status_code in (200, 201), registered.text
        issued = await http.post(f"/delegations/{code}/focal-point-key", headers=headers)
        assert issued.status_code == 200, issued.text
        token: str = issued.json()["access_token"]
        return token


async def test_a_focal_point_signs_in_with_their_access_and_nominates_a_member(
    registration: ServiceProcess,
    namespace: str,
    mongo_url: str,
    open_page: PageOpener,
) -> None:
    username = f"registrar-{uuid.uuid4().hex[:6]}"
    await add_account(username, "registrar", mongo_url, namespace)
    token = await focal_point_access(registration, username, "SV")

    settings = WebSettings(
        registration_url=registration.url,
        cookie_secret=[SecretStr("the-party-e2e-cookie-secret-Hq4Vn8Xp2Lr6Tb9Kc3")],
    )
    async with serve_app(create_app(settings)) as web:
        recorded = await open_page(viewport=PHONE)
        page = recorded.page
        page.set_default_timeout(TIMEOUT_MS)

        # The link the secretariat sends: the token in the fragment, posted by the page's script.
        await page.goto(f"{web}/access?lang=en#{token}")
        await page.wait_for_url(f"{web}/delegation")
        assert token not in page.url
        await page.get_by_role("heading", name="Members").wait_for()

        email = f"ana.{uuid.uuid4().hex[:8]}@example.org"
        await page.get_by_label("Given name").fill("Ana")
        await page.get_by_label("Family name").fill("López")
        await page.get_by_label("E-mail").fill(email)
        await page.get_by_label("Job title").fill("Viceministra")
        await page.get_by_label("Accepted the privacy policy (required)").check()
        await page.get_by_role("button", name="Nominate", exact=True).click()

        await page.wait_for_url(f"{web}/delegation?*")
        outcome = page.locator("#outcome")
        await outcome.wait_for()
        assert "Ana López was nominated." in await outcome.inner_text()
        member = parse_qs(urlsplit(page.url).query)["member"][0]
        row = page.locator(f"#member-{member}")
        await row.wait_for()
        listed = await row.inner_text()
        assert "Ana López" in listed and "Viceministra" in listed, listed
        assert any(status in listed for status in STATUSES), listed

        # Registration holds the nomination: the delegation's own read lists the member.
        async with httpx.AsyncClient(base_url=registration.url, timeout=10) as http:
            delegation = await http.get(
                "/delegations/SV", headers={"Authorization": f"Bearer {token}"}
            )
        assert member in delegation.json()["members"]

        assert_clean(recorded)

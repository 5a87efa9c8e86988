"""End to end through a real browser: the public programme page shows a session moved after a
release.

Scheduling runs as a real process (the real broker and database) and publishes release 1 of the
pack's programme at start. A programme editor's token (signed with the platform's key, verified
by scheduling with its public key) moves the closing session in the draft and publishes release
2; the page, read through the web app in Chromium, shows the new time only then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.e2e.web.stack import (
    TIMEOUT_MS,
    assert_clean,
    programme_editor_token,
    scheduling_process,
)
from tests.support.browser import PageOpener, serve_app
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

SESSION = "CLOSE"  # the pack's closing session, last in the plenary on the last day


@pytest_asyncio.fixture(loop_scope="session")
async def scheduling(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with scheduling_process(namespace, mongo_url, amqp_url, tmp_path) as process:
        yield process


def programme_editor() -> dict[str, str]:
    return {"Authorization": f"Bearer {programme_editor_token(timedelta(minutes=10))}"}


async def test_the_programme_page_shows_a_session_moved_after_a_release(
    scheduling: ServiceProcess,
    open_page: PageOpener,
) -> None:
    settings = WebSettings(scheduling_url=scheduling.url)
    async with serve_app(create_app(settings)) as web:
        recorded = await open_page(viewport={"width": 1280, "height": 900})
        page = recorded.page
        page.set_default_timeout(TIMEOUT_MS)

        await page.goto(f"{web}/programme?lang=en")
        session = page.locator(f"#session-{SESSION}")
        when = session.locator(".when")
        assert (await when.inner_text()).startswith("16:30–17:30"), await when.inner_text()
        assert "Version 1 of the programme" in await page.locator("main").inner_text()

        async with httpx.AsyncClient(
            base_url=scheduling.url, headers=programme_editor(), timeout=10
        ) as http:
            day = (await session.locator("time").first.get_attribute("datetime") or "")[:10]
            moved = await http.patch(
                f"/programme/sessions/{SESSION}",
                json={"starts_at": f"{day}T17:00:00", "ends_at": f"{day}T18:00:00"},
            )
            assert moved.status_code == 200, moved.text
            # Only the draft moved: the public page still shows release 1.
            await page.reload()
            assert (await when.inner_text()).startswith("16:30–17:30")
            published = await http.post("/programme/releases", json={"note": "closing later"})
            assert published.status_code == 201, published.text
            assert published.json()["release"] == 2

        await page.reload()
        assert (await when.inner_text()).startswith("17:00–18:00"), await when.inner_text()
        assert "Version 2 of the programme" in await page.locator("main").inner_text()

        assert_clean(recorded)

"""End to end through a real browser: the public programme page shows a session moved after a
release.

Scheduling runs as a real process (the real broker and database) and publishes release 1 of the
pack's programme at start. A programme editor's token (signed with the platform's key, verified
by scheduling with its public key) moves the closing session in the draft and publishes release
2; the page, read through the web app in Chromium, shows the new time only then.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from shared.auth.permissions import Role
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair, new_key_id
from tests.integration.registration.conftest import today_at_venue
from tests.support.browser import (  # noqa: F401  (the fixtures are found by their names)
    PageOpener,
    browser,
    chromium_path,
    open_page,
    serve_app,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

PRIVATE, PUBLIC = generate_key_pair()
KID = new_key_id()
SESSION = "CLOSE"  # the pack's closing session, last in the plenary on the last day
TIMEOUT_MS = 20_000


@pytest_asyncio.fixture(loop_scope="session")
async def scheduling(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    env = {
        "FORO_NAMESPACE": namespace,
        "FORO_MONGO_URL": mongo_url,
        "FORO_BROKER_URL": amqp_url,
        "FORO_FORUM_START_DATE": today_at_venue().isoformat(),
        "FORO_AUTH_PUBLIC_KEYS": json.dumps({KID: encode_pem(PUBLIC)}),
        "SCHEDULING_DATABASE": f"scheduling_{namespace}",
    }
    process = ServiceProcess("scheduling", env, tmp_path / "scheduling.log")
    try:
        await process.start().ready()
        yield process
    finally:
        process.stop()
        mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
        await mongo.drop_database(f"scheduling_{namespace}")
        await mongo.close()


def programme_editor() -> dict[str, str]:
    signed = TokenSigner(PRIVATE, KID).sign(
        subject="account:editor-e2e",
        kind="staff",
        roles=[Role.PROGRAMME_EDITOR],
        lifetime=timedelta(minutes=10),
    )
    return {"Authorization": f"Bearer {signed.token}"}


async def test_the_programme_page_shows_a_session_moved_after_a_release(
    scheduling: ServiceProcess,
    open_page: PageOpener,  # noqa: F811
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

        assert recorded.left_loopback == [], recorded.report()
        assert recorded.page_errors == [], recorded.report()
        assert recorded.console_errors == [], recorded.report()

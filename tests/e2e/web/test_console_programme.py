"""End to end through a real browser: a programme editor moves a session in the console's
programme editor and publishes a release, at phone width.

Scheduling runs as a real process (the real broker and database) and publishes release 1 of the
pack's programme at start. The editor's staff token (signed with the platform's key, verified by
scheduling with its public key) is sealed into the web's session cookie as sign-in would (the
sign-in itself is exercised by test_accreditation_console.py). In Chromium the editor opens the
closing session, types a new time, saves, sees the draft changed, publishes, and scheduling's
published agenda then carries the new time as release 2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from services.web.bootstrap import create_app
from services.web.session import SESSION_COOKIE, SessionSealer, StaffSession
from services.web.settings import WebSettings
from shared.auth.permissions import Role
from tests.e2e.web.stack import (
    PHONE,
    TIMEOUT_MS,
    assert_clean,
    programme_editor_token,
    scheduling_process,
)
from tests.integration.registration.conftest import today_at_venue
from tests.support.browser import PageOpener, serve_app
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

SESSION = "CLOSE"  # the pack's closing session, 16:30–17:30 in the plenary on the last day


@pytest_asyncio.fixture(loop_scope="session")
async def scheduling(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with scheduling_process(namespace, mongo_url, amqp_url, tmp_path) as process:
        yield process


def editor_session() -> StaffSession:
    lifetime = timedelta(minutes=10)
    return StaffSession(
        username="editor-e2e",
        roles=(Role.PROGRAMME_EDITOR.value,),
        token=programme_editor_token(lifetime),
        expires_at=datetime.now(UTC) + lifetime,
    )


async def test_a_programme_editor_moves_a_session_and_publishes_a_release(
    scheduling: ServiceProcess,
    open_page: PageOpener,
) -> None:
    settings = WebSettings(
        scheduling_url=scheduling.url,
        cookie_secret=[SecretStr("the-web-e2e-cookie-secret-Pq3Wm8Lz5Kx2Nv7Rb4Ty")],
        forum_start_date=today_at_venue().isoformat(),
    )
    app = create_app(settings)
    sealer: SessionSealer = app.state.sealer
    async with serve_app(app) as web:
        recorded = await open_page(viewport=PHONE)
        page = recorded.page
        page.set_default_timeout(TIMEOUT_MS)
        await page.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": sealer.seal(editor_session()), "url": web}]
        )

        await page.goto(f"{web}/console/programme?lang=en")
        row = page.locator(f"#session-{SESSION}")
        assert (await row.locator(".when").inner_text()).startswith("16:30–17:30")
        await row.get_by_role("link").click()
        await page.wait_for_url(f"{web}/console/programme/sessions/{SESSION}")

        await page.get_by_label("Starts").fill("17:00")
        await page.get_by_label("Ends").fill("18:00")
        await page.get_by_role("button", name="Save").click()
        await page.wait_for_url(f"{web}/console/programme?done=saved*")
        await page.get_by_text(f"Session {SESSION} saved.").wait_for()
        assert (await row.locator(".when").inner_text()).startswith("17:00–18:00")

        async with httpx.AsyncClient(base_url=scheduling.url, timeout=10) as http:

            async def published_time() -> str:
                agenda = (await http.get("/agenda.json")).json()
                items = [i for day in agenda["days"] for i in day["items"]]
                found = next(i for i in items if i["code"] == SESSION)
                return f"{agenda['release']} {found['starts_at'][11:16]}"

            assert await published_time() == "1 16:30"  # only the draft moved

            await page.get_by_label("Note for this release (optional)").fill("Closing later")
            await page.get_by_role("button", name="Publish a release").click()
            await page.get_by_role("heading", name="Release 2 published").wait_for()
            assert SESSION in await page.locator("main").inner_text()

            assert await published_time() == "2 17:00"

        assert_clean(recorded)

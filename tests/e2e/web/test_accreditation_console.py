"""End to end through a real browser: a registrar signs in to the console, finds a pending media
accreditation in the queue, approves it and downloads the badge PDF.

Registration runs as a real process (the real broker and database); the registrar's account is
made with the operators' command, `foro users add`; the web app runs in process with uvicorn on a
free port and is driven by Debian's Chromium (tests/support/browser.py) with every request off
this machine refused.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from pypdf import PdfReader

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from shared.messaging.topology import Topology
from tests.e2e.web.stack import (
    PHONE,
    TIMEOUT_MS,
    add_account,
    assert_clean,
    registration_process,
    sign_in_on_the_page,
    signed_in_headers,
)
from tests.support.browser import PageOpener, serve_app
from tests.support.bus import eventually, publish_json
from tests.support.factories import signup
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(loop_scope="session")
async def registration(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with registration_process(
        namespace,
        mongo_url,
        amqp_url,
        tmp_path,
        REGISTRATION_BADGE_SECRET="a-badge-secret-for-the-web-e2e-test-0123456789",
    ) as process:
        yield process


async def pending(registration: ServiceProcess, username: str, email: str) -> str:
    """Wait until registration holds the sign-up as pending approval; its participant id."""
    async with httpx.AsyncClient(base_url=registration.url, timeout=10) as http:
        headers = await signed_in_headers(http, username)
        found: list[str] = []

        async def stored() -> bool:
            page = await http.get(
                "/participants",
                params={"status": "pending_approval", "category": "media"},
                headers=headers,
            )
            found.extend(p["participant_id"] for p in page.json()["items"] if p["email"] == email)
            return bool(found)

        await eventually(stored, 30, "the media sign-up pending approval")
        return found[0]


async def test_a_registrar_approves_a_pending_media_accreditation_and_downloads_the_badge(
    registration: ServiceProcess,
    namespace: str,
    mongo_url: str,
    amqp: aio_pika.abc.AbstractRobustConnection,
    open_page: PageOpener,
) -> None:
    username = f"registrar-{uuid.uuid4().hex[:6]}"
    await add_account(username, "registrar", mongo_url, namespace)
    body = signup(
        category="media",
        given_name="Lucía",
        family_name="Periodista",
        organisation="Diario de Hoy",
        email=f"lucia.{uuid.uuid4().hex[:8]}@example.org",
    )
    await publish_json(
        amqp,
        Topology(namespace).intake.name,
        "registration.submitted",
        json.dumps(body).encode(),
    )
    participant_id = await pending(registration, username, body["email"])

    settings = WebSettings(
        registration_url=registration.url,
        cookie_secret=[SecretStr("the-web-e2e-cookie-secret-Zq8Xv2Lk9Tm4Rb7Nc1Hd")],
    )
    async with serve_app(create_app(settings)) as web:
        recorded = await open_page(viewport=PHONE)
        page = recorded.page
        page.set_default_timeout(TIMEOUT_MS)

        # Not signed in: the queue sends to the sign-in page, which comes back to the queue.
        await page.goto(f"{web}/console/accreditation?lang=en")
        await sign_in_on_the_page(page, username, f"{web}/console/accreditation*")

        row = page.locator(f"#row-{participant_id}")
        await row.get_by_role("link", name="Lucía Periodista").wait_for()
        assert "Diario de Hoy" in await row.inner_text()

        await row.get_by_role("button", name="Approve").click()  # htmx: the row is redrawn
        await row.get_by_text("Approved:").wait_for()
        await row.get_by_role("link", name="Open the participant").click()
        await page.wait_for_url(f"{web}/console/participants/{participant_id}")

        async def confirmed() -> bool:  # the seat is allocated right after the approval
            if (await page.locator("#status").inner_text()).strip() == "Confirmed":
                return True
            await page.reload()
            return False

        await eventually(confirmed, 30, "the participant confirmed")
        async with page.expect_download() as downloading:
            await page.get_by_role("link", name="Download the badge (PDF)").click()
        download = await downloading.value
        pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert pdf.startswith(b"%PDF")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "Periodista" in text, text

        assert_clean(recorded)

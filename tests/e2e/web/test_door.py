"""End to end through a real browser: door staff check people in at `/door` from badge QR images,
keep scanning while the network is down, and the queued scan is counted once when it returns.

Registration runs as a real process (the real broker and database); the door staff's account is
made with `foro users add NAME --role door_staff`. The first person's QR image is their real
badge (registration's `GET /participants/{id}/badge.png`), the second's a QR code of their badge
token drawn with segno; both go through the page's file input, decoded in the browser by the
vendored ZXing. The web app runs in process and Chromium at phone width.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import pytest_asyncio
import segno
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from shared.badges import sign_badge_token
from shared.messaging.topology import Topology
from tests.e2e.web.test_accreditation_console import PASSWORD, auth_env
from tests.integration.registration.conftest import process_env
from tests.support.browser import (  # noqa: F401  (the fixtures are found by their names)
    PageOpener,
    browser,
    chromium_path,
    open_page,
    serve_app,
)
from tests.support.bus import EventTap, eventually, publish_json
from tests.support.factories import FORUM_ID, signup
from tests.support.processes import FORO, ServiceProcess

pytestmark = pytest.mark.e2e

BADGE_SECRET = "a-badge-secret-for-the-door-e2e-test-0123456789"
TIMEOUT_MS = 20_000


@pytest_asyncio.fixture(loop_scope="session")
async def registration(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    env = process_env(
        namespace,
        mongo_url,
        amqp_url,
        REGISTRATION_BADGE_SECRET=BADGE_SECRET,
        **auth_env(mongo_url, namespace),
    )
    process = ServiceProcess("registration", env, tmp_path / "registration.log")
    try:
        await process.start().ready()
        yield process
    finally:
        process.stop()
        mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
        await mongo.drop_database(f"registration_{namespace}")
        await mongo.close()


async def add_account(username: str, role: str, mongo_url: str, namespace: str) -> None:
    """`foro users add NAME --role ROLE`, as an operator runs it."""
    command = await asyncio.create_subprocess_exec(
        FORO,
        "users",
        "add",
        username,
        "--role",
        role,
        "--password-stdin",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**auth_env(mongo_url, namespace), "FORO_ACTOR": "door-e2e", "PATH": "/usr/bin:/bin"},
    )
    output, _ = await asyncio.wait_for(command.communicate(f"{PASSWORD}\n".encode()), 60)
    assert command.returncode == 0, output.decode()


async def with_badge(participants: Any, email: str) -> dict[str, Any]:
    """The participant with `email` once registration has confirmed them and issued a badge."""
    found: list[dict[str, Any]] = []

    async def issued() -> bool:
        document = await participants.find_one({"email": email.lower()})
        if document and (document.get("badge") or {}).get("token_id"):
            found.append(document)
            return True
        return False

    await eventually(issued, 30, f"a badge for {email}")
    return found[0]


def qr_png(text: str) -> bytes:
    image = io.BytesIO()
    segno.make(text, error="m").save(image, kind="png", scale=8, border=4)
    return image.getvalue()


async def test_door_staff_check_in_from_badge_images_and_an_offline_scan_syncs_once(
    registration: ServiceProcess,
    namespace: str,
    mongo_url: str,
    amqp: aio_pika.abc.AbstractRobustConnection,
    open_page: PageOpener,  # noqa: F811
) -> None:
    door_staff, registrar = f"door-{uuid.uuid4().hex[:6]}", f"reg-{uuid.uuid4().hex[:6]}"
    await add_account(door_staff, "door_staff", mongo_url, namespace)
    await add_account(registrar, "registrar", mongo_url, namespace)
    topology = Topology(namespace)
    tap = await EventTap.open(amqp, topology, "attendee.checked_in")
    first = signup(given_name="Rigoberta", family_name="Menchú", organisation="Fundación Tierra")
    second = signup(given_name="Óscar", family_name="Romero")
    for body in (first, second):
        await publish_json(
            amqp, topology.intake.name, "registration.submitted", json.dumps(body).encode()
        )
    mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
    participants = mongo[f"registration_{namespace}"]["participants"]
    try:
        rigoberta = await with_badge(participants, first["email"])
        oscar = await with_badge(participants, second["email"])
        async with httpx.AsyncClient(base_url=registration.url, timeout=10) as http:
            signed_in = await http.post(
                "/auth/login", json={"username": registrar, "password": PASSWORD}
            )
            badge = await http.get(
                f"/participants/{rigoberta['_id']}/badge.png",
                headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
            )
            assert badge.status_code == 200, badge.text
        oscar_qr = qr_png(sign_badge_token(BADGE_SECRET, FORUM_ID, oscar["badge"]["token_id"]))

        settings = WebSettings(
            registration_url=registration.url,
            cookie_secret=[SecretStr("the-door-e2e-cookie-secret-Wq7Lp3Nx8Rv2Kt5Zm9Hc")],
        )
        async with serve_app(create_app(settings)) as web:
            recorded = await open_page(viewport={"width": 375, "height": 812})  # a phone
            page = recorded.page
            page.set_default_timeout(TIMEOUT_MS)

            await page.goto(f"{web}/door?lang=en")
            assert "/signin" in page.url
            await page.get_by_label("Username").fill(door_staff)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{web}/door*")
            await page.get_by_label("Check-in point").select_option("entrance")

            # Online: the real badge's PNG through the page's decode path.
            photo = page.get_by_label("Or a photo of the badge's QR code")
            await photo.set_input_files(
                {"name": "badge.png", "mimeType": "image/png", "buffer": badge.content}
            )
            result = page.locator("#result")
            await result.locator("#result-name").get_by_text("Rigoberta Menchú").wait_for()
            assert "First check-in today" in await result.inner_text()
            assert await result.get_attribute("data-outcome") == "checked_in"
            assert "Fundación Tierra" in await result.inner_text()

            # Offline: the scan waits in the browser.
            await page.context.set_offline(True)
            await photo.set_input_files(
                {"name": "qr.png", "mimeType": "image/png", "buffer": oscar_qr}
            )
            await page.get_by_text("Pending: 1").wait_for()
            assert await result.get_attribute("data-outcome") == "pending"
            stored = await participants.find_one({"_id": oscar["_id"]})
            assert not stored.get("checkins"), "nothing reaches registration while offline"

            # The same scan held twice (another tab kept a copy): it must still count once.
            await page.evaluate(
                """() => {
                  const queue = JSON.parse(localStorage.getItem("foro.door.queue"));
                  queue.push(Object.assign({}, queue[0]));
                  localStorage.setItem("foro.door.queue", JSON.stringify(queue));
                }"""
            )
            await page.context.set_offline(False)
            await page.evaluate(
                "() => { window.dispatchEvent(new Event('online'));"
                " window.dispatchEvent(new Event('online')); }"
            )
            await page.get_by_role("button", name="Send now").click()
            await page.get_by_text("Pending: 0").wait_for()
            synced = page.locator("#synced li")
            await synced.filter(has_text="Óscar Romero").first.wait_for()
            assert all(
                "Óscar Romero · First check-in today" in line
                for line in await synced.all_inner_texts()
            ), await synced.all_inner_texts()

            async def published() -> bool:
                document = await participants.find_one({"_id": oscar["_id"]})
                return not document.get("outbox_pending")

            await eventually(published, 30, "the check-in's event published")
            stored = await participants.find_one({"_id": oscar["_id"]})
            assert len(stored["checkins"]) == 1, stored["checkins"]
            assert stored["checkins"][0]["point"] == "entrance"
            assert stored["checkins"][0]["scan_id"]
            await tap.wait_for("attendee.checked_in", 2)
            await tap.drain()
            checked_in = sorted(e["participant_id"] for e in tap.of_type("attendee.checked_in"))
            assert checked_in == sorted([rigoberta["_id"], oscar["_id"]])

            # The page in Spanish (tests/unit/test_web_pages.py checks the catalog is complete).
            await page.goto(f"{web}/door?lang=es")
            await page.get_by_label("Punto de control").wait_for()
            assert recorded.left_loopback == [], recorded.report()
            assert recorded.page_errors == [], recorded.report()
            assert recorded.console_errors == [], recorded.report()
    finally:
        await tap.channel.close()
        await mongo.close()

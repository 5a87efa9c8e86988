"""End to end through a real browser: door staff check people in at `/door` from badge QR images,
keep scanning while the network is down, and the queued scan is counted once when it returns.

Registration runs as a real process (the real broker and database); the door staff's account is
made with `foro users add NAME --role door_staff`. The first person's QR image is their real
badge (registration's `GET /participants/{id}/badge.png`), the second's a QR code of their badge
token drawn with segno; both go through the page's file input, decoded in the browser by the
vendored ZXing. The web app runs in process and Chromium at phone width.
"""

from __future__ import annotations

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
from tests.support.bus import EventTap, eventually, publish_json
from tests.support.factories import FORUM_ID, signup
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

BADGE_SECRET = "a-badge-secret-for-the-door-e2e-test-0123456789"


@pytest_asyncio.fixture(loop_scope="session")
async def registration(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with registration_process(
        namespace, mongo_url, amqp_url, tmp_path, REGISTRATION_BADGE_SECRET=BADGE_SECRET
    ) as process:
        yield process


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
    open_page: PageOpener,
) -> None:
    door_staff, registrar = f"door-{uuid.uuid4().hex[:6]}", f"reg-{uuid.uuid4().hex[:6]}"
    await add_account(door_staff, "door_staff", mongo_url, namespace, actor="door-e2e")
    await add_account(registrar, "registrar", mongo_url, namespace, actor="door-e2e")
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
            badge = await http.get(
                f"/participants/{rigoberta['_id']}/badge.png",
                headers=await signed_in_headers(http, registrar),
            )
            assert badge.status_code == 200, badge.text
        oscar_qr = qr_png(sign_badge_token(BADGE_SECRET, FORUM_ID, oscar["badge"]["token_id"]))

        settings = WebSettings(
            registration_url=registration.url,
            cookie_secret=[SecretStr("the-door-e2e-cookie-secret-Wq7Lp3Nx8Rv2Kt5Zm9Hc")],
        )
        async with serve_app(create_app(settings)) as web:
            recorded = await open_page(viewport=PHONE)
            page = recorded.page
            page.set_default_timeout(TIMEOUT_MS)

            await page.goto(f"{web}/door?lang=en")
            await sign_in_on_the_page(page, door_staff, f"{web}/door*")
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
            assert stored is not None
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
                return document is not None and not document.get("outbox_pending")

            await eventually(published, 30, "the check-in's event published")
            stored = await participants.find_one({"_id": oscar["_id"]})
            assert stored is not None
            assert len(stored["checkins"]) == 1, stored["checkins"]
            assert stored["checkins"][0]["point"] == "entrance"
            assert stored["checkins"][0]["scan_id"]
            await tap.wait_for("attendee.checked_in", 2)
            await tap.drain()
            checked_in = sorted(e["participant_id"] for e in tap.of_type("attendee.checked_in"))
            assert checked_in == sorted([rigoberta["_id"], oscar["_id"]])

            # A typed code that is no badge: refused, and why.
            await page.get_by_label("Or type the badge's code").fill("not-a-badge.at-all")
            await page.get_by_role("button", name="Check in").click()
            await result.get_by_text("Refused").wait_for()
            assert await result.get_attribute("data-outcome") == "refused"
            assert "badge" in (await result.locator("#result-detail").inner_text()).lower()

            # The page in Spanish (tests/unit/test_web_pages.py checks the catalog is complete).
            await page.goto(f"{web}/door?lang=es")
            await page.get_by_label("Punto de control").wait_for()
            assert_clean(recorded)
    finally:
        await tap.channel.close()
        await mongo.close()


# --- POST /door/scans against a fake registration: what the page is answered -----------------

DOOR_COOKIE_SECRET = SecretStr("Yv3qT9xKp2LmN8rB4wZc7HjD1fGs6AeQ0uVtRyXo")


def fake_registration(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/auth/login":
        expires = "2999-01-01T00:00:00+00:00"
        body = {"access_token": "door-jwt", "expires_at": expires, "roles": ["door_staff"]}
        return httpx.Response(200, json=body)
    if request.headers.get("authorization") != "Bearer door-jwt":
        return httpx.Response(401, json={"detail": {"code": "token_expired"}})
    if request.url.path == "/checkins/points":
        return httpx.Response(200, json=["entrance", "expo", "plenary"])
    if request.url.path == "/checkins":
        body = json.loads(request.content)
        if body["token"] == "refused-token-xyz":
            detail = {
                "field": "token",
                "code": "revoked_token",
                "message_es": "Esta credencial fue revocada.",
                "message_en": "This badge has been revoked.",
            }
            return httpx.Response(403, json={"detail": detail})
        answer = {
            "checked_in": True,
            "first_today": body.get("scan_id") is None,
            "replayed": False,
            "checkin_id": str(uuid.uuid4()),
            "point": body["point"],
            "day": "2004-11-18",
            "participant_id": str(uuid.uuid4()),
            "given_name": "Rigoberta",
            "family_name": "Menchú",
            "organisation": None,
            "delegation": {"code": "SV", "name": "El Salvador"},
            "category": "civil_society",
            "badge_colour": "#6A1B9A",
            "scanned_at": "2004-11-18T15:00:00Z",
        }
        return httpx.Response(201 if answer["first_today"] else 200, json=answer)
    return httpx.Response(404, json={"detail": "not found"})


@pytest_asyncio.fixture(loop_scope="session")
async def door_web() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        WebSettings(cookie_secret=[DOOR_COOKIE_SECRET]),
        transport=httpx.MockTransport(fake_registration),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as web,
    ):
        form = await web.get("/signin")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = await web.post(
            "/signin",
            data={"username": "door", "password": "pw", "csrf_token": csrf, "next": "/door"},
        )
        assert signed_in.status_code == 303
        yield web


async def test_scans_are_answered_as_the_door_shows_them(door_web: httpx.AsyncClient) -> None:
    page = await door_web.get("/door?lang=es")
    assert page.status_code == 200 and "Punto de control" in page.text
    assert '<option value="plenary"' in page.text and "Salón plenario" in page.text
    csrf = door_web.cookies["foro_csrf"]
    headers = {"X-CSRF-Token": csrf}

    def scan(token: str, **extra: object) -> Any:
        body = {"token": token, "point": "entrance", **extra}
        return door_web.post("/door/scans?lang=en", json=body, headers=headers)

    first = await scan("a-good-badge-token")
    assert first.status_code == 200
    assert first.json() | {"server_time": None} == first.json() | {
        "outcome": "checked_in",
        "headline": "First check-in today",
        "name": "Rigoberta Menchú",
        "category": "Civil society and think tanks",
        "badge_colour": "#6A1B9A",
        "delegation": "El Salvador",
        "server_time": None,
    }
    queued = await scan(
        "a-good-badge-token", scan_id=str(uuid.uuid4()), scanned_at="2004-11-18T15:00:00Z"
    )
    assert (queued.json()["outcome"], queued.json()["headline"]) == (
        "already",
        "Already checked in today",
    )
    refused = await scan("refused-token-xyz")
    assert refused.status_code == 200  # an answer: the browser does not send it again
    assert refused.json()["outcome"] == "refused"
    assert refused.json()["detail"] == "This badge has been revoked."
    assert refused.json()["code"] == "revoked_token"

    no_csrf = await door_web.post(
        "/door/scans", json={"token": "a-good-badge-token", "point": "entrance"}
    )
    assert no_csrf.status_code == 403 and no_csrf.json()["outcome"] == "expired"
    bad_point = await scan("a-good-badge-token", point="Not A Point")
    assert bad_point.status_code == 422 and bad_point.json()["field"] == "point"

    # Without JavaScript: the typed code posts as a form and the page shows the answer.
    plain = await door_web.post(
        "/door/scans?lang=es",
        data={"token": "refused-token-xyz", "point": "expo", "csrf_token": csrf},
    )
    assert plain.status_code == 200
    assert 'data-outcome="refused"' in plain.text
    assert "Esta credencial fue revocada." in plain.text and "Rechazado" in plain.text
    plain = await door_web.post(
        "/door/scans?lang=es",
        data={"token": "a-good-badge-token", "point": "expo", "csrf_token": csrf},
    )
    assert plain.status_code == 200 and "Primera entrada de hoy" in plain.text
    assert 'fill="#6A1B9A"' in plain.text and "El Salvador" in plain.text

    worker = await door_web.get("/door-sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")


async def test_without_a_sign_in_the_door_asks_for_one(door_web: httpx.AsyncClient) -> None:
    door_web.cookies.delete("foro_session")
    page = await door_web.get("/door")
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    scan = await door_web.post(
        "/door/scans",
        json={"token": "a-good-badge-token", "point": "entrance"},
        headers={"X-CSRF-Token": door_web.cookies["foro_csrf"]},
    )
    assert scan.status_code == 401 and scan.json()["outcome"] == "sign_in"

"""End to end through a real browser: a visitor signs up through the public form and receives the
confirmation e-mail.

Registration and notification run as real processes (the real broker and database); the SMTP
server is the local sink (`services.notification.sink`, aiosmtpd) that keeps each message as an
.eml file. The web app runs in process with uvicorn on a free port, signing registration's intake
webhook with one of its secrets, and Debian's Chromium fills the form at phone width in Spanish,
with every request off this machine refused.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from services.notification.sink import SmtpSink
from services.web.bootstrap import create_app
from services.web.settings import WebSettings
from tests.e2e.web.stack import PHONE, TIMEOUT_MS
from tests.integration.registration.conftest import process_env, today_at_venue
from tests.support.browser import PageOpener, serve_app
from tests.support.bus import eventually
from tests.support.processes import ServiceProcess
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "the-intake-webhook-secret-of-the-web-e2e-Rk4Tq9Zx"
LINK_SECRET = "the-link-secret-of-the-web-e2e-test-Wm2Hc8Lp5Nv1"


@dataclass
class Stack:
    registration: ServiceProcess
    notification: ServiceProcess
    sink: SmtpSink


@pytest_asyncio.fixture(loop_scope="session")
async def stack(
    namespace: str, mongo_url: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    sink = SmtpSink(tmp_path / "mail", port=free_port()).start()
    registration = ServiceProcess(
        "registration",
        process_env(
            namespace,
            mongo_url,
            amqp_url,
            REGISTRATION_WEBHOOK_SECRETS=json.dumps([WEBHOOK_SECRET]),
            REGISTRATION_BADGE_SECRET="a-badge-secret-for-the-public-web-e2e-0123456789",
            FORO_PARTICIPANT_TOKEN_SECRET=LINK_SECRET,
        ),
        tmp_path / "registration.log",
    )
    notification = ServiceProcess(
        "notification",
        {
            "FORO_NAMESPACE": namespace,
            "FORO_MONGO_URL": mongo_url,
            "FORO_BROKER_URL": amqp_url,
            "FORO_FORUM_START_DATE": today_at_venue().isoformat(),
            "FORO_PARTICIPANT_TOKEN_SECRET": LINK_SECRET,
            "NOTIFICATION_DATABASE": f"notification_{namespace}",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(sink.port),
            "NOTIFICATION_SWEEP_SECONDS": "1",
        },
        tmp_path / "notification.log",
    )
    try:
        registration.start()
        notification.start()
        await registration.ready()
        await notification.ready()
        yield Stack(registration, notification, sink)
    finally:
        registration.stop()
        notification.stop()
        sink.stop()
        mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
        for database in (f"registration_{namespace}", f"notification_{namespace}"):
            await mongo.drop_database(database)
        await mongo.close()


def mail_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    found = []
    for path in sink.files():
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        if address in str(message["To"]):
            found.append(message)
    return found


async def test_a_visitor_signs_up_through_the_public_form_and_receives_the_confirmation(
    stack: Stack,
    open_page: PageOpener,
) -> None:
    email = f"rosa.{uuid.uuid4().hex[:8]}@example.org"
    settings = WebSettings(
        registration_url=stack.registration.url,
        cookie_secret=[SecretStr("the-web-e2e-cookie-secret-Zq8Xv2Lk9Tm4Rb7Nc1Hd")],
        webhook_secret=SecretStr(WEBHOOK_SECRET),
        signup_min_seconds=0,  # the gate itself is tested in tests/unit/test_web_public.py
        forum_start_date=today_at_venue().isoformat(),
    )
    async with serve_app(create_app(settings)) as web:
        recorded = await open_page(viewport=PHONE)
        page = recorded.page
        page.set_default_timeout(TIMEOUT_MS)

        await page.goto(f"{web}/?lang=es")
        await page.get_by_role("link", name="Inscripción").first.click()
        await page.wait_for_url(f"{web}/signup")
        # A mistake first: the page says so beside the field, in Spanish, keeping what was typed.
        await page.get_by_label("Nombre(s)").fill("Rosa")
        await page.get_by_label("Apellidos").fill("Martínez")
        await page.get_by_label("Correo electrónico").fill("rosa-at-example")
        await page.get_by_label("País que representa").select_option("GT")
        await page.get_by_label("Empresa", exact=True).check()
        await page.get_by_role("button", name="Enviar mi inscripción").click()
        error = page.locator("#email-error")
        await error.wait_for()
        assert "correo electrónico válida" in await error.inner_text()
        assert await page.get_by_label("Nombre(s)").input_value() == "Rosa"

        await page.get_by_label("Correo electrónico").fill(email)
        await page.get_by_label("Organización que representa").fill("Remesas Rápidas S.A.")
        await page.get_by_label("He leído el aviso de privacidad").check()
        await page.get_by_label("Los expositores que escaneen mi gafete").check()
        await page.get_by_role("button", name="Enviar mi inscripción").click()
        await page.wait_for_url(f"{web}/signup/received")
        await page.get_by_role("heading", name="Qué sucede ahora").wait_for()

        confirmations: list[EmailMessage] = []

        async def confirmation_arrived() -> bool:
            # The badge's e-mail may come first: the confirmation is the one that counts here.
            confirmations[:] = [
                message
                for message in await asyncio.to_thread(mail_to, stack.sink, email)
                if str(message["Subject"]).startswith("Inscripción confirmada")
            ]
            return bool(confirmations)

        await eventually(confirmation_arrived, 60, f"the confirmation e-mail to {email}")
        [message] = confirmations
        body = message.get_body(("plain",))
        assert body is not None and "Rosa" in body.get_content()

        assert recorded.left_loopback == [], recorded.report()
        assert recorded.page_errors == [], recorded.report()
        # The one refused sending answered 422 on purpose (the browser logs that status).
        unexpected = [e for e in recorded.console_errors if "status of 422" not in e]
        assert unexpected == [], recorded.report()

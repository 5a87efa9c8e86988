"""The public pages against fake services: the sign-up form (a form vendor posting signed events
to registration's intake webhook) with its gates — CSRF, the rate limit, the honeypot and the
minimum fill time — and its field errors in the page's language; the expo floor plan and its
booth list.

The real stack behind them (registration, notification and an SMTP sink; expo; scheduling) is in
tests/e2e/web/test_public_pages.py.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from html import unescape as html_unescape
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.web.pages.public import AddressLimiter, new_form_token, webhook_problems
from services.web.settings import WebSettings
from shared.contracts.registration import RegistrationSubmitted
from shared.pack import load_pack
from shared.secrets_policy import InsecureSettingsError
from shared.webhooks import verify_standard
from tests.support.web_console import COOKIE_SECRET, web_app

WEBHOOK_SECRET = "the-public-form-webhook-secret-Hq7Zt2Wm9Kc4"
BOOTHS = [
    {"code": "G01", "zone": "government", "size_m2": "9", "exhibitor_name": "Gobierno de Belice"},
    {"code": "G02", "zone": "government", "size_m2": "9", "exhibitor_name": None},
    {"code": "I01", "zone": "international", "size_m2": "18", "exhibitor_name": "<OIM>"},
]
OPEN_FORUM = (date.today() + timedelta(days=30)).isoformat()  # sign-ups open until it ends
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" role="img"><title>Expo</title></svg>'


class FakeServices:
    """Registration's intake webhook (checks the signature and the contract, as registration
    does) and expo's public floor plan and booths."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer: tuple[int, Any] | None = None  # what the webhook answers instead

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/intake/registrations":
            assert request.headers["content-type"] == "application/json"
            # Signed as a form vendor signs: Standard Webhooks.
            verify_standard([SecretStr(WEBHOOK_SECRET)], request.headers, request.content)
            if self.answer is not None:
                status, detail = self.answer
                return httpx.Response(status, json={"detail": detail})
            event = RegistrationSubmitted.model_validate_json(request.content)
            self.events.append(json.loads(request.content))
            return httpx.Response(202, json={"accepted": True, "event_id": str(event.event_id)})
        if path == "/booths":
            return httpx.Response(200, json=BOOTHS)
        if path == "/floor-plan.svg":
            return httpx.Response(200, content=SVG, headers={"content-type": "image/svg+xml"})
        return httpx.Response(404, json={"detail": "not found"})


Web = Callable[..., Any]


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def web(services: FakeServices) -> Web:
    """`async with web(**settings) as client`: the app with these settings over the fakes."""

    @asynccontextmanager
    async def started(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        values: dict[str, Any] = {
            "cookie_secret": [COOKIE_SECRET],
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "signup_min_seconds": 0,
            "forum_start_date": OPEN_FORUM,
            **overrides,
        }
        async with web_app(services, WebSettings(**values)) as client:
            yield client

    return started


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field in the page"
    return found.group(1)


def answers(page: str, **changes: str | None) -> dict[str, str]:
    """A complete sign-up as a person fills it in, from the drawn form's hidden fields."""
    data: dict[str, str | None] = {
        "csrf_token": hidden(page, "csrf_token"),
        "form_token": hidden(page, "form_token"),
        "website": "",
        "given_name": "Ana",
        "family_name": "López",
        "email": "Ana.Lopez@example.org",
        "phone": "+503 7000 1234",
        "organisation": "Cámara de Comercio",
        "job_title": "Directora",
        "country": "SV",
        "category": "business_association",
        "language": "es",
        "privacy_policy": "yes",
        "listed_publicly": "yes",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_form_shows_the_packs_choices_and_privacy_notice_in_both_languages(
    web: Web, lang: str
) -> None:
    async with web() as client:
        page = await client.get(f"/signup?lang={lang}")  # strict: a missing translation fails
        assert page.status_code == 200
        html = page.text
        assert f'<html lang="{lang}">' in html
        assert 'value="business_association"' in html and 'value="media"' in html
        # Official delegates are nominated by their country's focal point, not by this form.
        assert 'value="official_delegate"' not in html
        assert 'value="SV"' in html and 'value="PE"' in html
        assert ("Aviso de privacidad" if lang == "es" else "Privacy notice") in html
        # The pack's own notice, in the page's language (one source for every form).
        notice = load_pack().forum.privacy_notice
        assert notice and all(p.get(lang) in html_unescape(html) for p in notice)
        assert 'name="privacy_policy"' in html and 'name="share_with_exhibitors"' in html
        assert 'class="hp" aria-hidden="true"' in html  # the honeypot, hidden from people
        assert 'href="/static/public.css' in html
        received = await client.get("/signup/received")
        assert ("Qué sucede ahora" if lang == "es" else "What happens next") in received.text


async def test_a_sign_up_is_posted_signed_to_the_intake_webhook_as_a_form_vendor(
    web: Web, services: FakeServices
) -> None:
    async with web() as client:
        form = (await client.get("/signup")).text
        sent = await client.post("/signup", data=answers(form))
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == "/signup/received"
    [event] = services.events
    assert event["event_type"] == "registration.submitted"
    assert event["producer"] == "foro-web"
    assert event["forum_id"] == load_pack().forum.id
    assert event["submission_id"].startswith("web-")
    assert event["phone"] == "+50370001234"
    assert event["consents"] == {
        "privacy_policy": True,
        "listed_publicly": True,
        "photos": False,
        "share_with_exhibitors": False,
    }


async def test_the_same_form_sent_twice_is_one_sign_up(web: Web, services: FakeServices) -> None:
    async with web() as client:
        form = (await client.get("/signup")).text
        data = answers(form)
        await client.post("/signup", data=data)
        await client.post("/signup", data=data)  # a double click
        await client.post("/signup", data={**data, "organisation": "Cámara de Industria"})
    first, again, corrected = services.events
    assert first["event_id"] == again["event_id"]  # registration keeps one, drops the copy
    assert first["submission_id"] == again["submission_id"] == corrected["submission_id"]
    assert corrected["event_id"] != first["event_id"]  # a correction updates the same sign-up


async def test_a_filled_honeypot_gets_the_same_page_and_nothing_is_sent(
    web: Web, services: FakeServices
) -> None:
    async with web() as client:
        form = (await client.get("/signup")).text
        sent = await client.post("/signup", data=answers(form, website="http://spam.example"))
    assert sent.status_code == 303 and sent.headers["location"] == "/signup/received"
    assert services.events == []


async def test_a_form_sent_faster_than_a_person_fills_it_is_dropped_quietly(
    web: Web, services: FakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web(signup_min_seconds=3) as client:
        form = (await client.get("/signup")).text
        sent = await client.post("/signup", data=answers(form))
        assert sent.status_code == 303 and sent.headers["location"] == "/signup/received"
        assert services.events == []
        # The same form drawn four seconds ago goes through.
        settings = WebSettings(cookie_secret=[COOKIE_SECRET])
        with monkeypatch.context() as earlier:
            now = time.time()
            earlier.setattr(time, "time", lambda: now - 4)
            older = new_form_token(settings)
        sent = await client.post("/signup", data=answers(form, form_token=older))
        assert sent.status_code == 303
    assert len(services.events) == 1


async def test_a_forged_or_expired_form_token_draws_the_form_again(
    web: Web, services: FakeServices
) -> None:
    async with web() as client:
        form = (await client.get("/signup?lang=es")).text
        refused = await client.post("/signup", data=answers(form, form_token="forged.token"))
    assert refused.status_code == 400
    assert "El formulario había caducado" in refused.text
    assert 'value="López"' in refused.text  # what the person typed is kept
    assert services.events == []


async def test_a_form_without_its_csrf_token_is_refused(web: Web, services: FakeServices) -> None:
    async with web() as client:
        form = (await client.get("/signup?lang=en")).text
        refused = await client.post("/signup", data=answers(form, csrf_token=None))
        assert refused.status_code == 400
        assert "The form had expired" in refused.text
        # Drawn again with the browser's own token: sending it now works.
        sent = await client.post("/signup", data=answers(refused.text))
        assert sent.status_code == 303
    assert len(services.events) == 1


async def test_too_many_sign_ups_from_one_address_get_429_in_the_pages_language(
    web: Web, services: FakeServices
) -> None:
    async with web(signup_rate_limit=2) as client:
        form = (await client.get("/signup?lang=es")).text
        for _ in range(2):
            assert (await client.post("/signup", data=answers(form))).status_code == 303
        limited = await client.post("/signup", data=answers(form))
        assert limited.status_code == 429
        assert "Demasiados intentos" in limited.text
        await client.get("/signup?lang=en")
        limited = await client.post("/signup", data=answers(form))
        assert limited.status_code == 429 and "Too many attempts" in limited.text
    assert len(services.events) == 2


def test_the_bucket_refills_over_its_window_and_keys_by_address() -> None:
    limiter = AddressLimiter(rate=2, per_seconds=60)
    assert limiter.allow("10.0.0.1", now=0) and limiter.allow("10.0.0.1", now=1)
    assert not limiter.allow("10.0.0.1", now=2)
    assert limiter.allow("10.0.0.2", now=2)  # another address has its own bucket
    assert limiter.allow("10.0.0.1", now=40)  # 30 s refills one
    small = AddressLimiter(rate=1, per_seconds=60, max_addresses=2)
    for address in ("a", "b", "c"):
        small.allow(address, now=0)
    assert small.allow("a", now=0)  # forgotten (the oldest), so a full bucket again


async def test_field_errors_are_shown_beside_their_fields_in_spanish(
    web: Web, services: FakeServices
) -> None:
    async with web() as client:
        form = (await client.get("/signup?lang=es")).text
        refused = await client.post(
            "/signup",
            data=answers(
                form, email="ana-at-example", privacy_policy=None, given_name="  ", phone="7000"
            ),
        )
    assert refused.status_code == 422
    html = refused.text
    assert "Corrija lo siguiente" in html
    assert "Escriba una dirección de correo electrónico válida, como ana@example.org." in html
    assert "Debe aceptar el aviso de privacidad para inscribirse." in html
    assert "Escriba su nombre (hasta 100 caracteres)." in html
    assert "Escriba un número de móvil con su código de país" in html
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert 'value="ana-at-example"' in html  # kept, to be corrected
    assert services.events == []


async def test_the_webhooks_422_is_mapped_to_the_fields(web: Web, services: FakeServices) -> None:
    async with web() as client:
        form = (await client.get("/signup?lang=es")).text
        services.answer = (422, "email: value is not a valid e-mail address; forum_id: unknown")
        refused = await client.post("/signup", data=answers(form))
        assert refused.status_code == 422
        assert "Escriba una dirección de correo electrónico válida" in refused.text
        assert "No se pudo enviar su inscripción: unknown" in refused.text
        services.answer = (
            422,
            [
                {
                    "field": "category",
                    "code": "unknown_category",
                    "message_es": "La categoría no existe.",
                    "message_en": "The category does not exist.",
                }
            ],
        )
        refused = await client.post("/signup", data=answers(form))
        assert "Elija cómo participa en el foro." in refused.text
        services.answer = (401, "signature does not match")  # the operator's problem
        broken = await client.post("/signup", data=answers(form))
        assert broken.status_code == 503
        assert "La inscripción no está disponible en este momento" in broken.text


def test_webhook_problems_read_every_shape_of_422() -> None:
    assert webhook_problems("email: bad; phone: worse") == [
        ("email", None, "bad"),
        ("phone", None, "worse"),
    ]
    assert webhook_problems([{"loc": ["body", "consents", "privacy_policy"], "msg": "x"}]) == [
        ("consents.privacy_policy", None, "x")
    ]


async def test_without_a_webhook_secret_the_form_says_sign_ups_are_elsewhere(
    web: Web, services: FakeServices
) -> None:
    async with web(webhook_secret=None) as client:
        page = await client.get("/signup?lang=en")
        assert "Sign-ups are not taken on this site." in page.text
        assert 'name="form_token"' not in page.text


async def test_closed_registration_shows_no_form(web: Web) -> None:
    async with web(forum_start_date="2004-05-10") as client:  # the bundled pack's own year
        page = await client.get("/signup?lang=es")
    assert page.status_code == 200
    assert "La inscripción se cerró el" in page.text and 'name="form_token"' not in page.text


def test_production_refuses_a_weak_webhook_secret_but_allows_none() -> None:
    strong = [COOKIE_SECRET]
    WebSettings(environment="production", cookie_secret=strong)
    WebSettings(environment="production", cookie_secret=strong, webhook_secret=WEBHOOK_SECRET)
    with pytest.raises(InsecureSettingsError, match="WEB_WEBHOOK_SECRET"):
        WebSettings(environment="production", cookie_secret=strong, webhook_secret="changeme")


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_expo_page_lists_every_booth_beside_the_plan(web: Web, lang: str) -> None:
    async with web() as client:
        page = await client.get(f"/expo?lang={lang}")
        assert page.status_code == 200
        html = page.text
        assert f'<img src="/expo/floor-plan.svg?lang={lang}" alt="' in html
        assert "Gobierno de Belice" in html and "&lt;OIM&gt;" in html
        assert ("Libre" if lang == "es" else "Free") in html
        assert ("Gobiernos de países CRM" if lang == "es" else "RCM governments") in html
        plan = await client.get(f"/expo/floor-plan.svg?lang={lang}")
        assert plan.status_code == 200 and plan.content == SVG
        assert plan.headers["content-type"].startswith("image/svg+xml")
        assert "script-src" not in plan.headers["content-security-policy"]

"""The console's reading routes: a template rendered with sample data (es/en, e-mail and SMS;
nothing sent), and a campaign's audience counted before it is sent — the same people the
campaign then reaches, the opted-out ones suppressed."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from services.web.bootstrap import create_app as create_web
from services.web.settings import WebSettings
from tests.integration.notification.conftest import API_TOKEN, RunningNotification
from tests.support.notification import confirmed, expanded_campaign, participant


async def test_templates_are_listed_and_previewed_in_both_languages_without_sending(
    notification: RunningNotification,
) -> None:
    async with notification.api() as api:
        listed = await api.get("/templates")
        assert listed.status_code == 200, listed.text
        by_type = {t["message_type"]: t for t in listed.json()}
        confirmed_type = by_type["registration_confirmed"]
        assert confirmed_type["languages"] == ["en", "es"]
        assert "registration.confirmed" in confirmed_type["triggers"]
        assert by_type["info_campaign"]["triggers"] == []  # sent by campaigns only

        spanish = (await api.get("/templates/registration_confirmed/preview?lang=es")).json()
        english = (await api.get("/templates/registration_confirmed/preview?lang=en")).json()
        assert spanish["language"] == "es" and english["language"] == "en"
        assert spanish["subject"].startswith("Inscripción confirmada")
        assert english["subject"].startswith("Registration confirmed")
        assert "Anne" in english["text"] and "Ana" in spanish["text"]  # the sample person
        assert english["html"].lstrip().lower().startswith("<!doctype html")
        assert english["sms"] is None

        sms = (
            await api.get("/templates/registration_confirmed/preview?lang=en&channel=sms")
        ).json()
        assert sms["channel"] == "sms" and sms["sms"] and sms["html"] is None
        none = (await api.get("/templates/badge_issued/preview?channel=sms")).json()
        assert none["sms"] is None and none["language"] == "es"  # the forum's language

        unknown = await api.get("/templates/no_such_type/preview")
        assert unknown.status_code == 404
        assert unknown.json()["detail"]["message_en"].startswith("message_type:")
        wrong = await api.get("/templates/registration_confirmed/preview?lang=fr")
        assert wrong.status_code == 422 and "lang" in wrong.text

    assert notification.app is not None
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=notification.app), base_url="http://notification"
    )
    async with anonymous:
        assert (await anonymous.get("/templates")).status_code == 401
        assert (await anonymous.get("/campaigns/audience")).status_code == 401
    assert notification.sink.messages() == []
    assert await notification.messages() == []


async def test_a_campaigns_audience_is_counted_before_sending_and_the_send_reaches_it(
    notification: RunningNotification,
) -> None:
    staying, leaving = participant(), participant(language="en")
    elsewhere = participant(country="GT")
    for person in (staying, leaving, elsewhere):
        await notification.publish(confirmed(person))
        await notification.wait_emails(person["email"])

    segment = "countries=SV&categories=civil_society"
    async with notification.api() as api:
        response = await api.put(
            f"/people/{leaving['participant_id']}/preferences", json={"opt_out_non_essential": True}
        )
        assert response.status_code == 200, response.text
        counted = await api.get(f"/campaigns/audience?{segment}")
        assert counted.status_code == 200, counted.text
        audience = counted.json()
        assert (audience["contacts"], audience["opted_out"], audience["reached"]) == (2, 1, 1)
        assert audience["segment"]["statuses"] == ["confirmed"]  # the campaign's default
        english = (await api.get(f"/campaigns/audience?{segment}&languages=en")).json()
        assert (english["contacts"], english["opted_out"]) == (1, 1)
        waitlisted = (await api.get(f"/campaigns/audience?{segment}&statuses=waitlisted")).json()
        assert waitlisted["contacts"] == 0

        refused = await api.get("/campaigns/audience?countries=sv")
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][:2] == ["query", "countries"]
        assert await notification.deps.repository.campaigns.count_documents({}) == 0  # counted only

        campaign_id = f"count-{uuid.uuid4().hex[:6]}"
        campaign = await expanded_campaign(
            api,
            campaign_id,
            {"countries": ["SV"], "categories": ["civil_society"]},
            {"es": "Horario", "en": "Hours"},
            {"es": "Abre a las 9:00.", "en": "Opens at 9:00."},
        )
        created = campaign["created"]
    assert created == {"queued": audience["reached"], "suppressed": audience["opted_out"]}


async def test_the_consoles_messages_pages_read_the_real_service(
    notification: RunningNotification,
) -> None:
    """The web console against this notification app (its answers as they really are), signed
    in with the secretariat's token; registration's sign-in is the only thing stood in for."""
    person = participant(language="en")
    await notification.publish(confirmed(person))
    await notification.wait_emails(person["email"])
    assert notification.app is not None
    real = httpx.ASGITransport(app=notification.app)

    class Stack(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/auth/login":
                expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
                return httpx.Response(
                    200, json={"access_token": API_TOKEN, "expires_at": expires, "roles": []}
                )
            if request.url.port == 8004:
                return await real.handle_async_request(request)
            return httpx.Response(503)

    web_app = create_web(
        WebSettings(cookie_secret=[SecretStr("Yv3qT9xKp2LmN8rB4wZc7HjD1fGs6AeQ0uVtRyXo")]),
        transport=Stack(),
    )
    async with (
        web_app.router.lifespan_context(web_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://web") as web,
    ):
        form = await web.get("/signin?lang=en")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        await web.post(
            "/signin", data={"username": "comms", "password": "x", "csrf_token": csrf.group(1)}
        )
        delivery = await web.get("/console/messages?status=sent")
        assert delivery.status_code == 200, delivery.text[:500]
        assert person["email"] in delivery.text and "registration_confirmed" in delivery.text
        preview = await web.get("/console/messages/templates/registration_confirmed?language=en")
        assert preview.status_code == 200 and "Registration confirmed" in preview.text
        html = await web.get(
            "/console/messages/templates/registration_confirmed/email.html?language=en"
        )
        assert html.text.lstrip().lower().startswith("<!doctype html")
        counted = await web.post(
            "/console/messages/campaigns",
            data={
                "step": "count",
                "countries": ["SV"],
                "subject_es": "Horario",
                "subject_en": "Hours",
                "body_es": "Abre a las 9:00.",
                "body_en": "Opens at 9:00.",
                "csrf_token": web.cookies["foro_csrf"],
            },
        )
        assert counted.status_code == 200, counted.text[:800]
        assert "Send to 1 person" in counted.text  # the count and its word agree

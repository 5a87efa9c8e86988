"""The console's messages pages and the dashboard's alerts, against fake services: every page in
Spanish and English with strict translations, resend, the template preview (its HTML shown under
a policy that runs nothing), a campaign counted before it is sent, and the alerts (dead letters
from the services' /metrics, budget lines over plan, failed messages)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.web.pages.console import dead_letters_in
from tests.support.web_console import FakeConsoleServices, assert_page, console, csrf

MID = str(uuid.uuid4())
MESSAGE: dict[str, Any] = {
    "_id": MID,  # as notification's MessageView serialises it (by alias)
    "message_type": "registration_confirmed",
    "channel": "email",
    "person_id": "p-1",
    "to": "ana@example.org",
    "language": "es",
    "essential": True,
    "status": "failed",
    "attempts": 6,
    "replays": 0,
    "last_error": "550 mailbox unavailable",
    "source_event_id": "e-1",
    "source_event_type": "registration.confirmed",
    "campaign_id": None,
    "created_at": "2026-11-10T12:00:00Z",
    "history": [],
}
PREVIEW = {
    "message_type": "registration_confirmed",
    "language": "es",
    "channel": "email",
    "subject": "Inscripción confirmada: Foro",
    "text": "Hola Ana,\n\nSu inscripción está confirmada.\n",
    "html": "<!doctype html><html><body><p style='color:red'>Hola Ana</p></body></html>",
    "sms": None,
}
AUDIENCE = {
    "segment": {
        "categories": ["media"],
        "countries": [],
        "languages": [],
        "statuses": ["confirmed"],
    },
    "contacts": 12,
    "opted_out": 2,
    "reached": 10,
}
METRICS = """# HELP foro_dead_letter_messages Messages waiting in a consumer queue's dead-letter queue
# TYPE foro_dead_letter_messages gauge
foro_dead_letter_messages{queue="foro.registration.intake"} 3.0
foro_dead_letter_messages{queue="foro.registration.events"} 0.0
# HELP foro_queue_consumers Consumers attached to a consumer queue
# TYPE foro_queue_consumers gauge
foro_queue_consumers{queue="foro.registration.intake"} 1.0
"""


def sms_or_email(request: httpx.Request) -> httpx.Response:
    params = dict(request.url.params)
    language = params.get("lang", "es")
    if params.get("channel") == "sms":
        sms = "Foro: inscripción confirmada." if language == "es" else "Forum: confirmed."
        return httpx.Response(
            200, json={**PREVIEW, "channel": "sms", "subject": None, "html": None, "sms": sms}
        )
    return httpx.Response(200, json={**PREVIEW, "language": language})


def fake_services() -> FakeConsoleServices:
    """The services as these pages need them (also behind the browser tests' whole site)."""
    fake = FakeConsoleServices()
    fake.on(
        "notification",
        "GET",
        "/messages",
        {"total": 1, "offset": 0, "limit": 50, "items": [MESSAGE]},
    )
    fake.on("notification", "GET", "/messages/summary", {"sent": 40, "failed": 2, "parked": 1})
    fake.on("notification", "POST", f"/messages/{MID}/replay", {**MESSAGE, "status": "queued"})
    fake.on(
        "notification",
        "GET",
        "/templates",
        [
            {
                "message_type": "registration_confirmed",
                "languages": ["en", "es"],
                "sms_languages": ["en", "es"],
                "triggers": ["registration.confirmed"],
            },
            {
                "message_type": "info_campaign",
                "languages": ["en", "es"],
                "sms_languages": [],
                "triggers": [],
            },
        ],
    )
    fake.on("notification", "GET", "/templates/registration_confirmed/preview", sms_or_email)
    fake.on("notification", "GET", "/campaigns/audience", AUDIENCE)
    fake.on(
        "notification",
        "POST",
        "/campaigns",
        httpx.Response(202, json={"accepted": True, "event_id": str(uuid.uuid4())}),
    )
    fake.on(
        "notification",
        "GET",
        "/campaigns/expo-hours",
        {
            "campaign_id": "expo-hours",
            "status": "expanded",
            "segment": AUDIENCE["segment"],
            "message_type": "info_campaign",
            "created": {"queued": 10, "suppressed": 2},
            "delivery": {"sent": 9, "failed": 1, "suppressed": 2},
        },
    )
    fake.on(
        "reporting",
        "GET",
        "/statistics",
        {
            "participants": {"registered": 3, "confirmed": 2, "by_status": {}, "check_in": {}},
            "notifications": {"sent": 40, "failed": 2},
            "expo": {"exhibitors": 0},
        },
    )
    fake.on(
        "reporting",
        "GET",
        "/budget",
        {
            "currency": "USD",
            "lines": [
                {
                    "line": "panelist_support",
                    "planned_cents": 100_000,
                    "executed_cents": 90_000,
                    "committed_cents": 30_000,
                    "consumed_cents": 120_000,
                    "percent": 120.0,
                    "alerted": [80, 100],
                },
                {
                    "line": "consultancies",
                    "planned_cents": 100_000,
                    "executed_cents": 0,
                    "committed_cents": 0,
                    "consumed_cents": 0,
                    "percent": 0.0,
                    "alerted": [],
                },
            ],
        },
    )
    fake.on("registration", "GET", "/metrics", httpx.Response(200, text=METRICS))
    return fake


@pytest.fixture
def services() -> FakeConsoleServices:
    return fake_services()


PAGES = [
    "/console/messages",
    "/console/messages?status=failed&channel=email",
    "/console/messages/templates",
    "/console/messages/templates/registration_confirmed",
    "/console/messages/templates/registration_confirmed?language=en",
    "/console/messages/campaigns/new",
    "/console/messages/campaigns/expo-hours",
    "/console/messages/campaigns/not-yet-taken-in",
    "/console",
]


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_every_messages_page_renders_in_both_languages(
    services: FakeConsoleServices, lang: str
) -> None:
    async with console(services, lang) as web:
        for path in PAGES:
            assert_page(await web.get(path), lang)
        delivery = await web.get("/console/messages?status=failed")
        assert "550 mailbox unavailable" in delivery.text
        assert f'action="/console/messages/{MID}/replay"' in delivery.text
        (listed,) = services.calls("notification", "GET", "/messages")[-1:]
        assert listed.params["status"] == ["failed"] and listed.params["limit"] == ["50"]
        english = await web.get("/console/messages/templates/registration_confirmed?language=en")
        assert "Forum: confirmed." in english.text
        preview = services.calls("notification", "GET", "/templates/registration_confirmed/preview")
        assert {"lang": ["en"]} in [call.params for call in preview]
        pending = await web.get("/console/messages/campaigns/not-yet-taken-in")
        assert "/console/messages/campaigns/not-yet-taken-in" in pending.text


async def test_the_email_preview_is_served_under_a_policy_that_runs_nothing(
    services: FakeConsoleServices,
) -> None:
    async with console(services, "en") as web:
        page = await web.get("/console/messages/templates/registration_confirmed?language=en")
        assert 'sandbox src="/console/messages/templates/registration_confirmed/email.html' in (
            page.text
        )
        html = await web.get(
            "/console/messages/templates/registration_confirmed/email.html?language=en"
        )
    assert html.status_code == 200 and "Hola Ana" in html.text
    policy = html.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy and "frame-ancestors 'self'" in policy


@pytest.mark.parametrize("lang, says", [("es", "En cola"), ("en", "Queued")])
async def test_a_failed_message_is_sent_again(
    services: FakeConsoleServices, lang: str, says: str
) -> None:
    async with console(services, lang) as web:
        await web.get("/console/messages")
        htmx = await web.post(
            f"/console/messages/{MID}/replay",
            data={"csrf_token": csrf(web)},
            headers={"HX-Request": "true"},
        )
        assert htmx.status_code == 200 and "<html" not in htmx.text and says in htmx.text
        plain = await web.post(f"/console/messages/{MID}/replay", data={"csrf_token": csrf(web)})
        assert plain.status_code == 303
        assert len(services.calls("notification", "POST", f"/messages/{MID}/replay")) == 2
        forged = await web.post(f"/console/messages/{MID}/replay", data={"csrf_token": "x"})
        assert forged.status_code == 409
        assert len(services.calls("notification", "POST", f"/messages/{MID}/replay")) == 2
        services.refuse(
            "notification",
            "POST",
            f"/messages/{MID}/replay",
            409,
            message_es="solo se reenvían mensajes fallidos",
            message_en="only failed messages can be replayed",
        )
        refused = await web.post(f"/console/messages/{MID}/replay", data={"csrf_token": csrf(web)})
    assert refused.status_code == 409
    assert ("solo se reenvían" if lang == "es" else "only failed messages") in refused.text


CAMPAIGN = {
    "categories": ["media"],
    "statuses": ["confirmed"],
    "channels": ["email"],
    "subject_es": "Horario",
    "subject_en": "Hours",
    "body_es": "Abre a las 9:00.",
    "body_en": "Opens at 9:00.",
}


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_a_campaign_is_counted_before_it_is_sent(
    services: FakeConsoleServices, lang: str
) -> None:
    async with console(services, lang) as web:
        await web.get("/console/messages/campaigns/new")
        counted = await web.post(
            "/console/messages/campaigns",
            data={**CAMPAIGN, "step": "count", "csrf_token": csrf(web)},
        )
        assert_page(counted, lang)
        assert ("Enviar a 10 personas" if lang == "es" else "Send to 10 people") in counted.text
        assert services.calls("notification", "POST", "/campaigns") == []  # nothing sent yet
        (audience,) = services.calls("notification", "GET", "/campaigns/audience")
        assert audience.params == {"categories": ["media"], "statuses": ["confirmed"]}
        kept = counted.text.split('name="campaign_id" value="')[1].split('"')[0]
        assert kept.startswith("campaign-")

        sent = await web.post(
            "/console/messages/campaigns",
            data={**CAMPAIGN, "step": "send", "campaign_id": kept, "csrf_token": csrf(web)},
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/console/messages/campaigns/{kept}"
        (request,) = services.calls("notification", "POST", "/campaigns")
        assert request.body == {
            "campaign_id": kept,
            "segment": {
                "categories": ["media"],
                "countries": [],
                "languages": [],
                "statuses": ["confirmed"],
            },
            "channels": ["email"],
            "subject": {"es": "Horario", "en": "Hours"},
            "body": {"es": "Abre a las 9:00.", "en": "Opens at 9:00."},
            "essential": False,
        }

        missing = await web.post(
            "/console/messages/campaigns",
            data={**CAMPAIGN, "body_en": " ", "step": "count", "csrf_token": csrf(web)},
        )
        assert_page(missing, lang, 422)
        assert ("Mensaje en inglés" if lang == "es" else "Message in English") in missing.text
        forged = await web.post(
            "/console/messages/campaigns", data={**CAMPAIGN, "step": "send", "csrf_token": "x"}
        )
        assert forged.status_code == 400
    assert len(services.calls("notification", "POST", "/campaigns")) == 1


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_dashboard_alerts_dead_letters_budget_over_plan_and_failed_messages(
    services: FakeConsoleServices, lang: str
) -> None:
    services.routes[("expo", "GET", "/metrics")] = httpx.Response(503, text="down")
    async with console(services, lang) as web:
        page = await web.get("/console")
    assert_page(page, lang)
    text = page.text
    assert "foro.registration.intake" in text and "foro.registration.events" not in text
    line = "Apoyo a invitación de panelistas" if lang == "es" else "Support for inviting panellists"
    assert line in text and ("120\xa0%" if lang == "es" else "120%") in text
    assert 'href="/console/messages?status=failed"' in text
    assert ("expo no respondió" if lang == "es" else "expo did not answer") in text
    metrics = [s for s in services.sent if s.path == "/metrics"]
    assert sorted(s.service for s in metrics) == [
        "expo",
        "notification",
        "registration",
        "reporting",
        "scheduling",
    ]


@pytest.mark.parametrize(
    ("failed", "lang", "said"),
    [
        (1, "es", "1 mensaje no pudo entregarse."),
        (2, "es", "2 mensajes no pudieron entregarse."),
        (1, "en", "1 message could not be delivered."),
        (1200, "en", "1,200 messages could not be delivered."),
    ],
)
async def test_the_dashboards_counts_agree_with_their_number(
    services: FakeConsoleServices, failed: int, lang: str, said: str
) -> None:
    services.on("notification", "GET", "/messages/summary", {"sent": 40, "failed": failed})
    async with console(services, lang) as web:
        page = await web.get("/console")
    assert_page(page, lang)
    assert said in page.text
    dead = "3 mensajes apartados" if lang == "es" else "3 messages set aside"
    assert dead in page.text


async def test_a_role_without_budget_or_messages_sees_no_such_alerts(
    services: FakeConsoleServices,
) -> None:
    services.refuse("reporting", "GET", "/budget", 403, permission="budget:read")
    services.refuse("notification", "GET", "/messages/summary", 403, permission="messages:read")
    services.routes.pop(("registration", "GET", "/metrics"))
    async with console(services, "en") as web:
        page = await web.get("/console")
    assert_page(page, "en")
    assert "Nothing needs attention." in page.text


def test_dead_letters_are_read_from_prometheus_text() -> None:
    assert dead_letters_in(METRICS) == {"foro.registration.intake": 3}
    assert dead_letters_in("") == {}

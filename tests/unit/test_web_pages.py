"""The web component's pages, drawn against fake services (httpx.MockTransport): every page in
Spanish and English with no string left untranslated, the catalog covering every source string,
the language choice, sign-in and its errors, a service's 401 and 403, the cookies' flags, and
production refusing a weak cookie secret.

The real services behind the pages are exercised in tests/e2e/web/ (a browser, real processes).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.web.i18n import (
    Np_,
    Translations,
    accepted,
    catalog_files,
    read_catalog,
    read_catalogs,
    read_plural_catalog,
    read_plural_catalogs,
    source_messages,
    source_plurals,
)
from services.web.settings import WebSettings
from shared.secrets_policy import InsecureSettingsError
from tests.support.web_console import COOKIE_SECRET, PASSWORD, csrf_of, sign_in_staff, web_app

PID = str(uuid.uuid4())
PARTICIPANT: dict[str, Any] = {
    "participant_id": PID,
    "forum_id": "crm-2004",
    "status": "pending_approval",
    "category": "media",
    "given_name": "Lucía",
    "family_name": "Prensa",
    "email": "lucia@example.org",
    "organisation": "Diario El Mundo",
    "country": "SV",
    "language": "es",
    "consents": {"privacy_policy": True},
    "rejection_reasons": [],
    "accreditation": None,
    "badge": None,
}
STATISTICS = {
    "forum_id": "crm-2004",
    "participants": {
        "registered": 3,
        "confirmed": 2,
        "by_status": {"confirmed": 2, "pending_approval": 1},
        "by_category": {"media": 1, "business_association": 1},
        "by_country": {"SV": 2},
        "check_in": {"checked_in": 0, "rate": 0.0, "by_day": {}},
    },
    "expo": {"exhibitors": 0},
    "notifications": {"sent": 2, "failed": 0},
}
AGENDA = {
    "forum_id": "crm-2004",
    "time_zone": "America/El_Salvador",
    "release": 2,
    "rooms": [{"code": "plenary", "name": {"es": "Plenaria", "en": "Plenary"}, "capacity": 300}],
    "days": [
        {
            "index": 0,
            "date": "2026-11-18",
            "title": {"es": "Día uno", "en": "Day one"},
            "expo_hours": {"opens_at": "09:00", "closes_at": "18:00"},
            "items": [
                {
                    "code": "opening",
                    "status": "scheduled",
                    "title": {"es": "Inauguración", "en": "Opening"},
                    "starts_at": "2026-11-18T09:00:00-06:00",
                    "ends_at": "2026-11-18T10:00:00-06:00",
                    "room": {"code": "plenary", "name": {"es": "Plenaria", "en": "Plenary"}},
                    "people": [{"name": "Ana Ruiz", "affiliation": "OIM"}],
                },
                {
                    "code": "panel-1",
                    "status": "cancelled",
                    "title": {"es": "Panel uno", "en": "Panel one"},
                    "starts_at": "2026-11-18T11:00:00-06:00",
                    "ends_at": "2026-11-18T12:00:00-06:00",
                    "room": None,
                    "people": [],
                },
            ],
        },
        {"index": 1, "date": "2026-11-19", "title": None, "expo_hours": None, "items": []},
    ],
}


class FakeServices:
    """What the pages ask of registration, scheduling and reporting; `refuse` maps a path to a
    status the service answers there instead."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.refuse: dict[str, int] = {}
        self.roles = ["registrar"]  # what the sign-in answers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append(
            (
                method,
                f"{request.url.host}:{request.url.port}{path}",
                request.headers.get("authorization"),
            )
        )
        if path in self.refuse:
            status = self.refuse[path]
            detail = {
                "code": "permission_missing" if status == 403 else "token_expired",
                "permission": "statistics:read",
                "message_es": "Su rol no tiene el permiso statistics:read.",
                "message_en": "Your role lacks the permission statistics:read.",
            }
            return httpx.Response(status, json={"detail": detail})
        if path == "/auth/login":
            body = json.loads(request.content)
            if body["password"] != PASSWORD:
                return httpx.Response(401, json={"detail": {"code": "sign_in_failed"}})
            expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
            return httpx.Response(
                200,
                json={"access_token": "staff-jwt", "expires_at": expires, "roles": self.roles},
            )
        if request.headers.get("authorization") != "Bearer staff-jwt" and not path.startswith(
            ("/agenda", "/rooms/")
        ):
            return httpx.Response(401, json={"detail": {"code": "token_missing"}})
        if path == "/statistics":
            return httpx.Response(200, json=STATISTICS)
        if path == "/participants":
            return httpx.Response(
                200, json={"total": 1, "offset": 0, "limit": 25, "items": [PARTICIPANT]}
            )
        if path == f"/participants/{PID}":
            return httpx.Response(200, json={**PARTICIPANT, "status": "confirmed"})
        if path.endswith("/accreditation/approve"):
            return httpx.Response(
                200, json={"outcome": "approved", "participant_id": PID, "status": "allocating"}
            )
        if path.endswith("/accreditation/reject"):
            return httpx.Response(
                200, json={"outcome": "rejected", "participant_id": PID, "status": "rejected"}
            )
        if path.endswith("/badge.pdf"):
            return httpx.Response(
                200, content=b"%PDF-1.4 badge", headers={"content-type": "application/pdf"}
            )
        if path == "/agenda.json":
            return httpx.Response(200, json=AGENDA)
        if path.endswith(".ics"):
            return httpx.Response(200, content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        return httpx.Response(404, json={"detail": "not found"})


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def web(services: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    async with web_app(services) as client:
        yield client


async def sign_in(web: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await sign_in_staff(web, "Registrar", password, next="/console/accreditation")


PAGES = [
    "/",
    "/programme",
    "/programme?day=0&room=plenary",
    "/console",
    "/console/accreditation",
    f"/console/participants/{PID}",
    "/no/such/page",
]


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_every_page_renders_in_both_languages_without_untranslated_strings(
    web: httpx.AsyncClient, lang: str
) -> None:
    await web.get(f"/?lang={lang}")
    assert f'<html lang="{lang}">' in (await web.get("/signin")).text
    signed_in = await sign_in(web)
    assert signed_in.status_code == 303
    for path in PAGES:
        response = await web.get(path)  # strict translations: a missing entry fails the page
        expected = 404 if path == "/no/such/page" else 200
        assert response.status_code == expected, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text, path
        assert response.headers["content-language"] == lang
        # Nothing from another origin: no CDN, no font service.
        assert not re.search(r'(src|href)="(https?:)?//', response.text), path
    decided = await web.post(
        f"/console/participants/{PID}/approve",
        data={"csrf_token": web.cookies["foro_csrf"]},
        headers={"HX-Request": "true"},
    )
    assert decided.status_code == 200 and "<html" not in decided.text
    assert ("Aprobado" if lang == "es" else "Approved") in decided.text


def test_the_catalog_translates_every_source_string_and_nothing_else() -> None:
    # Entries are (msgctxt, msgid): `Np_("meeting", "Confirmed")` needs its own entry.
    messages = source_messages()
    catalog, plurals = read_catalogs("es"), read_plural_catalogs("es")
    untranslated = sorted(set(messages) - set(catalog) - set(plurals), key=str)
    assert untranslated == [], f"add to services/web/locale/es[/<area>].po: {untranslated}"
    unused = sorted((set(catalog) | set(plurals)) - set(messages), key=str)
    assert unused == [], f"no longer used, remove from services/web/locale/es*: {unused}"
    for (_context, message), translation in catalog.items():
        assert set(re.findall(r"{\w+}", message)) == set(re.findall(r"{\w+}", translation)), (
            f"placeholders differ: {message!r} → {translation!r}"
        )
    # A counted sentence is a plural entry in the catalog and a plural call in the source, and
    # each of its forms uses only the placeholders of the English plural (a singular may leave
    # out `{count}`: "Accredit the pending member").
    counted = source_plurals()
    assert sorted(counted, key=str) == sorted(plurals, key=str), (
        "a counted sentence is _n/Nn_ and msgid_plural"
    )
    assert not set(counted) & set(catalog), "a counted sentence has no singular-only entry"
    for key, forms in plurals.items():
        allowed = set(re.findall(r"{\w+}", counted[key]))
        assert len(forms) == 2, f"{key!r}: Spanish has two forms (one, other)"
        assert all(set(re.findall(r"{\w+}", form)) <= allowed for form in forms), (
            f"placeholders differ: {counted[key]!r} → {forms!r}"
        )
        assert "{count}" in forms[-1], f"{key!r}: the plural form shows the count"


def test_no_two_catalog_files_translate_one_entry_two_ways() -> None:
    # The files are merged into one catalog, the later winning: a word translated two ways
    # ("Approved": "Aprobado" here, "Aprobada" there) must be two entries with their contexts.
    translations: dict[tuple[str | None, str], dict[object, list[str]]] = {}
    for path in catalog_files("es"):
        entries = {**read_catalog(path), **read_plural_catalog(path)}
        for key, translation in entries.items():
            translations.setdefault(key, {}).setdefault(translation, []).append(path.name)
    clashes = {key: found for key, found in translations.items() if len(found) > 1}
    assert clashes == {}, f"give each meaning its own msgctxt: {clashes}"


def test_one_english_word_is_translated_by_what_it_qualifies() -> None:
    translations = Translations.load("es", ["es", "en"], strict=True)
    spanish = {
        (None, "Confirmed"): "Confirmado",  # a participant
        ("meeting", "Confirmed"): "Confirmada",  # a B2B meeting (la reunión)
        ("meeting", "Requested"): "Solicitada",
        ("meetings", "Requested"): "Solicitadas",  # how many were requested
        ("exhibitor", "Approved"): "Aprobado",
        ("accreditation", "Approved"): "Aprobada",
        ("conclusion", "Approved"): "Aprobada",
        ("accreditation", "Rejected"): "Rechazada",
        ("exhibitor", "Rejected"): "Rechazado",
        ("message", "Sending"): "Enviando",
        (None, "Cancelled"): "Cancelado",  # a participant
        ("session", "Cancelled"): "Cancelada",
        ("sessions", "Cancelled"): "Canceladas",  # a release's cancelled sessions
        ("action", "Cancelled"): "Cancelada",  # a line of the action plan
        ("menu", "Expo"): "Expo",
        ("console tabs", "Expo"): "Feria",
    }
    for (context, message), expected in spanish.items():
        assert translations.pgettext("es", context, message) == expected, (context, message)
        assert translations.pgettext("en", context, message) == message
    # A message marked with its context (`Np_`) is translated in it by `_()` / `translate()`.
    assert translations.gettext("es", Np_("meeting", "Confirmed")) == "Confirmada"
    assert translations.gettext("en", Np_("meeting", "Confirmed")) == "Confirmed"
    with pytest.raises(KeyError, match="context 'meeting'"):
        translations.gettext("es", Np_("meeting", "Postponed"))


@pytest.mark.parametrize(("lang", "label"), [("es", "Cancelada"), ("en", "Cancelled")])
async def test_a_cancelled_session_agrees_with_la_sesion(
    web: httpx.AsyncClient, lang: str, label: str
) -> None:
    page = (await web.get(f"/programme?lang={lang}")).text
    assert f'<strong class="tag">{label}</strong>' in page


def test_a_counted_sentence_agrees_with_its_count_in_each_language() -> None:
    translations = Translations.load("es", ["es", "en"], strict=True)
    for lang, one, many in (
        ("es", "1 mensaje", "1.200 mensajes"),
        ("en", "1 message", "1,200 messages"),
    ):
        assert translations.ngettext(lang, "{count} message", "{count} messages", 1) == one
        assert translations.ngettext(lang, "{count} message", "{count} messages", 1200) == many
    assert translations.ngettext("es", "{count} message", "{count} messages", 0) == "0 mensajes"
    with pytest.raises(KeyError):
        translations.ngettext("es", "{count} apple", "{count} apples", 2)


def test_language_from_query_then_cookie_then_browser_then_the_packs_default() -> None:
    translations = Translations({"es": {}}, "es")
    assert translations.negotiate("en", "es", "es") == ("en", True)
    assert translations.negotiate("fr", "en", "es") == ("en", False)
    assert translations.negotiate(None, None, "fr-CA, en-GB;q=0.8, es;q=0.5") == ("en", False)
    assert translations.negotiate(None, None, "de, fr") == ("es", False)
    assert accepted("es;q=0, en") == ["en"]


async def test_the_language_switch_is_remembered(web: httpx.AsyncClient) -> None:
    assert '<html lang="es">' in (await web.get("/programme")).text  # the pack's default
    chosen = await web.get("/programme?lang=en")
    assert '<html lang="en">' in chosen.text and web.cookies["foro_lang"] == "en"
    assert '<html lang="en">' in (await web.get("/programme")).text
    switch = re.search(r'<a href="([^"]+)" lang="es"', chosen.text)
    assert switch and "lang=es" in switch.group(1)
    assert (await web.get("/", headers={"Accept-Language": "es"})).headers[
        "content-language"
    ] == "en"  # the remembered choice wins over the browser


async def test_a_wrong_password_is_told_in_the_pages_language(web: httpx.AsyncClient) -> None:
    await web.get("/?lang=en")
    refused = await sign_in(web, password="wrong")
    assert refused.status_code == 401
    assert "Wrong username, password or verification code." in refused.text
    await web.get("/?lang=es")
    refused = await sign_in(web, password="wrong")
    assert "Usuario, contraseña o código de verificación incorrectos." in refused.text
    assert "foro_session" not in web.cookies


async def test_a_form_without_its_csrf_token_is_refused(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    await web.get("/signin")
    forged = await web.post(
        "/signin", data={"username": "a", "password": PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 400
    assert not any(path.endswith("/auth/login") for _, path, _ in services.calls)


async def test_the_session_cookie_is_sealed_http_only_and_strict(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    signed_in = await sign_in(web)
    assert signed_in.headers["location"] == "/console/accreditation"
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("foro_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "staff-jwt" not in cookie  # sealed: the token cannot be read from the cookie
    await web.get("/console")
    assert ("GET", "127.0.0.1:8005/statistics", "Bearer staff-jwt") in services.calls
    web.cookies.set("foro_session", web.cookies["foro_session"][:-4] + "AAAA", domain="web.test")
    tampered = await web.get("/console")
    assert tampered.status_code == 303 and tampered.headers["location"].startswith("/signin")


async def test_a_party_page_opened_by_staff_asks_for_a_party_sign_in_and_keeps_theirs(
    web: httpx.AsyncClient,
) -> None:
    await sign_in(web)
    party_page = await web.get("/delegation")
    assert party_page.status_code == 303 and party_page.headers["location"].startswith("/signin")
    assert not [c for c in party_page.headers.get_list("set-cookie") if "foro_session=" in c]
    assert (await web.get("/console")).status_code == 200  # still signed in


@pytest.mark.parametrize(
    ("roles", "shown", "hidden"),
    [
        (["door_staff"], {"/door", "/console"}, {"/console/people", "/console/accreditation"}),
        (
            ["registrar"],
            {"/console/accreditation", "/door", "/console/badges"},
            {"/console/reports"},
        ),
        (["finance"], {"/console/reports"}, {"/door", "/console/people", "/console/messages"}),
        (["admin"], {"/door", "/console/people", "/console/reports", "/console/expo"}, set()),
    ],
)
async def test_the_navigation_shows_what_the_roles_can_open(
    web: httpx.AsyncClient,
    services: FakeServices,
    roles: list[str],
    shown: set[str],
    hidden: set[str],
) -> None:
    services.roles = roles
    await sign_in(web)
    page = await web.get("/console")
    nav = re.search(r'<nav aria-label="[^"]+">(.*?)</nav>', page.text, re.DOTALL)
    assert nav, page.text[:2000]
    links = set(re.findall(r'href="([^"]+)"', nav.group(1)))
    assert shown <= links and not hidden & links, links


async def test_signing_out_forgets_the_token(web: httpx.AsyncClient) -> None:
    await sign_in(web)
    page = await web.get("/console")
    signed_out = await web.post("/signout", data={"csrf_token": csrf_of(page.text)})
    assert signed_out.status_code == 303
    assert (await web.get("/console")).status_code == 303


async def test_a_services_401_sends_to_sign_in_and_a_403_says_the_role_cannot(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    assert (await web.get("/console")).headers["location"] == "/signin?next=%2Fconsole"
    await sign_in(web)
    services.refuse["/participants"] = 403
    forbidden = await web.get("/console/accreditation?lang=es")
    assert forbidden.status_code == 403
    assert "Su rol no permite hacer esto" in forbidden.text
    assert "Su rol no tiene el permiso statistics:read." in forbidden.text
    services.refuse["/statistics"] = 403  # the landing page: the way on, not a refusal
    landing = await web.get("/console")
    assert landing.status_code == 200
    assert "Su rol no incluye las estadísticas del foro." in landing.text
    services.refuse["/statistics"] = 401
    expired = await web.get("/console")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/signin?next=%2Fconsole"
    htmx = await web.post(
        f"/console/participants/{PID}/approve",
        data={"csrf_token": "x"},
        headers={"HX-Request": "true"},
    )
    assert htmx.headers.get("HX-Redirect", "").startswith("/signin")


async def test_the_badge_and_the_calendars_come_through_this_site(
    web: httpx.AsyncClient,
) -> None:
    await sign_in(web)
    badge = await web.get(f"/console/participants/{PID}/badge.pdf")
    assert badge.status_code == 200 and badge.content.startswith(b"%PDF")
    assert badge.headers["content-disposition"].startswith("attachment")
    calendar = await web.get("/programme/rooms/plenary.ics?lang=en")
    assert calendar.status_code == 200 and calendar.content.startswith(b"BEGIN:VCALENDAR")


async def test_static_files_and_health(web: httpx.AsyncClient) -> None:
    htmx = await web.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.content[:2000]
    assert (await web.get("/health/live")).status_code == 200
    assert (await web.get("/health/ready")).json()["status"] == "ready"


@pytest.mark.parametrize(
    "secret, problem",
    [
        (None, "missing"),
        ("short", "too short"),
        ("change-me-please-change-me-please-1234", "placeholder"),
    ],
)
def test_production_refuses_a_missing_or_weak_cookie_secret(
    secret: str | None, problem: str
) -> None:
    values: dict[str, Any] = {"environment": "production"}
    if secret is not None:
        values["cookie_secret"] = [SecretStr(secret)]
    with pytest.raises(InsecureSettingsError, match=f"WEB_COOKIE_SECRET: .*{problem}"):
        WebSettings(**values)
    WebSettings(environment="production", cookie_secret=[COOKIE_SECRET])  # a good one passes

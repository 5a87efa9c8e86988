"""The parties' pages against fake services (httpx.MockTransport): signing in at /access with a
focal point's, an exhibitor's or a participant's own token (pasted, or from a link), each kind
of party's pages in Spanish and English with no string left untranslated, the services' field
errors under their fields, a service's 403 as the refusal page, and a party kept off the other
parties' pages and the console.

Through real services and a browser: tests/e2e/web/test_party_delegation.py.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.web.pages.party import extract_token, routing_claims
from services.web.settings import WebSettings
from shared.auth.tokens import LinkSigner
from tests.support.web_console import csrf_of, web_app

SIGNER = LinkSigner(["a-link-secret-for-the-party-pages-tests-0123456789"])
PID = str(uuid.uuid4())
EXHIBITOR_ID = str(uuid.uuid4())
MEMBER = str(uuid.uuid4())
JOB_ID = str(uuid.uuid4())
APPLICATION_ID = str(uuid.uuid4())
MEETING_ID = str(uuid.uuid4())
FOCAL = SIGNER.focal_point("SV").token
EXHIBITOR = SIGNER.exhibitor(EXHIBITOR_ID).token
PARTICIPANT = SIGNER.participant(PID).token
FEED = SIGNER.participant(PID, scope=["agenda:read"]).token
COOKIE_SECRET = SecretStr("Pq7Wm2Xc9Lv4Bn8Rt1Ks6Hd3Gf0JzAeYuTiOoPl")

DELEGATION = {
    "delegation_id": "crm:SV",
    "code": "SV",
    "kind": "country",
    "name": "Delegación de El Salvador",
    "country": "SV",
    "category": "official_delegate",
    "quota": 10,
    "seats_used": 1,
    "members": [MEMBER],
    "head_of_delegation_id": None,
    "focal_point": None,
    "focal_point_access_issued_at": None,
    "focal_point_access_expires_at": None,
}
ME = {
    "exhibitor_id": EXHIBITOR_ID,
    "name": "Banco Agrícola",
    "zone": "finance",
    "status": "approved",
    "booth": "F02",
    "booth_explanation": {
        "code": "preference_honoured",
        "es": "Su primera preferencia.",
        "en": "Your first preference.",
    },
    "contact": {"name": "Rosa Díaz", "email": "rosa@example.org"},
}
MEETINGS = [
    {
        "meeting_id": MEETING_ID,
        "status": "requested",
        "requester": {"kind": "participant", "id": PID},
        "invitee": {"kind": "exhibitor", "id": EXHIBITOR_ID},
        "topic": "Remesas productivas",
        "starts_at": None,
        "ends_at": None,
        "table": None,
        "explanation": None,
        "requested_at": "2026-11-01T10:00:00Z",
    }
]
JOBS = [
    {
        "job_id": JOB_ID,
        "employer_name": "Banco Agrícola",
        "title": "Analista",
        "location": "San Salvador",
    },
    {"job_id": str(uuid.uuid4()), "employer_name": "Otra", "title": "Not ours", "location": None},
]
APPLICATIONS = [
    {
        "application_id": APPLICATION_ID,
        "participant_id": PID,
        "note": "Con experiencia",
        "received_at": "2026-11-18T10:00:00Z",
        "status": "received",
        "interview": None,
        "erased": False,
        "has_cv": True,
    }
]
AGENDA = {
    "forum_id": "crm",
    "days": [
        {
            "index": 0,
            "date": "2026-11-18",
            "title": {"es": "Día uno", "en": "Day one"},
            "items": [
                {
                    "code": "opening",
                    "status": "scheduled",
                    "title": {"es": "Inauguración", "en": "Opening"},
                    "starts_at": "2026-11-18T09:00:00-06:00",
                    "ends_at": "2026-11-18T10:00:00-06:00",
                    "room": {"code": "plenary", "name": {"es": "Plenaria", "en": "Plenary"}},
                    "seats": 300,
                    "signed_up": 12,
                },
                {
                    "code": "panel-1",
                    "status": "scheduled",
                    "title": {"es": "Panel uno", "en": "Panel one"},
                    "starts_at": "2026-11-18T11:00:00-06:00",
                    "ends_at": "2026-11-18T12:00:00-06:00",
                    "room": None,
                    "seats": 40,
                    "signed_up": 40,
                },
            ],
        }
    ],
}
MY_FEED = (
    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:opening@crm.foro\r\nSUMMARY:Opening\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


MEMBERS = [
    {
        "participant_id": MEMBER,
        "given_name": "Rosa",
        "family_name": "Márquez",
        "job_title": "Viceministra",
        "category": "official_delegate",
        "status": "rejected",
        "head_of_delegation": True,
        "badge_issued": False,
        "checked_in_days": ["2026-11-18"],
        "rejection_reasons": [
            {
                "field": "accreditation",
                "code": "accreditation_rejected",
                "message_es": "Falta la nota verbal.",
                "message_en": "The note verbale is missing.",
            }
        ],
    }
]


def forbidden(permission: str) -> httpx.Response:
    return httpx.Response(
        403,
        json={
            "detail": {
                "code": "permission_missing",
                "permission": permission,
                "message_es": f"Su acceso no tiene el permiso {permission}.",
                "message_en": f"Your access lacks the permission {permission}.",
            }
        },
    )


class FakeServices:
    """Registration, expo and scheduling as each party's token reaches them; `refuse` maps a
    path to a status answered there instead, `answers` a path (or "METHOD path") to a response."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.refuse: dict[str, int] = {}
        self.answers: dict[str, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        body: Any = json.loads(request.content) if request.content else None
        self.calls.append((method, path, body))
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if f"{method} {path}" in self.answers:
            return self.answers[f"{method} {path}"]
        if path in self.answers:
            return self.answers[path]
        if path in self.refuse:
            status = self.refuse[path]
            if status == 403:
                return forbidden("delegations:members")
            return httpx.Response(status, json={"detail": {"code": "token_revoked"}})
        public = path in ("/jobs", "/agenda.json") or (
            path.endswith("/agenda.ics") and request.url.params.get("token") == FEED
        )
        if not public and bearer not in (FOCAL, EXHIBITOR, PARTICIPANT):
            return httpx.Response(401, json={"detail": {"code": "token_invalid"}})
        port = request.url.port
        if port == 8001 and bearer == FOCAL:  # registration
            if path == "/delegations/SV" and method == "GET":
                return httpx.Response(200, json=DELEGATION)
            if path == "/delegations/SV/members" and method == "GET":
                return httpx.Response(200, json=MEMBERS)
            if path == "/delegations/SV/members" and method == "POST":
                return httpx.Response(
                    201,
                    json={
                        "outcome": "nominated",
                        "participant_id": str(uuid.uuid4()),
                        "status": "pending_approval",
                    },
                )
            if path.endswith("/substitute"):
                return httpx.Response(
                    200,
                    json={
                        "outcome": "substituted",
                        "participant_id": str(uuid.uuid4()),
                        "status": "confirmed",
                    },
                )
            if method == "DELETE" and path == f"/delegations/SV/members/{MEMBER}":
                return httpx.Response(
                    200,
                    json={"outcome": "withdrawn", "participant_id": MEMBER, "status": "cancelled"},
                )
        if port == 8003:  # expo
            if path == "/jobs":
                return httpx.Response(200, json=JOBS)
            if bearer != EXHIBITOR:
                return forbidden("exhibitor:self")
            if path == "/me":
                return httpx.Response(200, json=ME)
            if path == "/meetings":
                return httpx.Response(200, json=MEETINGS)
            if path == "/me/leads/scans":
                if body["code"] == "no-consent":
                    explanation = {
                        "code": "no_consent",
                        "es": "La persona no autorizó compartir sus datos de contacto con expositores; no se guarda nada.",
                        "en": "The attendee did not consent to share contact details with exhibitors; nothing is stored.",
                    }
                    return httpx.Response(
                        200,
                        json={
                            "stored": False,
                            "lead_id": None,
                            "merged": False,
                            "scans": 0,
                            "explanation": explanation,
                        },
                    )
                explanation = {
                    "code": "lead_captured",
                    "es": "Contacto guardado.",
                    "en": "Contact captured.",
                }
                return httpx.Response(
                    201,
                    json={
                        "stored": True,
                        "lead_id": "l1",
                        "merged": False,
                        "scans": 1,
                        "explanation": explanation,
                    },
                )
            if path == "/me/leads.csv":
                return httpx.Response(
                    200, content=b"\xef\xbb\xbfname\r\n", headers={"content-type": "text/csv"}
                )
            if path == "/me/jobs":
                if len(body["title"]) < 3:
                    return httpx.Response(
                        422,
                        json={
                            "detail": [
                                {
                                    "loc": ["body", "title"],
                                    "type": "string_too_short",
                                    "msg": "too short",
                                }
                            ]
                        },
                    )
                return httpx.Response(
                    201, json={"job_id": JOB_ID, "title": body["title"], "status": "open"}
                )
            if path == f"/me/jobs/{JOB_ID}/applications":
                return httpx.Response(200, json=APPLICATIONS)
            if path == f"/me/applications/{APPLICATION_ID}/cv":
                return httpx.Response(
                    200,
                    content=b"%PDF-1.4 cv",
                    headers={
                        "content-type": "application/pdf",
                        "content-disposition": 'attachment; filename="cv.pdf"',
                    },
                )
            if path.endswith("/interview") or path.endswith("/accept") or path.endswith("/decline"):
                return httpx.Response(200, json={"ok": True})
        if port == 8002:  # scheduling
            if path == "/agenda.json":
                return httpx.Response(200, json=AGENDA)
            if bearer != PARTICIPANT and not public:
                return forbidden("signups:write")
            if path == f"/people/{PID}/agenda.ics":
                return httpx.Response(
                    200, content=MY_FEED, headers={"content-type": "text/calendar"}
                )
            if path == "/sessions/panel-1/signups" and method == "POST":
                return httpx.Response(
                    201,
                    json={
                        "session_code": "panel-1",
                        "participant_id": PID,
                        "status": "waitlisted",
                        "position": 3,
                        "agenda_ics": f"http://scheduling/people/{PID}/agenda.ics?token={FEED}",
                    },
                )
            if path == f"/sessions/opening/signups/{PID}" and method == "DELETE":
                return httpx.Response(
                    200, json={"session_code": "opening", "participant_id": PID, "promoted": None}
                )
        return httpx.Response(404, json={"detail": "not found"})


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def web(services: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    async with web_app(services, WebSettings(cookie_secret=[COOKIE_SECRET])) as client:
        yield client


async def access(web: httpx.AsyncClient, code: str, lang: str = "en") -> httpx.Response:
    form = await web.get(f"/access?lang={lang}")
    return await web.post("/access", data={"code": code, "csrf_token": csrf_of(form.text)})


def test_the_token_is_read_from_a_code_or_a_link_and_its_claims_only_route() -> None:
    assert extract_token(f"  {FOCAL[:20]}\n{FOCAL[20:]} ") == FOCAL  # wrapped in an e-mail
    assert extract_token(f"https://foro.example/access#{FOCAL}") == FOCAL
    assert extract_token(f"https://foro.example/access?token={FOCAL}") == FOCAL
    assert extract_token("not a token") is None
    assert routing_claims(FOCAL)[:2] == ("focal_point", "SV")  # type: ignore[index]
    assert routing_claims(EXHIBITOR)[:2] == ("exhibitor", EXHIBITOR_ID)  # type: ignore[index]
    assert routing_claims(PARTICIPANT)[:2] == ("participant", PID)  # type: ignore[index]


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_a_focal_point_signs_in_and_manages_members(
    web: httpx.AsyncClient, services: FakeServices, lang: str
) -> None:
    signed_in = await access(web, f"https://foro.example/access#{FOCAL}", lang)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/delegation"
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("foro_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and FOCAL not in cookie
    page = await web.get("/delegation")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert "Delegación de El Salvador" in page.text and MEMBER in page.text
    # Each member's name, status and refusal reason in the page's language, and check-ins.
    assert "Rosa Márquez" in page.text and "Viceministra" in page.text
    assert ("Rechazado" if lang == "es" else "Rejected") in page.text
    assert (
        "Falta la nota verbal." if lang == "es" else "The note verbale is missing."
    ) in page.text
    assert ("18 nov" if lang == "es" else "18 Nov") in page.text
    assert ("Mi página" if lang == "es" else "My page") in page.text  # the party's navigation

    nominee = {
        "csrf_token": csrf_of(page.text),
        "given_name": "Ana",
        "family_name": "López",
        "email": "ana@example.org",
        "language": "es",
        "privacy_policy": "yes",
    }
    nominated = await web.post("/delegation/members", data=nominee)
    assert nominated.status_code == 303
    sent = next(
        body
        for method, path, body in services.calls
        if (method, path) == ("POST", "/delegations/SV/members")
    )
    assert sent["consents"] == {
        "privacy_policy": True,
        "listed_publicly": False,
        "photos": False,
        "share_with_exhibitors": False,
    }
    assert "phone" not in sent and sent["given_name"] == "Ana"
    done = await web.get(nominated.headers["location"])
    assert ("Se nominó a Ana López." if lang == "es" else "Ana López was nominated.") in done.text
    assert ("Pendiente" if lang == "es" else "Pending approval") in done.text

    form = await web.get(f"/delegation/members/{MEMBER}/substitute")
    assert form.status_code == 200
    substituted = await web.post(
        f"/delegation/members/{MEMBER}/substitute",
        data={**nominee, "csrf_token": csrf_of(form.text)},
    )
    assert substituted.status_code == 303
    withdrawn = await web.post(
        f"/delegation/members/{MEMBER}/withdraw", data={"csrf_token": csrf_of(form.text)}
    )
    assert withdrawn.status_code == 303
    assert ("DELETE", f"/delegations/SV/members/{MEMBER}", None) in services.calls


async def test_the_apis_field_errors_are_shown_under_their_fields_in_the_pages_language(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    await access(web, FOCAL, "es")
    page = await web.get("/delegation")
    services.answers["POST /delegations/SV/members"] = httpx.Response(
        422,
        json={
            "detail": [
                {
                    "loc": ["body", "email"],
                    "type": "value_error",
                    "msg": "Value error, not an e-mail",
                },
                {"loc": ["body", "given_name"], "type": "missing", "msg": "Field required"},
            ]
        },
    )
    refused = await web.post(
        "/delegation/members",
        data={"csrf_token": csrf_of(page.text), "family_name": "López", "email": "ana"},
    )
    assert refused.status_code == 422
    assert re.search(r'id="email"[^>]*aria-invalid="true"', refused.text)
    assert 'id="email-error">Escriba una dirección de correo electrónico' in refused.text
    assert 'id="given_name-error">Este campo es obligatorio.' in refused.text
    assert 'value="López"' in refused.text  # what was typed is kept
    services.answers["POST /delegations/SV/members"] = httpx.Response(
        409,
        json={
            "detail": {
                "field": "quota",
                "code": "delegation_quota_full",
                "message_es": "La delegación ya tiene sus 10 plazas ocupadas.",
                "message_en": "The delegation already fills its 10 seats.",
            }
        },
    )
    full = await web.post("/delegation/members", data={"csrf_token": csrf_of(page.text)})
    assert full.status_code == 409 and "La delegación ya tiene sus 10 plazas ocupadas." in full.text


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_an_exhibitors_pages_render_and_act(
    web: httpx.AsyncClient, services: FakeServices, lang: str
) -> None:
    signed_in = await access(web, EXHIBITOR, lang)
    assert signed_in.headers["location"] == "/exhibitor"
    page = await web.get("/exhibitor")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert "Banco Agrícola" in page.text and "F02" in page.text and "Analista" in page.text
    assert "Not ours" not in page.text
    assert f"/exhibitor/meetings/{MEETING_ID}/accept" in page.text
    # A meeting (la reunión) is "Solicitada", not a participant's "Solicitado".
    requested = "Solicitada" if lang == "es" else "Requested"
    assert f'<span class="status">{requested}</span>' in page.text
    csrf = csrf_of(page.text)

    scanned = await web.post("/exhibitor/scans", data={"code": "b-7f3a9c", "csrf_token": csrf})
    assert scanned.status_code == 200
    assert (
        "La persona autorizó compartir" if lang == "es" else "The attendee consented"
    ) in scanned.text
    refused = await web.post("/exhibitor/scans", data={"code": "no-consent", "csrf_token": csrf})
    consent = "La persona no autorizó" if lang == "es" else "The attendee did not consent"
    assert consent in refused.text

    leads = await web.get("/exhibitor/leads.csv")
    assert leads.status_code == 200 and leads.headers["content-disposition"].startswith(
        "attachment"
    )
    accepted = await web.post(f"/exhibitor/meetings/{MEETING_ID}/accept", data={"csrf_token": csrf})
    assert accepted.status_code == 303
    short = await web.post(
        "/exhibitor/jobs", data={"title": "A", "description": "x" * 20, "csrf_token": csrf}
    )
    assert short.status_code == 422
    assert ("Es demasiado corto." if lang == "es" else "This is too short.") in short.text
    posted = await web.post(
        "/exhibitor/jobs", data={"title": "Analista", "description": "x" * 20, "csrf_token": csrf}
    )
    assert posted.status_code == 303
    applications = await web.get(f"/exhibitor/jobs/{JOB_ID}")
    assert applications.status_code == 200 and "Con experiencia" in applications.text
    cv = await web.get(f"/exhibitor/applications/{APPLICATION_ID}/cv")
    assert cv.content.startswith(b"%PDF") and cv.headers["content-disposition"].startswith(
        "attachment"
    )
    interview = await web.post(
        f"/exhibitor/applications/{APPLICATION_ID}/interview",
        data={"csrf_token": csrf, "job_id": JOB_ID},
    )
    assert interview.status_code == 303


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_a_participants_agenda_sign_up_cancel_and_calendar(
    web: httpx.AsyncClient, services: FakeServices, lang: str
) -> None:
    signed_in = await access(web, PARTICIPANT, lang)
    assert signed_in.headers["location"] == "/me"
    page = await web.get("/me")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert "/me/sessions/opening/cancel" in page.text  # in their agenda (the feed's UID)
    assert "/me/sessions/panel-1/signup" in page.text
    csrf = csrf_of(page.text)
    signed_up = await web.post(
        "/me/sessions/panel-1/signup", data={"csrf_token": csrf, "title": "Panel uno"}
    )
    assert signed_up.status_code == 303
    assert ("POST", "/sessions/panel-1/signups", {"participant_id": PID}) in services.calls
    after = await web.get(signed_up.headers["location"])
    assert ("lista de espera" if lang == "es" else "waiting list") in after.text
    assert f"/me/calendar/{PID}.ics?token={FEED}" in after.text  # the read-only feed, kept
    cancelled = await web.post("/me/sessions/opening/cancel", data={"csrf_token": csrf})
    assert cancelled.status_code == 303
    calendar = await web.get("/me/agenda.ics")
    assert calendar.content.startswith(b"BEGIN:VCALENDAR")
    web.cookies.clear()
    subscribed = await web.get(f"/me/calendar/{PID}.ics", params={"token": FEED})
    assert subscribed.status_code == 200 and b"opening@" in subscribed.content


async def test_a_services_403_shows_the_refusal_page(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    await access(web, FOCAL, "es")
    page = await web.get("/delegation")
    services.refuse["/delegations/SV/members"] = 403
    refused = await web.post(
        "/delegation/members", data={"csrf_token": csrf_of(page.text), "given_name": "Ana"}
    )
    assert refused.status_code == 403
    assert "Su acceso no tiene el permiso delegations:members." in refused.text
    await access(web, EXHIBITOR, "en")
    services.answers["/me"] = forbidden("exhibitor:self")
    stand = await web.get("/exhibitor")
    assert (
        stand.status_code == 403
        and "Your access lacks the permission exhibitor:self." in stand.text
    )


async def test_a_refused_or_malformed_code_signs_nobody_in(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    malformed = await access(web, "hello", "en")
    assert malformed.status_code == 400 and "This is not an access code." in malformed.text
    services.refuse["/delegations/SV"] = 401
    revoked = await access(web, FOCAL, "es")
    assert revoked.status_code == 401 and "ya no es válido" in revoked.text
    assert "foro_session" not in web.cookies
    forged = await web.post("/access", data={"code": FOCAL, "csrf_token": "x"})
    assert forged.status_code == 400


async def test_a_party_stays_on_its_own_pages_and_signs_out(web: httpx.AsyncClient) -> None:
    nobody = await web.get("/delegation")
    assert nobody.status_code == 303  # to sign in, and from there to /access
    assert (await web.get(nobody.headers["location"])).headers[
        "location"
    ] == "/access?next=%2Fdelegation"
    await access(web, EXHIBITOR, "en")
    assert (await web.get("/delegation")).headers["location"] == "/exhibitor"
    assert (await web.get("/me")).headers["location"] == "/exhibitor"
    assert (await web.get("/party")).headers["location"] == "/exhibitor"
    page = await web.get("/exhibitor")
    signed_out = await web.post("/signout", data={"csrf_token": csrf_of(page.text)})
    assert signed_out.status_code == 303
    assert (await web.get("/exhibitor")).status_code == 303
    await access(web, EXHIBITOR, "en")
    console = await web.get("/console")  # not staff: the staff sign-in
    assert console.status_code == 303 and console.headers["location"].startswith("/signin")


async def test_a_link_with_the_token_in_the_query_fills_the_form_for_the_script(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/access", params={"token": FOCAL, "lang": "en"})
    assert page.status_code == 200 and 'data-autosubmit="true"' in page.text and FOCAL in page.text
    assert '<script src="/static/party.js' in page.text
    assert (await web.get("/static/party.js")).status_code == 200

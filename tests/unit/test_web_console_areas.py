"""The console's people, programme and expo pages against fake services (httpx.MockTransport):
every page in Spanish and English with missing translations made errors, and the main actions —
search, a participant's story with the parts a role cannot see, a delegation's focal-point access
shown once, accrediting a delegation, badges chosen into one PDF, a session moved and published,
the conflicts that stop a release, an exhibitor approved (its token once) or rejected, booths
allocated and assigned, the floor plan from this origin — and CSRF on every form.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.support.web_console import Sent, console

SERVICES = {8001: "registration", 8002: "scheduling", 8003: "expo"}
SERVICES |= {8004: "notification", 8005: "reporting"}
PID = str(uuid.uuid4())
MEMBER = str(uuid.uuid4())
EXHIBITOR = str(uuid.uuid4())
FOCAL_TOKEN = "focal.point.token-shown-once"
EXHIBITOR_TOKEN = "exhibitor.access.token-shown-once"


def participant(pid: str, **fields: Any) -> dict[str, Any]:
    return {
        "participant_id": pid,
        "forum_id": "crm-2004",
        "status": "confirmed",
        "category": "media",
        "given_name": "Lucía",
        "family_name": "Prensa",
        "email": "lucia@example.org",
        "organisation": "Diario El Mundo",
        "country": "SV",
        "language": "es",
        "consents": {"privacy_policy": True},
        "rejection_reasons": [],
        "accreditation": {"status": "approved", "decided_at": "2004-09-30T15:00:00Z"},
        "badge": {"token_id": "b-1", "issued_at": "2004-10-01T15:00:00Z", "category": "media"},
        **fields,
    }


DELEGATION = {
    "delegation_id": "crm-2004:SV",
    "code": "SV",
    "kind": "country",
    "name": "Delegación de El Salvador",
    "country": "SV",
    "category": "official_delegate",
    "quota": 10,
    "seats_used": 1,
    "members": [MEMBER],
    "head_of_delegation_id": MEMBER,
    "focal_point": {"name": "Marta Rivas", "email": "marta@example.org", "language": "es"},
    "focal_point_access_issued_at": None,
    "focal_point_access_expires_at": None,
}
SESSION = {
    "_id": "crm-2004:B1",
    "code": "B1",
    "kind": "session",
    "title": {"es": "Remesas y desarrollo", "en": "Remittances and development"},
    "starts_at": "2004-11-18T16:00:00Z",  # 10:00 at the venue (UTC−6)
    "ends_at": "2004-11-18T17:00:00Z",
    "room": "plenary",
    "seats": None,
    "status": "scheduled",
}
CONFLICT = {
    "kind": "room_overlap",
    "severity": "error",
    "sessions": ["B1", "B2"],
    "room": "plenary",
    "person_id": None,
    "reason_es": "B1 y B2 usan la sala plenaria a la vez.",
    "reason_en": "B1 and B2 use the plenary room at the same time.",
}
EXHIBITOR_DOC = {
    "exhibitor_id": EXHIBITOR,
    "name": "Banco Agrícola",
    "exhibitor_type": "company",
    "zone": "finance",
    "country": "SV",
    "contact": {"name": "Rosa", "email": "rosa@example.org"},
    "status": "applied",
    "booth": None,
}


@dataclass
class FakeServices:
    """Answers from `routes[(service, method, path)]` (a JSON body, or a function of the
    request), records what was sent; `refuse[(service, path)]` answers that status instead."""

    routes: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    refuse: dict[tuple[str, str], int] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = SERVICES[request.url.port or 0]
        path, method = request.url.path, request.method
        body = json.loads(request.content) if request.content else None
        self.sent.append(Sent(service, method, path, parse_qs(request.url.query.decode()), body))
        if path == "/auth/login":
            expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
            return httpx.Response(
                200, json={"access_token": "staff-jwt", "expires_at": expires, "roles": ["admin"]}
            )
        assert request.headers.get("authorization") == "Bearer staff-jwt", path
        if (status := self.refuse.get((service, path))) is not None:
            permission = {"reporting": "audit:read", "notification": "messages:read"}
            detail = {
                "permission": permission.get(service, "x:y"),
                "message_es": "Su rol no tiene el permiso.",
                "message_en": "Your role lacks the permission.",
            }
            return httpx.Response(status, json={"detail": detail})
        answer = self.routes.get((service, method, path))
        if answer is None:
            return httpx.Response(404, json={"detail": "not found"})
        if callable(answer):
            result: httpx.Response = answer(request)
            return result
        return httpx.Response(200, json=answer)

    def calls(self, service: str, method: str, path: str) -> list[Sent]:
        return [s for s in self.sent if (s.service, s.method, s.path) == (service, method, path)]


def pdf(_: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=b"%PDF-1.4 sheet", headers={"content-type": "application/pdf"}
    )


def default_routes() -> dict[tuple[str, str, str], Any]:
    page = {"total": 1, "offset": 0, "limit": 25, "items": [participant(PID)]}
    return {
        ("registration", "GET", "/participants"): page,
        ("registration", "GET", f"/participants/{PID}"): participant(PID),
        ("registration", "GET", f"/participants/{MEMBER}"): participant(
            MEMBER, given_name="Ana", family_name="López", status="pending_approval"
        ),
        ("registration", "GET", "/delegations"): [DELEGATION],
        ("registration", "GET", "/delegations/SV"): DELEGATION,
        ("registration", "POST", "/delegations/SV/focal-point-key"): {
            "access_token": FOCAL_TOKEN,
            "token_id": "t-1",
            "expires_at": "2027-05-01T00:00:00Z",
        },
        ("registration", "POST", "/delegations/SV/accreditation"): {
            "approved": [{"outcome": "approved", "participant_id": MEMBER, "status": "allocating"}],
            "refused": [],
        },
        ("registration", "GET", "/delegations/SV/badges.pdf"): pdf,
        ("registration", "GET", "/badges/sheet.pdf"): pdf,
        ("reporting", "GET", "/audit"): {
            "entries": [
                {
                    "event_id": "e1",
                    "type": "registration.submitted",
                    "occurred_at": "2004-10-01T14:00:00Z",
                    "actor": {"subject": "system", "kind": "system", "roles": []},
                },
                {
                    "event_id": "e2",
                    "type": "accreditation.approved",
                    "occurred_at": "2004-10-01T15:00:00Z",
                    "actor": {"subject": "account:ana", "kind": "staff", "roles": ["registrar"]},
                },
            ],
            "next": None,
        },
        ("notification", "GET", "/messages"): {
            "total": 1,
            "offset": 0,
            "limit": 50,
            "items": [
                {
                    "_id": "m1",
                    "message_type": "registration_confirmed",
                    "channel": "email",
                    "person_id": PID,
                    "to": "lucia@example.org",
                    "language": "es",
                    "status": "sent",
                    "sent_at": "2004-10-01T15:01:00Z",
                }
            ],
        },
        ("reporting", "GET", "/statistics"): {
            "expo": {
                "meetings": 4,
                "meetings_confirmed": 2,
                "leads": 7,
                "meetings_by_status": {"requested": 2, "accepted": 2},
            },
            "job_fair": {"posts": 3, "applications": 5},
        },
        ("scheduling", "GET", "/programme/draft"): {"sessions": [SESSION], "conflicts": []},
        ("scheduling", "GET", "/programme/conflicts"): {"errors": [CONFLICT], "warnings": []},
        ("scheduling", "GET", "/programme/releases"): [
            {"number": 1, "published_at": "2004-10-02T12:00:00Z", "note": "Primera"}
        ],
        ("scheduling", "PATCH", "/programme/sessions/B1"): {"code": "B1"},
        ("scheduling", "POST", "/programme/sessions/B1/cancel"): {"code": "B1"},
        ("scheduling", "POST", "/programme/sessions/B1/restore"): {"code": "B1"},
        ("scheduling", "POST", "/programme/releases"): lambda _: httpx.Response(
            201,
            json={
                "release": 2,
                "changes": {
                    "added": [],
                    "moved": ["B1"],
                    "cancelled": ["B3"],
                    "people": [],
                    "updated": [],
                },
                "warnings": [],
                "agenda": "http://x/agenda?release=2",
            },
        ),
        ("expo", "GET", "/exhibitors"): [EXHIBITOR_DOC],
        ("expo", "POST", f"/exhibitors/{EXHIBITOR}/approve"): {
            "exhibitor": {**EXHIBITOR_DOC, "status": "approved"},
            "access_token": EXHIBITOR_TOKEN,
            "token_id": "x-1",
            "expires_at": "2027-05-01T00:00:00Z",
        },
        ("expo", "POST", f"/exhibitors/{EXHIBITOR}/reject"): {
            **EXHIBITOR_DOC,
            "status": "rejected",
        },
        ("expo", "GET", "/booths"): [
            {
                "code": "F01",
                "zone": "finance",
                "tier": "standard",
                "size_m2": 9,
                "exhibitor_id": None,
                "exhibitor_name": None,
                "manual": False,
            }
        ],
        ("expo", "GET", "/floor-plan.svg"): lambda _: httpx.Response(
            200,
            content=b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            headers={"content-type": "image/svg+xml"},
        ),
        ("expo", "POST", "/allocation/run"): [
            {
                "exhibitor_id": EXHIBITOR,
                "booth": "F01",
                "manual": False,
                "explanation": {"code": "free", "es": "F01 estaba libre.", "en": "F01 was free."},
            }
        ],
        ("expo", "POST", "/allocation/reset"): {"released": 3},
        ("expo", "PUT", "/booths/F01/assignment"): {
            "exhibitor_id": EXHIBITOR,
            "booth": "F01",
            "manual": True,
            "explanation": {"code": "manual", "es": "Asignado a mano.", "en": "Assigned by hand."},
        },
        ("expo", "DELETE", "/booths/F01/assignment"): {"booth": "F01", "status": "free"},
        ("expo", "GET", "/jobs"): [
            {"job_id": "j1", "employer_name": "Banco Agrícola", "title": "Cajero", "location": "SS"}
        ],
    }


@pytest.fixture
def services() -> FakeServices:
    return FakeServices(routes=default_routes())


@pytest.fixture
async def web(services: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    async with console(services) as client:
        yield client


def csrf(web: httpx.AsyncClient) -> str:
    return web.cookies["foro_csrf"]


PAGES = [
    "/console/people",
    "/console/people?q=luc&status=confirmed&category=media&country=SV",
    "/console/people?q=l",
    f"/console/people/{PID}",
    "/console/delegations",
    "/console/delegations/SV",
    "/console/badges",
    "/console/badges?category=media",
    "/console/programme",
    "/console/programme?done=saved&code=B1",
    "/console/programme/sessions/B1",
    "/console/expo",
    "/console/expo?status=applied",
    "/console/expo/booths",
    "/console/expo/b2b",
]


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_every_console_page_renders_in_both_languages(
    web: httpx.AsyncClient, lang: str
) -> None:
    await web.get(f"/?lang={lang}")
    for path in PAGES:
        page = await web.get(path)  # strict translations: a missing entry fails the page
        assert page.status_code == 200, (path, page.text[:800])
        assert f'<html lang="{lang}">' in page.text, path
        assert '<link rel="stylesheet" href="/static/console.css' in page.text, path
        # Every form that changes something carries the CSRF token.
        for form in re.findall(r'<form[^>]*method="post".*?</form>', page.text, re.S):
            assert 'name="csrf_token"' in form, (path, form[:200])
        # Every input is labelled.
        for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page.text):
            assert f'for="{input_id}"' in page.text, (path, input_id)
    nav = (await web.get("/console/people")).text
    for href in (
        "/console/people",
        "/console/delegations",
        "/console/badges",
        "/console/programme",
        "/console/expo",
    ):
        assert f'href="{href}"' in nav


async def test_search_passes_the_filters_to_registration(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    page = await web.get("/console/people?q=Luc%C3%ADa&status=confirmed&category=media&country=sv")
    assert "Lucía Prensa" in page.text and f"/console/people/{PID}" in page.text
    [call] = services.calls("registration", "GET", "/participants")
    assert call.params == {
        "q": ["Lucía"],
        "status": ["confirmed"],
        "category": ["media"],
        "country": ["SV"],
        "offset": ["0"],
        "limit": ["25"],
    }
    short = await web.get("/console/people?q=L&lang=en")
    assert "Type at least two characters" in short.text
    assert "q" not in services.calls("registration", "GET", "/participants")[-1].params


async def test_a_participants_story_in_order_with_messages_and_badge(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    page = (await web.get(f"/console/people/{PID}?lang=en")).text
    assert page.index("registration.submitted") < page.index("accreditation.approved")
    assert "Oct 1, 2004, 08:00" in page  # venue time (UTC−6), in the page's language
    assert "registration_confirmed" in page and "Sent" in page
    assert f"/console/participants/{PID}/badge.pdf" in page
    [audit] = services.calls("reporting", "GET", "/audit")
    assert audit.params["participant"] == [PID]
    [messages] = services.calls("notification", "GET", "/messages")
    assert messages.params["person_id"] == [PID]


async def test_a_persons_states_agree_with_what_they_qualify(web: httpx.AsyncClient) -> None:
    # The participant is "Confirmado"; their accreditation (la acreditación) "Aprobada".
    page = (await web.get(f"/console/people/{PID}?lang=es")).text
    assert '<span class="status status-confirmed">Confirmado</span>' in page
    assert "<dt>Acreditación</dt><dd>Aprobada</dd>" in page
    english = (await web.get(f"/console/people/{PID}?lang=en")).text
    assert "<dt>Accreditation</dt><dd>Approved</dd>" in english


async def test_parts_a_role_cannot_see_are_named_not_refused(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    services.refuse[("reporting", "/audit")] = 403
    services.refuse[("notification", "/messages")] = 403
    page = await web.get(f"/console/people/{PID}?lang=es")
    assert page.status_code == 200
    assert "Su rol no puede ver esta parte (audit:read)." in page.text
    assert "Su rol no puede ver esta parte (messages:read)." in page.text
    services.refuse[("notification", "/messages")] = 503
    page = await web.get(f"/console/people/{PID}?lang=en")
    assert "The notification service is not answering" in page.text
    services.refuse[("registration", "/participants")] = 403
    refused = await web.get("/console/people?lang=es")
    assert refused.status_code == 403 and "Su rol no permite hacer esto" in refused.text


async def test_the_focal_points_access_is_shown_once_and_the_delegation_accredited(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    page = await web.get("/console/delegations/SV?lang=en")
    assert "Ana López" in page.text and "Head of delegation" in page.text
    assert "Accredit the pending member" in page.text  # one member: no "the 1 … members"
    assert FOCAL_TOKEN not in page.text
    issued = await web.post(
        "/console/delegations/SV/focal-point-key", data={"csrf_token": csrf(web)}
    )
    assert issued.status_code == 200 and FOCAL_TOKEN in issued.text
    assert "Shown only this once." in issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert FOCAL_TOKEN not in (await web.get("/console/delegations/SV")).text
    accredited = await web.post(
        "/console/delegations/SV/accreditation", data={"csrf_token": csrf(web)}
    )
    assert "1 members approved, 0 refused." in accredited.text
    forged = await web.post("/console/delegations/SV/focal-point-key", data={"csrf_token": "x"})
    assert forged.status_code == 400
    assert len(services.calls("registration", "POST", "/delegations/SV/focal-point-key")) == 1
    sheet = await web.get("/console/delegations/SV/badges.pdf")
    assert (
        sheet.content.startswith(b"%PDF") and "attachment" in sheet.headers["content-disposition"]
    )


async def test_badges_chosen_come_as_one_pdf(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    page = await web.get("/console/badges")
    assert f'name="participant_id" value="{PID}"' in page.text
    other = str(uuid.uuid4())
    sheet = await web.get(
        f"/console/badges/sheet.pdf?participant_id={PID}&participant_id={other}&layout=a6"
    )
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    [call] = services.calls("registration", "GET", "/badges/sheet.pdf")
    assert call.params == {"participant_id": [PID, other], "layout": ["a6"]}
    whole = await web.get("/console/badges/sheet.pdf?category=media")
    assert whole.status_code == 200
    assert services.calls("registration", "GET", "/badges/sheet.pdf")[-1].params["category"] == [
        "media"
    ]
    nothing = await web.get("/console/badges/sheet.pdf?lang=en")
    assert nothing.status_code == 422
    assert "Choose at least one participant, or a category." in nothing.text


async def test_a_session_is_moved_renamed_and_resized_in_venue_time(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    form = (await web.get("/console/programme/sessions/B1")).text
    assert 'value="10:00"' in form and 'value="11:00"' in form
    saved = await web.post(
        "/console/programme/sessions/B1",
        data={
            "csrf_token": csrf(web),
            "day": "2004-11-19",
            "starts": "14:30",
            "ends": "15:30",
            "room": "plenary",
            "title_es": "Remesas y desarrollo",
            "title_en": "Remittances and growth",
            "seats": "80",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/programme?done=saved&code=B1"
    [patch] = services.calls("scheduling", "PATCH", "/programme/sessions/B1")
    assert patch.body == {
        "starts_at": "2004-11-19T14:30",  # no offset: scheduling reads venue time
        "ends_at": "2004-11-19T15:30",
        "title": {"es": "Remesas y desarrollo", "en": "Remittances and growth"},
        "seats": 80,
    }
    notice = await web.get("/console/programme?done=saved&code=B1&lang=en")
    assert "Session B1 saved." in notice.text


async def test_a_wrong_edit_names_the_field_and_a_refusal_is_shown_in_the_form(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    base = {
        "csrf_token": csrf(web),
        "day": "2004-11-18",
        "starts": "10:00",
        "ends": "11:00",
        "room": "plenary",
        "title_es": "Remesas y desarrollo",
        "title_en": "Remittances and development",
        "seats": "",
    }
    await web.get("/?lang=en")
    wrong = await web.post("/console/programme/sessions/B1", data={**base, "starts": "ten"})
    assert wrong.status_code == 422 and "Starts: give a time as HH:MM." in wrong.text
    assert 'value="ten"' in wrong.text  # what was typed stays
    same = await web.post("/console/programme/sessions/B1", data=base)
    assert "Nothing was changed." in same.text
    services.routes[("scheduling", "PATCH", "/programme/sessions/B1")] = lambda _: httpx.Response(
        409, json={"detail": {"reason": "room: plenary is taken", "conflicts": [CONFLICT]}}
    )
    refused = await web.post("/console/programme/sessions/B1", data={**base, "ends": "12:00"})
    assert refused.status_code == 409
    assert "room: plenary is taken" in refused.text
    assert "B1 and B2 use the plenary room at the same time." in refused.text
    assert not services.calls("scheduling", "PATCH", "/programme/sessions/B1")[0].body.get("title")


async def test_cancel_restore_and_publish(web: httpx.AsyncClient, services: FakeServices) -> None:
    cancelled = await web.post(
        "/console/programme/sessions/B1/cancel",
        data={"csrf_token": csrf(web), "reason": "Ponente enfermo"},
    )
    assert cancelled.status_code == 303
    assert services.calls("scheduling", "POST", "/programme/sessions/B1/cancel")[0].body == {
        "reason": "Ponente enfermo"
    }
    restored = await web.post(
        "/console/programme/sessions/B1/restore", data={"csrf_token": csrf(web)}
    )
    assert restored.status_code == 303
    page = (await web.get("/console/programme?lang=en")).text
    assert "B1 and B2 use the plenary room at the same time." in page
    published = await web.post(
        "/console/programme/releases", data={"csrf_token": csrf(web), "note": "Cambio de sala"}
    )
    assert published.status_code == 201 and "Release 2 published" in published.text
    assert services.calls("scheduling", "POST", "/programme/releases")[0].body == {
        "note": "Cambio de sala"
    }
    assert "<dt>Cancelled</dt><dd>B3</dd>" in published.text
    await web.get("/console/programme?lang=es")
    spanish = await web.post("/console/programme/releases", data={"csrf_token": csrf(web)})
    assert "<dt>Canceladas</dt><dd>B3</dd>" in spanish.text  # las sesiones
    await web.get("/console/programme?lang=en")
    services.routes[("scheduling", "POST", "/programme/releases")] = lambda _: httpx.Response(
        409,
        json={
            "detail": {
                "reason": "programme: 1 conflict(s) must be fixed before publishing",
                "conflicts": [CONFLICT],
            }
        },
    )
    refused = await web.post("/console/programme/releases", data={"csrf_token": csrf(web)})
    assert refused.status_code == 409 and "Not published" in refused.text
    assert "B1 and B2 use the plenary room at the same time." in refused.text
    forged = await web.post("/console/programme/releases", data={"csrf_token": "nope"})
    assert forged.status_code == 400
    assert len(services.calls("scheduling", "POST", "/programme/releases")) == 3


async def test_an_exhibitor_is_approved_with_its_token_shown_once_or_rejected(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    await web.get("/?lang=en")
    approved = await web.post(
        f"/console/expo/exhibitors/{EXHIBITOR}/approve", data={"csrf_token": csrf(web)}
    )
    assert approved.status_code == 200 and EXHIBITOR_TOKEN in approved.text
    assert "Banco Agrícola approved" in approved.text
    assert approved.headers["cache-control"] == "no-store"
    short = await web.post(
        f"/console/expo/exhibitors/{EXHIBITOR}/reject",
        data={"csrf_token": csrf(web), "reason": "no"},
    )
    assert short.status_code == 422 and "Reason: give the reason" in short.text
    assert not services.calls("expo", "POST", f"/exhibitors/{EXHIBITOR}/reject")
    rejected = await web.post(
        f"/console/expo/exhibitors/{EXHIBITOR}/reject",
        data={"csrf_token": csrf(web), "reason": "No ofrece servicios a migrantes"},
    )
    assert rejected.status_code == 303
    assert services.calls("expo", "POST", f"/exhibitors/{EXHIBITOR}/reject")[0].body == {
        "reason": "No ofrece servicios a migrantes"
    }
    shown = await web.get(rejected.headers["location"])
    assert "Banco Agrícola rejected." in shown.text


async def test_booths_allocated_reset_assigned_and_freed(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    await web.get("/?lang=en")
    page = await web.get("/console/expo/booths")
    assert 'src="/console/expo/floor-plan.svg?lang=en"' in page.text
    plan = await web.get("/console/expo/floor-plan.svg?lang=en")
    assert plan.headers["content-type"].startswith("image/svg+xml") and b"<svg" in plan.content
    assert "script" not in plan.headers["content-security-policy"]
    ran = await web.post("/console/expo/allocation/run", data={"csrf_token": csrf(web)})
    assert ran.status_code == 303
    assert "The rules ran: 1 answer." in (await web.get(ran.headers["location"])).text
    reset = await web.post(
        "/console/expo/allocation/reset", data={"csrf_token": csrf(web), "reason": "Nuevo plano"}
    )
    assert "3 booths freed." in (await web.get(reset.headers["location"])).text
    assigned = await web.post(
        "/console/expo/booths/assign",
        data={
            "csrf_token": csrf(web),
            "booth": "F01",
            "exhibitor_id": EXHIBITOR,
            "reason": "Patrocinador",
            "displace": "true",
        },
    )
    shown = (await web.get(assigned.headers["location"])).text
    assert "Booth F01 assigned. Assigned by hand." in shown
    assert services.calls("expo", "PUT", "/booths/F01/assignment")[0].body == {
        "exhibitor_id": EXHIBITOR,
        "reason": "Patrocinador",
        "displace": True,
    }
    freed = await web.post(
        "/console/expo/booths/F01/free", data={"csrf_token": csrf(web), "reason": "Se retiró"}
    )
    assert freed.status_code == 303
    assert services.calls("expo", "DELETE", "/booths/F01/assignment")[0].params == {
        "reason": ["Se retiró"]
    }
    services.routes[("expo", "POST", "/allocation/run")] = lambda _: httpx.Response(
        409,
        json={"detail": {"message_es": "No hay stands libres.", "message_en": "No free booth."}},
    )
    refused = await web.post("/console/expo/allocation/run", data={"csrf_token": csrf(web)})
    assert refused.status_code == 409 and "No free booth." in refused.text


async def test_the_b2b_overview_degrades_without_statistics(
    web: httpx.AsyncClient, services: FakeServices
) -> None:
    page = (await web.get("/console/expo/b2b?lang=en")).text
    assert "Cajero" in page and ">4<" in page.replace("</span>", "<")
    # Meetings by state, each state named for people (not expo's codes).
    assert "<dt>Requested</dt>" in page and "<dt>Accepted</dt>" in page
    spanish = (await web.get("/console/expo/b2b?lang=es")).text
    assert "<dt>Solicitada</dt>" in spanish and "<dt>Aceptada</dt>" in spanish
    # The count of meetings requested agrees with "reuniones" (msgctxt "meetings").
    assert "</span>Solicitadas</li>" in spanish
    assert "<code>accepted</code>" not in spanish
    services.refuse[("reporting", "/statistics")] = 403
    degraded = await web.get("/console/expo/b2b?lang=es")
    assert degraded.status_code == 200 and "Su rol no puede ver esta parte" in degraded.text

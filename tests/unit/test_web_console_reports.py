"""The console's reporting pages and the rapporteur's page, against a fake reporting service:
every page in Spanish and English with strict translations; approving and returning
conclusions; the action plan, budget entries, the Memoria built, previewed and published; a
rapporteur drafting, editing and submitting their session's conclusion."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.web.pages.console_reports import token_sessions
from tests.support.web_console import (
    FakeConsoleServices,
    assert_page,
    console,
    csrf,
    staff_token,
)

CID, DRAFT_ID, ITEM = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
TEXT = {
    "title": "Remesas productivas",
    "key_issues": "Costo de los envíos.",
    "discussion": "Los panelistas…",
    "way_forward": "Crear un fondo…",
}
SUBMITTED: dict[str, Any] = {
    "id": CID,
    "forum_id": "crm-2004",
    "session_code": "B2.1",
    "texts": {"es": TEXT},
    "status": "submitted",
    "rapporteur": "Relatoría B2",
}
DRAFT: dict[str, Any] = {**SUBMITTED, "id": DRAFT_ID, "status": "draft", "rapporteur": None}
ACTION_ITEM = {
    "id": ITEM,
    "forum_id": "crm-2004",
    "title": {"es": "Fondo de remesas", "en": "Remittance fund"},
    "owner": {"kind": "country", "code": "SV", "name": "El Salvador"},
    "deadline": "2005-06-30",
    "conclusion_ids": [],
    "status": "planned",
    "notes": [{"text": "Primera reunión", "at": "2005-01-10T10:00:00Z", "evidence_url": None}],
    "overdue": True,
}
BUDGET = {
    "currency": "USD",
    "lines": [
        {
            "line": "panelist_support",
            "planned_cents": 500_000,
            "executed_cents": 450_000,
            "committed_cents": 100_000,
            "consumed_cents": 550_000,
            "percent": 110.0,
            "alerted": [80, 100],
        }
    ],
}
VERSIONS = [
    {
        "report_id": "memoria-es-1",
        "kind": "memoria",
        "language": "es",
        "final": False,
        "files": [
            {"format": "html", "url": "/memoria/memoria-es-1.html"},
            {"format": "pdf", "url": "/memoria/memoria-es-1.pdf"},
        ],
    },
    {"report_id": "base-1", "kind": "base_document", "language": "es", "final": True, "files": []},
]


def fake_services() -> FakeConsoleServices:
    """The services as these pages need them (also behind the browser tests' whole site)."""
    fake = FakeConsoleServices(token=staff_token(sessions=["B2.1", "B3.2"]))
    fake.on("reporting", "GET", "/conclusions", [SUBMITTED, DRAFT])
    fake.on("reporting", "POST", f"/conclusions/{CID}/approve", {**SUBMITTED, "status": "approved"})
    fake.on("reporting", "POST", f"/conclusions/{CID}/return", {**SUBMITTED, "status": "draft"})
    fake.on("reporting", "POST", "/conclusions", httpx.Response(201, json=DRAFT))
    fake.on("reporting", "PUT", f"/conclusions/{DRAFT_ID}", DRAFT)
    fake.on("reporting", "POST", f"/conclusions/{DRAFT_ID}/submit", SUBMITTED)
    fake.on("reporting", "GET", "/action-items", [ACTION_ITEM])
    fake.on("reporting", "POST", "/action-items", httpx.Response(201, json=ACTION_ITEM))
    fake.on("reporting", "PATCH", f"/action-items/{ITEM}", ACTION_ITEM)
    fake.on("reporting", "GET", "/budget", BUDGET)
    fake.on("reporting", "POST", "/budget/entries", httpx.Response(201, json=BUDGET))
    fake.on("reporting", "GET", "/reports", VERSIONS)
    fake.on("reporting", "POST", "/memoria", httpx.Response(201, json=VERSIONS[0]))
    fake.on(
        "reporting",
        "GET",
        "/memoria/memoria-es-1.html",
        httpx.Response(200, text="<html><style>h1{}</style><h1>Memoria</h1></html>"),
    )
    fake.on(
        "reporting",
        "GET",
        "/memoria/memoria-es-1.pdf",
        httpx.Response(
            200, content=b"%PDF-1.7 memoria", headers={"content-type": "application/pdf"}
        ),
    )
    return fake


@pytest.fixture
def services() -> FakeConsoleServices:
    return fake_services()


PAGES = [
    "/console/reports",
    "/console/reports/conclusions?status=submitted",
    "/console/reports/conclusions",
    "/console/reports/action-plan",
    "/console/reports/budget",
    "/console/reports/memoria",
    "/console/rapporteur",
    f"/console/rapporteur?edit={DRAFT_ID}",
]


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_every_reports_page_renders_in_both_languages(
    services: FakeConsoleServices, lang: str
) -> None:
    async with console(services, lang) as web:
        for path in PAGES:
            assert_page(await web.get(path), lang)
        review = await web.get("/console/reports/conclusions?status=submitted")
        assert f'action="/console/reports/conclusions/{CID}/approve"' in review.text
        assert f"/conclusions/{DRAFT_ID}/approve" not in review.text  # a draft is not reviewed
        budget = await web.get("/console/reports/budget")
        assert ("5.500,00" if lang == "es" else "5,500.00") in budget.text and (
            "supera lo previsto" if lang == "es" else "over plan"
        ) in budget.text
        plan = await web.get("/console/reports/action-plan")
        assert ("Fondo de remesas" if lang == "es" else "Remittance fund") in plan.text
        noted = "10 ene 2005" if lang == "es" else "Jan 10, 2005"
        assert f"{noted} Primera reunión" in plan.text  # its progress notes, dated in the language
        memoria = await web.get("/console/reports/memoria")
        assert 'href="/console/reports/memoria/memoria-es-1.pdf"' in memoria.text
        assert "base-1" not in memoria.text  # the base document is not a Memoria version


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_secretariat_approves_or_returns_a_submitted_conclusion(
    services: FakeConsoleServices, lang: str
) -> None:
    async with console(services, lang) as web:
        await web.get("/console/reports/conclusions")
        approved = await web.post(
            f"/console/reports/conclusions/{CID}/approve", data={"csrf_token": csrf(web)}
        )
        assert approved.status_code == 303
        after = await web.get(approved.headers["location"])
        assert (
            "aparecerá en la Memoria" if lang == "es" else "appear in the Memoria"
        ) in after.text
        returned = await web.post(
            f"/console/reports/conclusions/{CID}/return", data={"csrf_token": csrf(web)}
        )
        assert returned.headers["location"].endswith("done=returned")
        services.routes[("reporting", "POST", f"/conclusions/{CID}/approve")] = httpx.Response(
            409, json={"detail": "status: only a submitted conclusion can be approved"}
        )
        refused = await web.post(
            f"/console/reports/conclusions/{CID}/approve", data={"csrf_token": csrf(web)}
        )
        assert_page(refused, lang, 409)
        assert "only a submitted conclusion can be approved" in refused.text
        forged = await web.post(
            f"/console/reports/conclusions/{CID}/return", data={"csrf_token": "x"}
        )
        assert forged.status_code == 400
    assert len(services.calls("reporting", "POST", f"/conclusions/{CID}/return")) == 1


async def test_the_action_plan_gets_a_line_and_its_progress(services: FakeConsoleServices) -> None:
    async with console(services, "es") as web:
        await web.get("/console/reports/action-plan")
        added = await web.post(
            "/console/reports/action-plan",
            data={
                "title_es": "Fondo de remesas",
                "title_en": "",
                "owner_kind": "country",
                "owner_code": "SV",
                "owner_name": "El Salvador",
                "deadline": "2005-06-30",
                "csrf_token": csrf(web),
            },
        )
        assert added.status_code == 303
        (created,) = services.calls("reporting", "POST", "/action-items")
        assert created.body == {
            "title": {"es": "Fondo de remesas"},
            "owner": {"kind": "country", "code": "SV", "name": "El Salvador"},
            "deadline": "2005-06-30",
        }
        updated = await web.post(
            f"/console/reports/action-plan/{ITEM}",
            data={"status": "in_progress", "note": "Reunión con el BCR", "csrf_token": csrf(web)},
        )
        assert updated.status_code == 303
        (patch,) = services.calls("reporting", "PATCH", f"/action-items/{ITEM}")
        assert patch.body == {"status": "in_progress", "note": "Reunión con el BCR"}
        incomplete = await web.post(
            "/console/reports/action-plan",
            data={
                "title_es": "x",
                "owner_code": "SV",
                "owner_name": "",
                "deadline": "2005-06-30",
                "csrf_token": csrf(web),
            },
        )
        assert_page(incomplete, "es", 422)
        assert "Responsable: indique su código y su nombre." in incomplete.text
    assert len(services.calls("reporting", "POST", "/action-items")) == 1


async def test_a_budget_entry_is_recorded_once_per_form(services: FakeConsoleServices) -> None:
    async with console(services, "en") as web:
        page = await web.get("/console/reports/budget")
        entry_id = page.text.split('name="entry_id" value="')[1].split('"')[0]
        form = {
            "line": "panelist_support",
            "kind": "expense",
            "amount": "1,250.5",
            "description": "Pasajes B3",
            "entry_id": entry_id,
            "csrf_token": csrf(web),
        }
        recorded = await web.post("/console/reports/budget/entries", data=form)
        assert recorded.status_code == 303
        (entry,) = services.calls("reporting", "POST", "/budget/entries")
        assert entry.body == {
            "line": "panelist_support",
            "kind": "expense",
            "amount": "1250.50",
            "description": "Pasajes B3",
            "entry_id": entry_id,
        }
        wrong = await web.post("/console/reports/budget/entries", data={**form, "amount": "12.345"})
        assert_page(wrong, "en", 422)
        assert "Amount: write a number" in wrong.text
    assert len(services.calls("reporting", "POST", "/budget/entries")) == 1


async def test_the_memoria_is_built_previewed_and_published(services: FakeConsoleServices) -> None:
    async with console(services, "es") as web:
        await web.get("/console/reports/memoria")
        built = await web.post(
            "/console/reports/memoria",
            data={"language": "en", "final": "false", "csrf_token": csrf(web)},
        )
        assert built.headers["location"].endswith("done=built")
        html = await web.get("/console/reports/memoria/memoria-es-1.html")
        assert html.status_code == 200 and "<h1>Memoria</h1>" in html.text
        assert "sandbox" in html.headers["content-security-policy"]
        assert html.headers["cache-control"] == "private, no-store"
        pdf = await web.get("/console/reports/memoria/memoria-es-1.pdf")
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
        published = await web.post(
            "/console/reports/memoria",
            data={"language": "es", "final": "true", "csrf_token": csrf(web)},
        )
        assert published.headers["location"].endswith("done=published")
        builds = services.calls("reporting", "POST", "/memoria")
        assert [b.params for b in builds] == [
            {"lang": ["en"], "final": ["false"]},
            {"lang": ["es"], "final": ["true"]},
        ]
        services.refuse(
            "reporting",
            "POST",
            "/memoria",
            403,
            code="permission_missing",
            permission="reports:publish",
            message_es="Su acceso no incluye el permiso «reports:publish».",
            message_en="Your access does not include the permission “reports:publish”.",
        )
        refused = await web.post(
            "/console/reports/memoria",
            data={"language": "es", "final": "true", "csrf_token": csrf(web)},
        )
    assert_page(refused, "es", 403)
    assert "Su rol no permite hacer esto" in refused.text and "reports:publish" in refused.text


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_a_rapporteur_drafts_edits_and_submits_their_sessions_conclusion(
    services: FakeConsoleServices, lang: str
) -> None:
    async with console(services, lang) as web:
        page = await web.get("/console/rapporteur")
        assert '<option value="B2.1"' in page.text and '<option value="B3.2"' in page.text
        form = {
            "session_code": "B2.1",
            "es_title": "Remesas productivas",
            "es_key_issues": "Costo de los envíos.",
            "csrf_token": csrf(web),
        }
        saved = await web.post("/console/rapporteur/conclusions", data=form)
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
        (created,) = services.calls("reporting", "POST", "/conclusions")
        assert created.body == {
            "session_code": "B2.1",
            "texts": {
                "es": {
                    "title": "Remesas productivas",
                    "key_issues": "Costo de los envíos.",
                    "discussion": "",
                    "way_forward": "",
                }
            },
            "rapporteur": None,
        }
        editing = await web.get(f"/console/rapporteur?edit={DRAFT_ID}")
        assert f'name="conclusion_id" value="{DRAFT_ID}"' in editing.text
        assert "Los panelistas…" in editing.text
        edited = await web.post(
            "/console/rapporteur/conclusions",
            data={**form, "conclusion_id": DRAFT_ID, "en_title": "Productive remittances"},
        )
        assert edited.status_code == 303
        (put,) = services.calls("reporting", "PUT", f"/conclusions/{DRAFT_ID}")
        assert sorted(put.body["texts"]) == ["en", "es"]
        submitted = await web.post(
            f"/console/rapporteur/conclusions/{DRAFT_ID}/submit", data={"csrf_token": csrf(web)}
        )
        assert submitted.headers["location"].endswith("done=submitted")
        assert len(services.calls("reporting", "POST", f"/conclusions/{DRAFT_ID}/submit")) == 1

        untitled = await web.post("/console/rapporteur/conclusions", data={**form, "es_title": " "})
        assert_page(untitled, lang, 422)
        assert "Costo de los envíos." in untitled.text  # what was written is kept
        services.refuse(
            "reporting",
            "POST",
            "/conclusions",
            403,
            code="session_not_assigned",
            message_es="La sesión B9 no le está asignada.",
            message_en="Session B9 is not assigned to you.",
        )
        elsewhere = await web.post(
            "/console/rapporteur/conclusions", data={**form, "session_code": "B9"}
        )
    assert_page(elsewhere, lang, 403)
    assert ("no le está asignada" if lang == "es" else "not assigned to you") in elsewhere.text
    assert "Remesas productivas" in elsewhere.text


def test_the_sessions_are_read_from_the_tokens_claims_only_as_a_hint() -> None:
    assert token_sessions(staff_token(sessions=["B3.2", "B2.1"])) == ["B2.1", "B3.2"]
    assert token_sessions(staff_token()) == []
    assert token_sessions("not-a-jwt") == []
    assert token_sessions("a.!!!.c") == []

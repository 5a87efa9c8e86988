"""The Memoria as people read it: the PDF's extracted text, the HTML, the exports."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting

CONCLUSIONS = [
    ("B2.1", {"es": "Abaratar el envío de remesas", "en": "Cheaper remittance transfers"}),
    (
        "B3.1",
        {
            "es": "Alianzas público-privadas para el retorno",
            "en": "Public-private partnerships for return",
        },
    ),
]
OWNERS = [
    {
        "kind": "country",
        "code": "SV",
        "name": "El Salvador",
        "contact_email": "focal@rree.gob.sv",
        "language": "es",
    },
    {
        "kind": "organisation",
        "code": "iom",
        "name": "Organización Internacional para las Migraciones",
        "language": "es",
    },
    {"kind": "sector", "code": "finance_remittances", "name": "Remesadoras", "language": "en"},
]


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )


async def test_the_memoria_pdf_carries_forum_conclusions_and_owners_and_only_consenting_participants(
    reporting: RunningReporting,
) -> None:
    listed = ev.person(
        given_name="Óscar",
        family_name="Núñez",
        organisation="Asociación Salvadoreños en el Exterior",
    )
    unlisted = ev.person(
        given_name="Zacarías",
        family_name="Sinlista",
        consents={"privacy_policy": True, "listed_publicly": False},
    )
    forgotten = ev.person(given_name="Eréndira", family_name="Borrada")
    await reporting.publish(
        *(ev.registration("registration.confirmed", p, 1) for p in (listed, unlisted, forgotten)),
        ev.checked_in(listed, 2),
        ev.erased(forgotten, 3),
    )

    async with reporting.http() as http:
        approved = []
        for session, titles in CONCLUSIONS:
            texts = {
                lang: {
                    "title": title,
                    "key_issues": "Costos y acceso",
                    "discussion": "Debate amplio",
                    "way_forward": "Mesa de trabajo",
                }
                for lang, title in titles.items()
            }
            drafted = await http.post(
                "/conclusions", json={"session_code": session, "texts": texts, "rapporteur": "R"}
            )
            assert drafted.status_code == 201, drafted.text
            conclusion_id = drafted.json()["id"]
            assert (
                await http.post(f"/conclusions/{conclusion_id}/approve")
            ).status_code == 409  # not submitted yet
            assert (await http.post(f"/conclusions/{conclusion_id}/submit")).json()[
                "status"
            ] == "submitted"
            assert (await http.post(f"/conclusions/{conclusion_id}/approve")).json()[
                "status"
            ] == "approved"
            approved.append(conclusion_id)
        draft = await http.post(
            "/conclusions",
            json={"session_code": "B1.1", "texts": {"es": {"title": "Borrador sin aprobar"}}},
        )
        assert draft.status_code == 201
        for number, owner in enumerate(OWNERS):
            response = await http.post(
                "/action-items",
                json={
                    "title": {"es": f"Línea de acción {number}", "en": f"Line of action {number}"},
                    "owner": owner,
                    "deadline": "2005-06-30",
                    "conclusion_ids": approved[:1],
                },
            )
            assert response.status_code == 201, response.text
        await reporting.settled()

        documents = {}
        for lang in ("es", "en"):
            generated = await http.post("/memoria", params={"lang": lang})
            assert generated.status_code == 201, generated.text
            urls = {f["format"]: f["url"] for f in generated.json()["files"]}
            pdf, html = await http.get(urls["pdf"]), await http.get(urls["html"])
            assert pdf.headers["content-type"] == "application/pdf"
            documents[lang] = (pdf_text(pdf.content), html.text)
        csv_export = (await http.get("/exports/participants.csv")).content.decode("utf-8-sig")
        xlsx = load_workbook(
            io.BytesIO((await http.get("/exports/memoria.xlsx", params={"lang": "en"})).content)
        )

    for lang, forum_name in (
        ("es", "Foro: El Sector Privado y las Migraciones"),
        ("en", "Forum: The Private Sector and Migration"),
    ):
        text, html = documents[lang]
        assert forum_name in text
        for _, titles in CONCLUSIONS:
            assert titles[lang] in text and titles[lang] in html
            assert titles["en" if lang == "es" else "es"] not in text
        for owner in OWNERS:
            assert owner["name"] in text
        assert "Borrador sin aprobar" not in text
        assert "Núñez" in text and "Óscar" in text
        assert "Sinlista" not in text and "Zacarías" not in html
        assert "Borrada" not in text and "Eréndira" not in html
    assert "Núñez" in csv_export and "Sinlista" not in csv_export and "Borrada" not in csv_export
    assert [row[1] for row in xlsx["conclusions"].iter_rows(min_row=2, values_only=True)] == [
        t["en"] for _, t in CONCLUSIONS
    ]

    await reporting.settled()
    await reporting.tap.drain()
    # Delivery is at least once (a publish retried after a lost confirm): count distinct events.
    generated_events = list(
        {e["event_id"]: e for e in reporting.tap.of_type("report.generated")}.values()
    )
    assert sorted(e["language"] for e in generated_events) == ["en", "es"]
    assert all(
        len(e["files"]) == 2 and all(len(f["sha256"]) == 64 for f in e["files"])
        for e in generated_events
    )
    assert len({e["event_id"] for e in reporting.tap.of_type("conclusion.approved")}) == 2


async def test_the_base_document_renders_the_packs_framing_in_english(
    reporting: RunningReporting,
) -> None:
    async with reporting.http() as http:
        generated = await http.post("/base-document", params={"lang": "en"})
        assert generated.status_code == 201, generated.text
        pdf_url = next(f["url"] for f in generated.json()["files"] if f["format"] == "pdf")
        text = pdf_text((await http.get(pdf_url)).content)
    pack = reporting.deps.pack
    assert pack.forum.name.en in text
    assert "Regional Conference on Migration" in text
    assert "Support for inviting panellists" in text and "US$40,000.00" in text


async def test_the_final_memoria_is_generated_once_per_language_when_the_forum_ends(
    reporting: RunningReporting,
) -> None:
    from datetime import timedelta

    from services.reporting.publishing.handlers import forum_ends_at, generate_final_if_due

    ends = forum_ends_at(reporting.deps.pack)
    reporting.clock.now = ends + timedelta(hours=1)
    assert await generate_final_if_due(reporting.deps) == []  # nothing happened at this forum
    await reporting.publish(ev.registration("registration.confirmed", ev.person(), 1))
    await reporting.settled()
    reporting.clock.now = ends - timedelta(minutes=1)
    assert await generate_final_if_due(reporting.deps) == []
    reporting.clock.now = ends + timedelta(hours=1)
    made = await generate_final_if_due(reporting.deps)
    assert [report_id.split("-")[1] for report_id in made] == ["es", "en"]
    assert await generate_final_if_due(reporting.deps) == []
    await reporting.settled()
    await reporting.tap.drain()
    finals = {e["event_id"]: e for e in reporting.tap.of_type("report.generated") if e["final"]}
    assert sorted(e["language"] for e in finals.values()) == ["en", "es"]

"""The Memoria and the base document: one HTML, printed to PDF by WeasyPrint, read back as a
reader would — the table of contents, the running headers, the numbered tables and figures, the
charts' alt text, the words for empty data and for status codes, in Spanish and English."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pypdf import PdfReader

from services.reporting.projections.statistics import statistics
from services.reporting.publishing.base_document import build_base_document
from services.reporting.publishing.charts import AMBER, GREEN, RED, bar_colour, chart_svg
from services.reporting.publishing.content import build_memoria
from services.reporting.publishing.render import render_html, render_pdf
from shared.pack import load_pack

AT = datetime(2004, 11, 19, tzinfo=UTC)
FORUM = "Foro: El Sector Privado y las Migraciones"


def people(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [
        {
            "_id": str(number),
            "family_name": f"Núñez-{number}",
            "given_name": "Íñigo",
            "organisation": "Asociación de Salvadoreños en Los Ángeles y sus Familias Unidas"
            if number % 2
            else "OIM",
            "country": "SV",
            "status": "confirmed",
            "category": "business_association",
            "language": "es",
            **fields,
        }
        for number in range(count)
    ]


def memoria(
    lang: str,
    title: str = "Las remesas",
    participants: list[dict[str, Any]] | None = None,
    budget: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    pack = load_pack()
    participants = participants or []
    inputs = {
        "statistics": statistics(pack, participants, [], {}),
        "conclusions": [{"_id": "c", "session_code": "B2.1", "texts": {"es": {"title": title}}}],
        "action_items": [],
        "budget": budget or [],
        "participants": participants,
    }
    return build_memoria(pack, lang, inputs, AT, today=date(2004, 11, 19))


def pages(pdf: bytes) -> list[str]:
    """Each page's text, its whitespace runs made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@cache
def sample(lang: str) -> tuple[str, list[str]]:
    """A Memoria with participants of three statuses, check-ins and a budget: HTML and pages."""
    crowd = people(12) + people(3, status="waitlisted") + people(2, status="pending_approval")
    for number, person in enumerate(crowd):
        person["registered_as_of"] = f"2004-10-{10 + number % 4:02d}T15:00:00.000000Z|{number}"
    for person in crowd[:5]:
        person["checkins"] = {
            "a": {"day": "2004-11-18", "point": "plenary", "as_of": "2004-11-18T15:00:00Z"}
        }
    budget = [
        {
            "line": "consultancies",
            "planned_cents": 2_000_000,
            "committed_cents": 1_000_000,
            "executed_cents": 700_000,
            "consumed_cents": 1_700_000,
            "percent": 85.0,
        },
        {
            "line": "panelist_support",
            "planned_cents": 500_000,
            "committed_cents": 0,
            "executed_cents": 100_000,
            "consumed_cents": 100_000,
            "percent": 20.0,
        },
    ]
    document = memoria(lang, participants=crowd, budget=budget)
    return render_html(document), pages(render_pdf(document))


def test_html_escapes_what_rapporteurs_write() -> None:
    html = render_html(memoria("es", "<script>alert(1)</script> «Remesas»"))
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "«Remesas»" in html


def test_pdf_embeds_the_bundled_font_that_renders_spanish() -> None:
    pdf = render_pdf(memoria("es", "Niñez, señas y acción"))
    text = " ".join(pages(pdf))
    assert "Niñez, señas y acción" in text and "Programa tal como se realizó" in text
    fonts = {
        str(font["/BaseFont"]).split("+")[-1]
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts == {"foro-sans", "foro-sans-Bold"}, fonts  # the bundled files, by their @font-face


def test_a_conclusion_only_in_spanish_appears_in_the_english_memoria_marked_as_such() -> None:
    html = render_html(memoria("en", "Migración y desarrollo"))
    assert "Migración y desarrollo" in html and "Original text in Spanish" in html


def test_the_table_of_contents_gives_each_sections_page() -> None:
    for lang, first in (("es", "1. Propósito del foro"), ("en", "1. Purpose of the forum")):
        _, text = sample(lang)
        contents = text[1]
        entries = re.findall(r"(\d)\. ([^.]+?) \.{3,}\s*(\d+)", contents)
        assert len(entries) == 8, contents
        for number, title, page in entries:
            # The section's heading opens on the page the contents give.
            assert f"{number}. {title}" in text[int(page) - 1], (title, page)
        assert first in contents


def test_every_page_but_the_cover_carries_the_forum_and_section_as_running_header() -> None:
    _, text = sample("es")
    assert f"{FORUM} ·" not in text[0]  # the cover has none
    assert f"{FORUM} · Contenido" in text[1]
    assert f"{FORUM} · 1. Propósito del foro" in text[2]
    assert all(re.search(rf"{FORUM} · \d\. ", page) for page in text[2:])
    assert all(
        page.rstrip().endswith(str(number)) for number, page in enumerate(text, 1) if number > 1
    )


def test_tables_and_figures_are_numbered_with_their_captions_in_either_language() -> None:
    _, text = sample("es")
    whole = " ".join(text)
    assert "Cuadro 1. Programa del 18 de noviembre de 2004" in whole
    assert "Cuadro 2. Programa del 19 de noviembre de 2004" in whole
    assert "Figura 1. Ocupación de las sesiones" in whole or "Figura 1. Participantes" in whole
    numbers = [int(n) for n in re.findall(r"Figura (\d+)\.", whole)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 4
    _, text = sample("en")
    whole = " ".join(text)
    assert "Table 1. Programme of November 18, 2004" in whole
    assert re.search(r"Figure \d+\. Confirmed participants by category", whole)


def test_charts_are_svg_images_with_alt_text_saying_their_numbers() -> None:
    html, _ = sample("es")
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)">', html)
    alts = [alt for _, alt in images]
    assert any(
        alt.startswith("Participantes confirmados por categoría:") and "12" in alt for alt in alts
    ), alts
    assert any("Consultorías" in alt or "85,0" in alt for alt in alts), alts
    assert "Acreditaciones en sitio por día" in html
    signups = next(alt for alt in alts if alt.startswith("Inscripciones acumuladas por día"))
    assert signups.endswith("13 oct 17.")  # the running total reaches every sign-up
    svg = base64.b64decode(images[0][0]).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "dc:date" not in svg


def test_charts_draw_the_same_bytes_for_the_same_data() -> None:
    block = {
        "type": "chart",
        "chart": "bars",
        "caption": "x",
        "labels": ["a", "b"],
        "values": [3.0, 1.0],
        "value_labels": ["3", "1"],
    }
    assert chart_svg(block) == chart_svg(block)


def test_budget_bars_turn_amber_at_80_percent_and_red_at_100() -> None:
    block = {"alerts": [0.8, 1.0]}
    assert [bar_colour(block, v) for v in (0.5, 0.8, 0.99, 1.0, 1.3)] == [
        GREEN,
        AMBER,
        AMBER,
        RED,
        RED,
    ]


def test_empty_data_is_said_in_words_not_columns_of_zeros() -> None:
    for lang, sentences, column in (
        (
            "es",
            ["Aún no se registraron entradas", "Aún no se registraron entradas en sitio"],
            "Asistencia",
        ),
        (
            "en",
            [
                "No check-ins were recorded at the sessions yet",
                "No check-ins were recorded on site",
            ],
            "Attended",
        ),
    ):
        text = " ".join(pages(render_pdf(memoria(lang))))
        assert all(sentence in text for sentence in sentences), text
        assert column not in text
        assert "0 / 0" not in text and "0,0 %" not in text and "0.0%" not in text
    html = render_html(memoria("es"))
    assert "<img" not in html  # no chart of nothing
    assert "Aún no hay datos" not in html or "Participantes confirmados" in html


def test_status_codes_are_written_as_words() -> None:
    _, text = sample("es")
    whole = " ".join(text)
    assert "Cuadro 4. Inscripciones por estado" in whole
    assert "Confirmados 12" in whole and "En lista de espera 3" in whole
    assert "Pendientes de aprobación 2" in whole
    assert not re.search(r"\b(confirmed|waitlisted|pending_approval)\b", whole)
    _, text = sample("en")
    whole = " ".join(text)
    assert "Pending approval 2" in whole and "pending_approval" not in whole


def test_a_programme_code_is_never_split_across_lines() -> None:
    for lang in ("es", "en"):
        _, text = sample(lang)
        raw = " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(memoria(lang)))).pages
        )
        assert "EXPO-OPEN" in raw and not re.search(r"EXPO-?\s+-?OPEN|EXPO-O\s", raw)
        assert "EXPO-OPEN" in " ".join(text)


def test_dates_and_amounts_follow_the_language() -> None:
    _, es = sample("es")
    _, en = sample("en")
    assert "18–19 de noviembre de 2004" in es[0] and "Nov 18 – 19, 2004" in en[0]
    assert "18 de noviembre de 2004, 18:00" in es[0]
    assert "20.000,00 US$" in " ".join(es) and "US$20,000.00" in " ".join(en)
    assert "85,0" in " ".join(es) and "85.0%" in " ".join(en)


def test_the_participant_list_reads_back_whole_over_pages() -> None:
    listed = people(300)
    text = " ".join(pages(render_pdf(memoria("es", participants=listed))))
    assert all(f"Núñez-{number}, Íñigo" in text for number in range(300))
    assert "Familias Unidas" in text and "300 personas" in text


def test_a_tables_cells_are_escaped_in_html() -> None:
    listed = [{"_id": "1", "family_name": "<b>Núñez</b>", "given_name": "&", "country": "SV"}]
    html = render_html(memoria("es", participants=listed))
    assert "<b>Núñez" not in html and "&lt;b&gt;Núñez&lt;/b&gt;, &amp;" in html
    assert "El Salvador" in html


def test_the_base_document_gets_the_same_layout() -> None:
    pack = load_pack()
    for lang, caption, total in (
        ("es", "Cuadro 1. Presupuesto estimado por rubro", "US$"),
        ("en", "Table 1. Estimated budget by line", "US$"),
    ):
        text = pages(render_pdf(build_base_document(pack, lang, AT)))
        whole = " ".join(text)
        assert caption in whole and total in whole
        assert re.search(r"1\. [^.]+ \.{3,}\s*\d", text[1])  # contents with page numbers
        assert f"{pack.forum.name.get(lang)} ·" not in text[0]


def test_a_table_over_pages_repeats_its_header_and_writes_dates_in_the_language() -> None:
    pack = load_pack()
    items = [
        {
            "title": {"es": f"Línea de acción {number}", "en": f"Line of action {number}"},
            "owner": {"name": "OIM", "kind": "organisation"},
            "deadline": "2005-06-30",
            "status": "in_progress",
            "conclusion_ids": [],
        }
        for number in range(90)
    ]
    for lang, header, deadline, status in (
        ("es", "Responsable", "30 jun 2005", "en curso"),
        ("en", "Owner", "Jun 30, 2005", "in progress"),
    ):
        inputs = {
            "statistics": statistics(pack, [], [], {}),
            "conclusions": [],
            "action_items": items,
            "budget": [],
            "participants": [],
        }
        document = build_memoria(pack, lang, inputs, AT, today=date(2004, 11, 19))
        text = pages(render_pdf(document))
        spanned = [page for page in text if "Line of action 7" in page or "acción 7" in page]
        holding = [page for page in text if re.search(r"(acción|action) \d+ ", page)]
        assert len(holding) >= 2 and spanned
        assert all(header in page for page in holding), header  # the header on every page
        assert deadline in " ".join(text) and status in " ".join(text)
        assert "2005-06-30" not in " ".join(text) and "in_progress" not in " ".join(text)

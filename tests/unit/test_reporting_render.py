"""The Memoria's two renderings of one document."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from pypdf import PdfReader

from services.reporting.projections.statistics import statistics
from services.reporting.publishing.content import build_memoria
from services.reporting.publishing.render import render_html, render_pdf
from shared.pack import load_pack


def memoria(lang: str, title: str) -> dict:
    pack = load_pack()
    inputs = {
        "statistics": statistics(pack, [], [], {}),
        "conclusions": [{"_id": "c", "session_code": "B2.1", "texts": {"es": {"title": title}}}],
        "action_items": [],
        "budget": [],
        "participants": [],
    }
    return build_memoria(
        pack, lang, inputs, datetime(2004, 11, 19, tzinfo=UTC), today=date(2004, 11, 19)
    )


def test_html_escapes_what_rapporteurs_write() -> None:
    html = render_html(memoria("es", "<script>alert(1)</script> «Remesas»"))
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "«Remesas»" in html


def test_pdf_embeds_a_font_that_renders_spanish() -> None:
    text = " ".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(render_pdf(memoria("es", "Niñez, señas y acción")))).pages
    )
    assert "Niñez, señas y acción" in text and "Programa tal como se realizó" in text


def test_a_conclusion_only_in_spanish_appears_in_the_english_memoria_marked_as_such() -> None:
    html = render_html(memoria("en", "Migración y desarrollo"))
    assert "Migración y desarrollo" in html and "Original text in Spanish" in html


def test_table_rows_written_in_one_stretch_read_back_whole_wrapped_or_not() -> None:
    people = [
        {
            "_id": str(number),
            "family_name": f"Núñez-{number}",
            "given_name": "Íñigo",
            "organisation": "Asociación de Salvadoreños en Los Ángeles y sus Familias Unidas"
            if number % 2
            else "OIM",
            "country": "SV",
        }
        for number in range(120)  # over more than one page: the header repeats
    ]
    pack = load_pack()
    inputs = {
        "statistics": statistics(pack, [], [], {}),
        "conclusions": [],
        "action_items": [],
        "budget": [],
        "participants": people,
    }
    document = build_memoria(
        pack, "es", inputs, datetime(2004, 11, 19, tzinfo=UTC), today=date(2004, 11, 19)
    )
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert all(f"Núñez-{number}, Íñigo" in text for number in range(120))
    assert "Familias Unidas" in text and "Los Ángeles" in text
    assert text.count("Organización") >= 2  # the list's header on every page it spans


def test_a_tables_cells_are_escaped_in_html() -> None:
    pack = load_pack()
    people = [{"_id": "1", "family_name": "<b>Núñez</b>", "given_name": "&", "country": "SV"}]
    inputs = {
        "statistics": statistics(pack, [], [], {}),
        "conclusions": [],
        "action_items": [],
        "budget": [],
        "participants": people,
    }
    html = render_html(
        build_memoria(
            pack, "es", inputs, datetime(2004, 11, 19, tzinfo=UTC), today=date(2004, 11, 19)
        )
    )
    assert "<b>Núñez" not in html and "&lt;b&gt;Núñez&lt;/b&gt;, &amp;" in html
    assert "<td>El Salvador</td>" in html

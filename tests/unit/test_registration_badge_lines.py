"""Badges read right: no printed line repeats another; a name typed over several lines prints as
one line with single spaces (read back from the PDF with pypdf)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.registration.badges.render import (
    BadgeCard,
    one_line,
    printed,
    render_pdf,
    render_png,
    same_line,
)
from shared.badges import sign_badge_token

TOKEN = sign_badge_token("s3cret", "crm-foro-sector-privado-migraciones", "q3Vx0cJr5T2m9bYwQe1LZg")


def card(**overrides: object) -> BadgeCard:
    fields: dict[str, object] = dict(
        given_name="Ana María",
        family_name="López",
        organisation="El Salvador",
        country="El Salvador",
        category_es="Delegación oficial",
        category_en="Official delegation",
        colour="#1F4E79",
        forum_name="Foro Sector Privado y Migraciones",
        forum_dates="San Salvador · 18–19.11.2004",
        token=TOKEN,
    )
    return BadgeCard(**(fields | overrides))  # type: ignore[arg-type]


def pdf_lines(badge: BadgeCard) -> list[str]:
    text = PdfReader(io.BytesIO(render_pdf([badge], "a6"))).pages[0].extract_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_an_official_delegates_country_prints_once() -> None:
    lines = pdf_lines(card())
    assert lines.count("El Salvador") == 1
    assert "Ana María" in lines and "López" in lines


@pytest.mark.parametrize(
    "organisation", ["EL SALVADOR", "  el salvador ", "El  Salvador", "Él Salvador"]
)
def test_repeats_are_found_whatever_the_case_accents_or_spacing(organisation: str) -> None:
    badge = printed(card(organisation=organisation))
    assert badge.organisation is None and badge.country == "El Salvador"
    lines = [line.casefold() for line in pdf_lines(card(organisation=organisation))]
    assert sum("salvador" in line for line in lines if "·" not in line) == 1


def test_a_distinct_organisation_and_country_both_print() -> None:
    lines = pdf_lines(card(organisation="Ministerio de Relaciones Exteriores"))
    assert "Ministerio de Relaciones Exteriores" in lines and "El Salvador" in lines


def test_a_category_named_alike_in_both_languages_prints_once() -> None:
    badge = printed(card(category_es="Staff", category_en="staff"))
    assert badge.category_en == ""
    assert [
        line.casefold() for line in pdf_lines(card(category_es="Staff", category_en="Staff"))
    ].count("staff") == 1


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("Ana\nMaría", "López\r\nGarcía"),
        ("Ana\tMaría", "López   García"),
        (" Ana María ", "López\n García"),
    ],
)
def test_a_name_with_line_breaks_or_runs_of_spaces_prints_as_one_line(
    given: str, family: str
) -> None:
    lines = pdf_lines(card(given_name=given, family_name=family))
    assert "Ana María" in lines and "López García" in lines
    assert not any(merged in " ".join(lines) for merged in ("AnaMaría", "LópezGarcía"))
    render_png(card(given_name=given, family_name=family))  # the PNG takes it too


def test_one_line_and_same_line() -> None:
    assert one_line("a\n b\t\tc  ") == "a b c"
    assert one_line(None) == ""
    assert same_line("Perú", " PERU ") and not same_line("Perú", "Paraguay")

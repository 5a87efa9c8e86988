"""Badge artwork: the QR printed is exactly the signed token; the PDF carries the text."""

from __future__ import annotations

import io

import segno
from PIL import Image
from pypdf import PdfReader

from services.registration.badges import render as badge_render
from services.registration.badges.render import BadgeCard, render_pdf, render_png
from shared.badges import sign_badge_token

TOKEN = sign_badge_token("s3cret", "crm-foro-sector-privado-migraciones", "q3Vx0cJr5T2m9bYwQe1LZg")


def card(**overrides) -> BadgeCard:
    fields = dict(
        given_name="Ana María",
        family_name="López",
        organisation="Ministerio de Relaciones Exteriores",
        country="El Salvador",
        category_es="Medios de comunicación",
        category_en="Media",
        colour="#F9A825",
        forum_name="Foro Sector Privado y Migraciones",
        forum_dates="San Salvador · 18–19.11.2004",
        token=TOKEN,
    )
    return BadgeCard(**(fields | overrides))


def test_the_png_qr_code_encodes_the_token_and_nothing_else() -> None:
    image = Image.open(io.BytesIO(render_png(card()))).convert("L")
    px = badge_render._px
    width, height = image.size
    qr_size = px(40)
    left, top = (width - qr_size) // 2, height - px(26) - qr_size - px(5)
    expected = segno.make(TOKEN, error="m", micro=False)
    modules = expected.symbol_size(border=2)[0]
    step = qr_size / modules
    printed = [
        [
            image.getpixel((int(left + (col + 0.5) * step), int(top + (row + 0.5) * step))) < 128
            for col in range(modules)
        ]
        for row in range(modules)
    ]
    wanted = (
        [[False] * modules for _ in range(2)]
        + [[False, False, *(bool(bit) for bit in row), False, False] for row in expected.matrix]
        + [[False] * modules for _ in range(2)]
    )
    assert printed == wanted


def test_the_pdf_sheet_puts_four_badges_on_an_a4_page_with_their_text() -> None:
    cards = [card(given_name=f"Persona{n}") for n in range(5)]
    reader = PdfReader(io.BytesIO(render_pdf(cards, "a4")))
    assert len(reader.pages) == 2
    assert round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == 210
    first = reader.pages[0].extract_text()
    assert (
        all(f"Persona{n}" in first for n in range(4))
        and "Persona4" in reader.pages[1].extract_text()
    )
    assert "MEDIOS DE COMUNICACIÓN" in first and "Media" in first
    single = PdfReader(io.BytesIO(render_pdf([card()], "a6")))
    assert round(float(single.pages[0].mediabox.width) / 72 * 25.4) == 105


def test_text_ink_contrasts_with_the_category_colour() -> None:
    assert card(colour="#F9A825").ink_on_colour == (20, 20, 20)
    assert card(colour="#1F4E79").ink_on_colour == (255, 255, 255)

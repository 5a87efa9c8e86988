"""Badge artwork: one badge as PNG, many as a printable PDF (A6 one per page, or A4 four per page).

Pure functions of a `BadgeCard` (what is printed) — no database, no broker. The QR code carries
only the signed token (see `shared/badges.py`), never the name printed beside it.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from shared import i18n
from shared.fonts import BOLD, REGULAR

Layout = Literal["a6", "a4"]
RGB = tuple[int, int, int]

# A6 portrait, in millimetres; an A4 sheet holds 2 × 2 of them.
BADGE_W, BADGE_H = 105.0, 148.0
PNG_DPI = 300


@dataclass(frozen=True)
class BadgeCard:
    """Everything a badge shows."""

    given_name: str
    family_name: str
    organisation: str | None
    country: str  # country name in the badge language
    category_es: str
    category_en: str
    colour: str  # "#RRGGBB"
    forum_name: str
    forum_dates: str
    token: str  # the signed QR token

    @property
    def rgb(self) -> RGB:
        value = self.colour.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    @property
    def ink_on_colour(self) -> RGB:
        """Black or white, whichever reads better on the category colour."""
        r, g, b = self.rgb
        luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
        return (20, 20, 20) if luminance > 150 else (255, 255, 255)


def one_line(text: str | None) -> str:
    """`text` as one printed line: line breaks, tabs and runs of spaces become single spaces (so
    "Ana\nMaría" prints "Ana María", never "AnaMaría"); the layout's own rule fits it."""
    return " ".join((text or "").split())


def same_line(a: str, b: str) -> bool:
    """Whether two printed lines say the same thing: trimmed, spaces collapsed, case- and
    accent-insensitive ("EL SALVADOR" repeats "El Salvador", "Peru" repeats "Perú")."""

    def key(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", one_line(text))
        return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    return key(a) == key(b)


def printed(card: BadgeCard) -> BadgeCard:
    """The card as printed: every line on one line, and no line that repeats one printed above it
    (an official delegate's organisation is often their country: "El Salvador" once, not twice;
    a category named alike in both languages once). The person's names always print."""
    card = replace(
        card,
        given_name=one_line(card.given_name),
        family_name=one_line(card.family_name),
        organisation=one_line(card.organisation) or None,
        country=one_line(card.country),
        category_es=one_line(card.category_es),
        category_en=one_line(card.category_en),
        forum_name=one_line(card.forum_name),
        forum_dates=one_line(card.forum_dates),
    )
    above = [card.forum_name, card.forum_dates, card.given_name, card.family_name]
    country = "" if any(same_line(card.country, line) for line in above) else card.country
    # The country is the pack's spelling; an organisation that only repeats it gives way.
    organisation = card.organisation
    if organisation and any(same_line(organisation, line) for line in [*above, card.country]):
        organisation = None
    category_en = "" if same_line(card.category_en, card.category_es) else card.category_en
    return replace(card, organisation=organisation, country=country, category_en=category_en)


def forum_dates(start: date, days: int, city: str, lang: str = "es") -> str:
    """The city and the forum's days as the badge's language writes a short span:
    `San Salvador · 18–19 nov 2004`, `San Salvador · Nov 18 – 19, 2004`."""
    end = date.fromordinal(start.toordinal() + days - 1)
    return f"{city} · {i18n.date_range(start, end, lang, 'yMMMd')}"


def qr_png(token: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    segno.make(token, error="m", micro=False).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


# --- PNG -----------------------------------------------------------------------------------------


def _px(mm: float) -> int:
    return round(mm / 25.4 * PNG_DPI)


def _fit(
    draw: ImageDraw.ImageDraw, text: str, path: Path, size: int, width: int
) -> ImageFont.FreeTypeFont:
    while True:
        font = ImageFont.truetype(str(path), size)
        if draw.textlength(text, font=font) <= width or size <= 12:
            return font
        size -= 2


def _centred(
    draw: ImageDraw.ImageDraw,
    y: float,
    text: str,
    font: ImageFont.FreeTypeFont,
    width: int,
    fill: RGB,
) -> float:
    """Draws `text` centred at `y`; returns where the next line starts (Pillow types text metrics
    as floats)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) / 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def render_png(card: BadgeCard) -> bytes:
    """The badge at 300 dpi, A6 portrait."""
    card = printed(card)
    width, height = _px(BADGE_W), _px(BADGE_H)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    margin = _px(6)
    inner = width - 2 * margin
    dark = (33, 33, 33)

    draw.rectangle((0, 0, width, _px(4)), fill=card.rgb)
    y: float = _px(9)
    y = _centred(
        draw, y, card.forum_name, _fit(draw, card.forum_name, BOLD, 46, inner), width, dark
    ) + _px(2)
    y = _centred(
        draw, y, card.forum_dates, ImageFont.truetype(str(REGULAR), 34), width, (90, 90, 90)
    ) + _px(9)

    y = _centred(
        draw, y, card.given_name, _fit(draw, card.given_name, BOLD, 110, inner), width, dark
    ) + _px(2)
    y = _centred(
        draw, y, card.family_name, _fit(draw, card.family_name, BOLD, 110, inner), width, dark
    ) + _px(5)
    if card.organisation:
        font = _fit(draw, card.organisation, REGULAR, 52, inner)
        y = _centred(draw, y, card.organisation, font, width, dark) + _px(2)
    if card.country:
        _centred(draw, y, card.country, _fit(draw, card.country, REGULAR, 52, inner), width, dark)

    band_top = height - _px(26)
    qr_size = _px(40)
    qr = (
        Image.open(io.BytesIO(qr_png(card.token)))
        .convert("RGB")
        .resize((qr_size, qr_size), Image.Resampling.NEAREST)
    )
    image.paste(qr, ((width - qr_size) // 2, band_top - qr_size - _px(5)))

    draw.rectangle((0, band_top, width, height), fill=card.rgb)
    ink = card.ink_on_colour
    y = band_top + _px(5)
    y = _centred(
        draw,
        y,
        card.category_es.upper(),
        _fit(draw, card.category_es.upper(), BOLD, 64, inner),
        width,
        ink,
    )
    if card.category_en:
        _centred(
            draw,
            y + _px(3),
            card.category_en,
            _fit(draw, card.category_en, REGULAR, 44, inner),
            width,
            ink,
        )

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(PNG_DPI, PNG_DPI), optimize=True)
    return buffer.getvalue()


# --- PDF -----------------------------------------------------------------------------------------


class _Sheet(FPDF):
    def __init__(self, layout: Layout) -> None:
        super().__init__(
            orientation="P", unit="mm", format=(BADGE_W, BADGE_H) if layout == "a6" else "A4"
        )
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.add_font("DejaVu", "", str(REGULAR))
        self.add_font("DejaVu", "B", str(BOLD))
        self.set_title("Badges")
        self.set_creator("foro")

    def fitted(self, text: str, style: str, size: float, width: float) -> None:
        while size > 6:
            self.set_font("DejaVu", style, size)
            if self.get_string_width(text) <= width:
                return
            size -= 0.5
        self.set_font("DejaVu", style, size)


def _draw_badge(pdf: _Sheet, card: BadgeCard, x: float, y: float) -> None:
    card = printed(card)
    margin = 6.0
    inner = BADGE_W - 2 * margin
    pdf.set_fill_color(*card.rgb)
    pdf.rect(x, y, BADGE_W, 4, style="F")

    def line(
        text: str, style: str, size: float, top: float, height: float, colour: RGB = (33, 33, 33)
    ) -> None:
        pdf.set_text_color(*colour)
        pdf.fitted(text, style, size, inner)
        pdf.set_xy(x + margin, top)
        pdf.cell(inner, height, text, align="C")

    line(card.forum_name, "B", 11, y + 8, 6)
    line(card.forum_dates, "", 8, y + 14, 5, (90, 90, 90))
    line(card.given_name, "B", 24, y + 25, 11)
    line(card.family_name, "B", 24, y + 36, 11)
    if card.organisation:
        line(card.organisation, "", 12, y + 50, 7)
    if card.country:
        line(card.country, "", 12, y + 57 if card.organisation else y + 50, 7)

    band_top = y + BADGE_H - 26
    qr_size = 40.0
    pdf.image(
        io.BytesIO(qr_png(card.token)),
        x=x + (BADGE_W - qr_size) / 2,
        y=band_top - qr_size - 4,
        w=qr_size,
        h=qr_size,
    )
    pdf.set_fill_color(*card.rgb)
    pdf.rect(x, band_top, BADGE_W, 26, style="F")
    ink = card.ink_on_colour
    line(card.category_es.upper(), "B", 15, band_top + 5, 8, ink)
    if card.category_en:
        line(card.category_en, "", 10, band_top + 14, 6, ink)


def _cut_marks(pdf: _Sheet) -> None:
    pdf.set_draw_color(180, 180, 180)
    pdf.set_line_width(0.1)
    pdf.line(BADGE_W, 0, BADGE_W, 2 * BADGE_H)
    pdf.line(0, BADGE_H, 2 * BADGE_W, BADGE_H)


def render_pdf(cards: Sequence[BadgeCard], layout: Layout = "a6") -> bytes:
    """A printable sheet: one A6 badge per page, or four per A4 page with cut lines."""
    pdf = _Sheet(layout)
    per_page = 1 if layout == "a6" else 4
    for index, card in enumerate(cards):
        slot = index % per_page
        if slot == 0:
            pdf.add_page()
            if layout == "a4":
                _cut_marks(pdf)
        x = (slot % 2) * BADGE_W
        y = (slot // 2) * BADGE_H
        _draw_badge(pdf, card, x, y)
    if not cards:
        pdf.add_page()
    return bytes(pdf.output())

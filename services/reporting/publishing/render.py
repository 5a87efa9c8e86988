"""One document, two renderings: HTML (Jinja2, autoescaped) and PDF (fpdf2, embedded Unicode font).

The PDF embeds DejaVu Sans, shipped in `shared/fonts/` (free licence), so Spanish
accents, «», “” and – render on a machine without system fonts. Charts are drawn as bars.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, cast

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shared.fonts import BOLD, REGULAR

HERE = Path(__file__).parent
FONT = "DejaVu"
BLUE = (31, 78, 121)
GREEN = (46, 125, 50)
GREY = (91, 107, 124)
AMBER = (239, 108, 0)
RED = (198, 40, 40)
TRACK = (238, 242, 246)
RULE = (221, 227, 234)


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(document: dict[str, Any]) -> str:
    return _templates().get_template("document.html.j2").render(doc=document)


def font_files() -> tuple[Path, Path]:
    return REGULAR, BOLD


class DocumentPDF(FPDF):
    def __init__(self, running_title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = running_title
        regular, bold = font_files()
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.running_title, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, str(self.page_no()), align="R")
        self.set_text_color(0, 0, 0)


def render_pdf(document: dict[str, Any]) -> bytes:
    cover = document["cover"]
    pdf = DocumentPDF(f"{cover['forum_name']} · {cover['title']}")
    pdf.set_title(f"{cover['title']} · {cover['forum_name']}")
    pdf.set_lang(document["lang"])
    pdf.set_creator("foro reporting")
    pdf.set_creation_date(document["generated_at"])
    _cover(pdf, cover)
    for number, section in enumerate(document["sections"], start=1):
        pdf.add_page()
        pdf.start_section(f"{number}. {section['title']}")
        pdf.set_font(FONT, "B", 15)
        pdf.set_text_color(*BLUE)
        pdf.multi_cell(
            0, 8, f"{number}. {section['title']}", new_x="LMARGIN", new_y="NEXT", align="L"
        )
        pdf.set_draw_color(*BLUE)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(4)
        pdf.set_text_color(0, 0, 0)
        for block in section["blocks"]:
            BLOCKS[block["type"]](pdf, block)
    return bytes(pdf.output())


def _cover(pdf: DocumentPDF, cover: dict[str, Any]) -> None:
    pdf.add_page()
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, pdf.w, 12, style="F")
    pdf.set_y(60)
    pdf.set_text_color(*BLUE)
    pdf.set_font(FONT, "B", 24)
    pdf.multi_cell(0, 11, cover["title"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(6)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, cover["forum_name"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(8)
    pdf.set_font(FONT, "", 11)
    for key in ("convener", "venue", "dates", "partners"):
        pdf.multi_cell(0, 6, cover[key], new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)
    pdf.set_y(-40)
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, cover["generated"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)


def _paragraph(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5.2, block["text"], new_x="LMARGIN", new_y="NEXT", align="J")
    pdf.ln(2.5)


def _note(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 4.5, block["text"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def _heading(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.set_text_color(*BLUE)
    pdf.multi_cell(0, 6.5, block["text"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def _subheading(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(1)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, block["text"], new_x="LMARGIN", new_y="NEXT", align="L")
    if block.get("note"):
        _note(pdf, {"text": block["note"]})


def _labelled(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(0, 5, block["label"], new_x="LMARGIN", new_y="NEXT", align="L")
    if block.get("text"):
        pdf.set_font(FONT, "", 9.5)
        pdf.multi_cell(0, 5, block["text"], new_x="LMARGIN", new_y="NEXT", align="J")
    pdf.ln(1.5)


def _list(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 10)
    for item in block["items"]:
        pdf.set_x(pdf.l_margin + 3)
        pdf.multi_cell(0, 5.2, f"• {item}", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)


def _table(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    """A table drawn cell by cell; the header repeats after a page break. Rows whose cells fit on
    one line — all but a few, and the participant list of a large forum has thousands — are
    written as one stretch of page content each (`_RowWriter`); longer cells wrap."""
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    total = sum(block["widths"])
    widths = [usable * w / total for w in block["widths"]]
    numeric = set(block.get("numeric") or [])
    line_h, pad = 4.4, 1.2
    header = block["columns"] if any(block["columns"]) else None
    rows = _RowWriter(pdf, widths, numeric, line_h, pad)

    def draw(cells: list[str], *, bold: bool, fill: tuple[int, int, int] | None) -> None:
        pdf.set_font(FONT, "B" if bold else "", 8.5)
        lines = None if bold else rows.lines(cells)
        if lines is not None:
            height = max(len(cell) for cell in lines) * line_h + 2 * pad
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
                if header is not None:
                    draw(header, bold=True, fill=BLUE)
                    pdf.set_font(FONT, "", 8.5)
            rows.write(lines, height, fill)
            return
        wraps = [
            rows.width(text) > width - 2 * pad for text, width in zip(cells, widths, strict=True)
        ]
        count = 1
        for text, width, wrap in zip(cells, widths, wraps, strict=True):
            if wrap:
                broken = pdf.multi_cell(width - 2 * pad, line_h, text, dry_run=True, output="LINES")
                count = max(count, len(cast(list[str], broken)))
        height = count * line_h + 2 * pad
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            if header is not None and not bold:
                draw(header, bold=True, fill=BLUE)
                pdf.set_font(FONT, "B" if bold else "", 8.5)
        y, x = pdf.get_y(), pdf.l_margin
        if fill is not None:
            pdf.set_fill_color(*fill)
            pdf.rect(x, y, usable, height, style="F")
        pdf.set_text_color(*((255, 255, 255) if bold else (0, 0, 0)))
        for index, (text, width, wrap) in enumerate(zip(cells, widths, wraps, strict=True)):
            align = "R" if index in numeric else "L"
            pdf.set_xy(x + pad, y + pad)
            if wrap:
                pdf.multi_cell(width - 2 * pad, line_h, text, align=align)
            elif text:
                offset = width - 2 * pad - rows.width(text) if align == "R" else 0.0
                pdf.text(x + pad + offset, y + pad + rows.baseline, text)
            x += width
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(*RULE)
        pdf.line(pdf.l_margin, y + height, pdf.l_margin + usable, y + height)
        pdf.set_xy(pdf.l_margin, y + height)

    margin, pdf.c_margin = pdf.c_margin, 0  # the table pads its cells itself
    try:
        if header is not None:
            draw([str(c) for c in header], bold=True, fill=BLUE)
        for number, row in enumerate(block["rows"]):
            draw(
                [str(cell) for cell in row],
                bold=False,
                fill=(246, 248, 250) if number % 2 else None,
            )
    finally:
        pdf.c_margin = margin
    pdf.ln(3)


class _RowWriter:
    """Writes a table row as raw page content: its fill, its cells' lines and its rule in ONE
    content operation, inside `q … Q` so fpdf2's idea of the graphics state stays true.

    What `FPDF.text`, `multi_cell`, `rect` and `line` would write, without their per-call
    bookkeeping (ten calls a row, and line breaking that measures every character again): a
    5,000-row participant list renders several times faster. Lines break between words, as
    `multi_cell` breaks them; a cell with a word wider than its column goes the slow way.
    Widths and encodings of repeated texts are computed once. fpdf2 internals used: `_out`,
    `_set_font_for_page`, the font's `cw` widths and `encode_text` (which also records the
    glyphs for the embedded subset) — fpdf2 is pinned in constraints.txt, and
    tests/unit/test_reporting_render.py extracts the text back from the PDF."""

    baseline = 3.2  # from the top of a 4.4 mm line to the baseline of 8.5 pt text

    def __init__(
        self, pdf: DocumentPDF, widths: list[float], numeric: set[int], line_h: float, pad: float
    ) -> None:
        self.pdf, self.widths, self.numeric = pdf, widths, numeric
        self.line_h, self.pad = line_h, pad
        self.k = pdf.k
        self._measured: dict[tuple[int, str], float] = {}
        self._encoded: dict[str, str] = {}

    def width(self, text: str) -> float:
        """What `get_string_width` computes for an unshaped TTF font, without its overhead."""
        pdf = self.pdf
        font: Any = pdf.current_font
        key = (id(font), text)
        found = self._measured.get(key)
        if found is None:
            units = sum(font.cw[ord(c)] for c in text)
            found = self._measured[key] = units * pdf.font_size_pt * 0.001 / pdf.k
        return found

    def lines(self, cells: list[str]) -> list[list[str]] | None:
        """Each cell's lines, or None when a cell needs `multi_cell` (a word wider than its
        column, or a line break in the text)."""
        broken = []
        for text, width in zip(cells, self.widths, strict=True):
            room = width - 2 * self.pad
            if self.width(text) <= room:
                broken.append([text])
                continue
            if "\n" in text:
                return None
            lines: list[str] = []
            current = ""
            for word in text.split(" "):
                candidate = f"{current} {word}" if current else word
                if self.width(candidate) <= room:
                    current = candidate
                elif self.width(word) > room:
                    return None
                else:
                    lines.append(current)
                    current = word
            lines.append(current)
            broken.append(lines)
        return broken

    def _encode(self, text: str) -> str:
        found = self._encoded.get(text)
        if found is None:
            font: Any = self.pdf.current_font
            found = self._encoded[text] = font.encode_text(text)
        return found

    def write(
        self, cells: list[list[str]], height: float, fill: tuple[int, int, int] | None
    ) -> None:
        pdf, k = self.pdf, self.k
        if not pdf.current_font_is_set_on_page:
            pdf._out(pdf._set_font_for_page(cast(Any, pdf.current_font), pdf.font_size_pt))
        x, y = pdf.l_margin, pdf.get_y()
        usable = sum(self.widths)
        top, bottom = (pdf.h - y) * k, (pdf.h - y - height) * k
        ops = ["q"]
        if fill is not None:
            ops.append(
                f"{_rgb(fill)} rg {x * k:.2f} {top:.2f} {usable * k:.2f} {-height * k:.2f} re f"
            )
        ops.append("0 g")
        for index, (lines, width) in enumerate(zip(cells, self.widths, strict=True)):
            for number, text in enumerate(lines):
                if not text:
                    continue
                offset = width - 2 * self.pad - self.width(text) if index in self.numeric else 0.0
                left = (x + self.pad + offset) * k
                baseline = (pdf.h - y - self.pad - self.baseline - number * self.line_h) * k
                ops.append(f"BT {left:.2f} {baseline:.2f} Td {self._encode(text)} ET")
            x += width
        right = (pdf.l_margin + usable) * k
        ops.append(
            f"{_rgb(RULE)} RG {pdf.l_margin * k:.2f} {bottom:.2f} m {right:.2f} {bottom:.2f} l S"
        )
        ops.append("Q")
        pdf._out(" ".join(ops))
        pdf.set_xy(pdf.l_margin, y + height)


def _rgb(colour: tuple[int, int, int]) -> str:
    return " ".join(f"{channel / 255:.3f}" for channel in colour)


def _bars(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    items = block["items"]
    if not items:
        return
    needed = 10 + 5.5 * len(items)
    if pdf.get_y() + min(needed, 60) > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 6, block["title"], new_x="LMARGIN", new_y="NEXT", align="L")
    label_w, value_w = 62.0, 18.0
    track_w = pdf.w - pdf.l_margin - pdf.r_margin - label_w - value_w - 4
    top = block["max"] or 1
    pdf.set_font(FONT, "", 8)
    for label, value in items:
        if pdf.get_y() + 5.5 > pdf.h - pdf.b_margin:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_x(pdf.l_margin)
        pdf.cell(label_w, 5, _fit(pdf, str(label), label_w - 1))
        x = pdf.l_margin + label_w + 2
        pdf.set_fill_color(*TRACK)
        pdf.rect(x, y + 1, track_w, 3.2, style="F")
        pdf.set_fill_color(*bar_colour(block, value))
        width = track_w * min(float(value) / float(top), 1.0)
        if width > 0:
            pdf.rect(x, y + 1, width, 3.2, style="F")
        pdf.set_xy(x + track_w + 2, y)
        pdf.cell(value_w, 5, f"{value}{block.get('unit', '')}", align="R")
        pdf.set_y(y + 5.5)
    pdf.ln(3)


def bar_colour(block: dict[str, Any], value: float) -> tuple[int, int, int]:
    """Green; amber and red from the block's `alerts` thresholds (the budget's 80 % and 100 %)."""
    warn, over = block.get("alerts") or (None, None)
    if over is not None and value >= over:
        return RED
    if warn is not None and value >= warn:
        return AMBER
    return GREEN


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


BLOCKS = {
    "paragraph": _paragraph,
    "note": _note,
    "heading": _heading,
    "subheading": _subheading,
    "labelled": _labelled,
    "list": _list,
    "table": _table,
    "bars": _bars,
}

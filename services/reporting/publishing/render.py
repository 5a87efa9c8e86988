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
from markupsafe import Markup, escape

from services.reporting.publishing.typesetting import Typesetter, rgb
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
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["table_rows"] = table_rows
    return environment


def table_rows(block: dict[str, Any]) -> Markup:
    """A table's rows, every cell escaped: written here rather than by the template's loops,
    which take several times longer over a large forum's thousands of rows."""
    numeric = set(block.get("numeric") or [])
    rows = []
    for row in block["rows"]:
        cells = "".join(
            f'<td class="num">{escape(cell)}</td>'
            if index in numeric
            else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    return Markup("\n".join(rows))


def render_html(document: dict[str, Any]) -> str:
    return _templates().get_template("document.html.j2").render(doc=document)


def font_files() -> tuple[Path, Path]:
    return REGULAR, BOLD


class DocumentPDF(FPDF):
    """An empty document with the fonts loaded (parsing them is a good part of a render's fixed
    cost: `publishing.handlers` builds one while the Memoria's data is being read)."""

    def __init__(self, running_title: str = "") -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = running_title
        regular, bold = font_files()
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)
        self.typeset = Typesetter(self)

    def footer(self) -> None:
        """The running title on the left, the page number on the right, in grey."""
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 7.5)
        baseline = self.h - 12 + 0.5 * 5 + 0.3 * self.font_size  # a 5 mm cell's, as fpdf2's
        number = str(self.page_no())
        right = self.w - self.r_margin - self.c_margin - self.typeset.width(number)
        grey = rgb(GREY) + " rg"
        self.typeset.text(self.l_margin + self.c_margin, baseline, self.running_title, grey)
        self.typeset.text(right, baseline, number, grey)


def render_pdf(document: dict[str, Any], pdf: DocumentPDF | None = None) -> bytes:
    """`document` as a PDF; on `pdf`, a fresh `DocumentPDF`, if one was made ahead."""
    cover = document["cover"]
    pdf = pdf or DocumentPDF()
    pdf.running_title = f"{cover['forum_name']} · {cover['title']}"
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


def _flow(pdf: DocumentPDF, text: str, line_h: float, *, justify: bool) -> None:
    if not pdf.typeset.flow(text, line_h, justify=justify):  # a word wider than the page
        align = "J" if justify else "L"
        pdf.multi_cell(0, line_h, text, new_x="LMARGIN", new_y="NEXT", align=align)


def _paragraph(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 10)
    _flow(pdf, block["text"], 5.2, justify=True)
    pdf.ln(2.5)


def _note(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    _flow(pdf, block["text"], 4.5, justify=False)
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
    _flow(pdf, block["label"], 5, justify=False)
    if block.get("text"):
        pdf.set_font(FONT, "", 9.5)
        _flow(pdf, block["text"], 5, justify=True)
    pdf.ln(1.5)


def _list(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    pdf.set_font(FONT, "", 10)
    for item in block["items"]:
        pdf.set_x(pdf.l_margin + 3)
        pdf.multi_cell(0, 5.2, f"• {item}", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)


def _table(pdf: DocumentPDF, block: dict[str, Any]) -> None:
    """A table; the header repeats after a page break. Rows whose cells break between words —
    all but a rare one with a word wider than its column — are typeset in one stretch each
    (`Typesetter.row`: the participant list of a large forum has thousands)."""
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    total = sum(block["widths"])
    widths = [usable * w / total for w in block["widths"]]
    numeric = set(block.get("numeric") or [])
    line_h, pad, baseline = 4.4, 1.2, 3.2  # baseline: of 8.5 pt text in a 4.4 mm line
    header = [str(c) for c in block["columns"]] if any(block["columns"]) else None
    typeset = pdf.typeset
    rows = typeset.table(widths, numeric, pad=pad, line_h=line_h, baseline=baseline, rule=RULE)

    def draw_header() -> None:
        pdf.set_font(FONT, "B", 8.5)
        cells = header or []
        broken = [typeset.lines(text, w - 2 * pad) for text, w in zip(cells, widths, strict=True)]
        if any(lines is None for lines in broken):
            _slow_row(pdf, cells, widths, numeric, bold=True, fill=BLUE)
        else:
            lines = [cell or [] for cell in broken]
            height = max(len(cell) for cell in lines) * line_h + 2 * pad
            if pdf.y + height + line_h + 2 * pad > pdf.page_break_trigger:
                pdf.add_page()  # not a header alone at the foot of a page
            rows.row(lines, height, BLUE, text="1 g")
        pdf.set_font(FONT, "", 8.5)

    margin, pdf.c_margin = pdf.c_margin, 0  # the table pads its cells itself
    try:
        if header is not None:
            draw_header()
        pdf.set_font(FONT, "", 8.5)
        for number, row in enumerate(block["rows"]):
            cells = [str(cell) for cell in row]
            fill = (246, 248, 250) if number % 2 else None
            broken = [
                typeset.lines(text, w - 2 * pad) for text, w in zip(cells, widths, strict=True)
            ]
            if any(lines is None for lines in broken):
                _slow_row(pdf, cells, widths, numeric, bold=False, fill=fill, after=draw_header)
                continue
            lines = [cell or [] for cell in broken]
            height = max(len(cell) for cell in lines) * line_h + 2 * pad
            if pdf.y + height > pdf.page_break_trigger:
                pdf.add_page()
                if header is not None:
                    draw_header()
            rows.row(lines, height, fill)
    finally:
        pdf.c_margin = margin
    pdf.ln(3)


def _slow_row(
    pdf: DocumentPDF,
    cells: list[str],
    widths: list[float],
    numeric: set[int],
    *,
    bold: bool,
    fill: tuple[int, int, int] | None,
    after: Any = None,
) -> None:
    """A row through fpdf2's own calls: the header, or a cell with a word wider than its column."""
    line_h, pad, baseline = 4.4, 1.2, 3.2
    usable = sum(widths)
    wraps = [pdf.typeset.width(text) > w - 2 * pad for text, w in zip(cells, widths, strict=True)]
    count = 1
    for text, width, wrap in zip(cells, widths, wraps, strict=True):
        if wrap:
            broken = pdf.multi_cell(width - 2 * pad, line_h, text, dry_run=True, output="LINES")
            count = max(count, len(cast(list[str], broken)))
    height = count * line_h + 2 * pad
    if pdf.y + height > pdf.page_break_trigger:
        pdf.add_page()
        if after is not None:
            after()
            pdf.set_font(FONT, "B" if bold else "", 8.5)
    y, x = pdf.y, pdf.l_margin
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
            offset = width - 2 * pad - pdf.typeset.width(text) if align == "R" else 0.0
            pdf.text(x + pad + offset, y + pad + baseline, text)
        x += width
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, y + height, pdf.l_margin + usable, y + height)
    pdf.set_xy(pdf.l_margin, y + height)


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

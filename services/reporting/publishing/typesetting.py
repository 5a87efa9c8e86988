"""The text a Memoria has most of — table rows and paragraphs — written as raw page content.

What `FPDF.text`, `multi_cell`, `rect` and `line` would write, without their per-call
bookkeeping: fpdf2's line breaking measures every character again for every line and sets up a
text fragment per call; a 5,000-row participant list and pages of conclusions render several
times faster this way. Each row or paragraph line is one content operation inside `q … Q`, so
fpdf2's idea of the graphics state stays true; lines break between words as `multi_cell` breaks
them, and justified lines widen their spaces with `TJ` adjustments as fpdf2 does. A text with a
word wider than its column returns None, and the caller goes fpdf2's way.

fpdf2 internals used: `_out`, `_set_font_for_page`, the font's `cw` widths and `encode_text`
(which also records the glyphs for the embedded subset) — fpdf2 is pinned in constraints.txt,
and tests/unit/test_reporting_render.py reads the text back out of the PDF.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

type Colour = tuple[int, int, int]


def rgb(colour: Colour) -> str:
    return " ".join(f"{channel / 255:.3f}" for channel in colour)


class Typesetter:
    """Widths and encodings of the texts of one document, each computed once per font."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.k = pdf.k
        self._measured: dict[tuple[int, float, str], float] = {}
        self._encoded: dict[tuple[int, str], str] = {}

    def width(self, text: str) -> float:
        """What `get_string_width` computes for an unshaped TTF font, in user units."""
        pdf = self.pdf
        font: Any = pdf.current_font
        key = (id(font), pdf.font_size_pt, text)
        found = self._measured.get(key)
        if found is None:
            units = sum(font.cw[ord(c)] for c in text)
            found = self._measured[key] = units * pdf.font_size_pt * 0.001 / pdf.k
        return found

    def encoded(self, text: str) -> str:
        """`(…)`: the text as the current font's glyph codes, a PDF string."""
        font: Any = self.pdf.current_font
        key = (id(font), text)
        found = self._encoded.get(key)
        if found is None:
            found = self._encoded[key] = font.encode_text(text)[: -len(" Tj")]
        return found

    def lines(self, text: str, room: float) -> list[str] | None:
        """`text` broken between words into lines no wider than `room` (hard breaks kept);
        None when a word alone is wider."""
        if "\n" not in text and self.width(text) <= room:
            return [text]
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current = ""
            for word in paragraph.split(" "):
                candidate = f"{current} {word}" if current else word
                if self.width(candidate) <= room:
                    current = candidate
                elif self.width(word) > room:
                    return None
                else:
                    lines.append(current)
                    current = word
            lines.append(current)
        return lines

    def _font_on_page(self) -> None:
        pdf = self.pdf
        if not pdf.current_font_is_set_on_page:
            font: Any = pdf.current_font
            pdf._out(pdf._set_font_for_page(font, pdf.font_size_pt))

    def flow(self, text: str, line_h: float, *, justify: bool) -> bool:
        """`multi_cell(0, line_h, text, align="J" or "L", new_x="LMARGIN", new_y="NEXT")` in
        the current font and text colour; False (nothing written) if a word is too wide."""
        pdf, k = self.pdf, self.k
        margin = pdf.c_margin
        room = pdf.w - pdf.r_margin - pdf.x - 2 * margin
        left = pdf.x + margin
        paragraphs = [self.lines(paragraph, room) for paragraph in text.split("\n")]
        if any(lines is None for lines in paragraphs):
            return False
        colour = pdf.text_color.serialize().lower() if pdf.text_color else "0 g"
        rise = 0.5 * line_h + 0.3 * pdf.font_size_pt / k  # fpdf2's baseline in a cell
        y = pdf.y
        for lines in paragraphs:
            assert lines is not None
            for number, line in enumerate(lines):
                if y + line_h > pdf.page_break_trigger and pdf.auto_page_break:
                    pdf.add_page()
                    y, left = pdf.y, pdf.x + margin
                self._font_on_page()
                words = line.split(" ")
                baseline = (pdf.h - y - rise) * k
                last = number == len(lines) - 1
                if justify and not last and len(words) > 1:
                    gaps = len(words) - 1
                    extra = (room - self.width(line)) / gaps
                    adjust = -extra * k / pdf.font_size_pt * 1000
                    parts = [self.encoded(f"{word} ") for word in words[:-1]]
                    shown = f" {adjust:.2f} ".join([*parts, self.encoded(words[-1])])
                    operation = f"[{shown}] TJ"
                else:
                    operation = f"{self.encoded(line)} Tj"
                pdf._out(f"q {colour} BT {left * k:.2f} {baseline:.2f} Td {operation} ET Q")
                y += line_h
        pdf.set_xy(pdf.l_margin, y)
        return True

    def text(self, x: float, baseline: float, text: str, colour: str = "0 g") -> None:
        """One line of `text` in the current font, starting at `x` on `baseline` (user units)."""
        pdf, k = self.pdf, self.k
        self._font_on_page()
        position = f"{x * k:.2f} {(pdf.h - baseline) * k:.2f}"
        pdf._out(f"q {colour} BT {position} Td {self.encoded(text)} Tj ET Q")

    def table(
        self,
        widths: list[float],
        numeric: set[int],
        *,
        pad: float,
        line_h: float,
        baseline: float,
        rule: Colour,
    ) -> TableSetter:
        return TableSetter(self, widths, numeric, pad, line_h, baseline, rule)


class TableSetter:
    """A table's rows, its geometry worked out once: each row is one content operation."""

    def __init__(
        self,
        typesetter: Typesetter,
        widths: list[float],
        numeric: set[int],
        pad: float,
        line_h: float,
        baseline: float,
        rule: Colour,
    ) -> None:
        pdf, k = typesetter.pdf, typesetter.k
        self.typesetter, self.pdf, self.k = typesetter, pdf, k
        self.numeric, self.pad, self.line_h = numeric, pad, line_h
        self.first_line = pad + baseline
        lefts, x = [], pdf.l_margin
        for width in widths:
            lefts.append(x + pad)
            x += width
        self.lefts = lefts
        self.rooms = [width - 2 * pad for width in widths]
        usable = sum(widths)
        self.fill_x = f"{pdf.l_margin * k:.2f}"
        self.fill_w = f"{usable * k:.2f}"
        self.rule = (
            f"{rgb(rule)} RG {pdf.l_margin * k:.2f}",
            f"{(pdf.l_margin + usable) * k:.2f}",
        )

    def row(
        self, cells: list[list[str]], height: float, fill: Colour | None, text: str = "0 g"
    ) -> None:
        """A row at the current position: fill, each cell's lines (numeric ones aligned right)
        in the `text` colour, the rule under it; the position moves below it."""
        typesetter, pdf, k = self.typesetter, self.pdf, self.k
        typesetter._font_on_page()
        y = pdf.y
        page_top = pdf.h - y
        bottom = f"{(page_top - height) * k:.2f}"
        ops = ["q"]
        if fill is not None:
            ops.append(
                f"{rgb(fill)} rg {self.fill_x} {page_top * k:.2f} {self.fill_w} "
                f"{-height * k:.2f} re f"
            )
        ops.append(text)
        first, line_h, numeric = self.first_line, self.line_h, self.numeric
        for index, lines in enumerate(cells):
            left = self.lefts[index]
            for number, value in enumerate(lines):
                if not value:
                    continue
                x = left + self.rooms[index] - typesetter.width(value) if index in numeric else left
                line = (page_top - first - number * line_h) * k
                ops.append(f"BT {x * k:.2f} {line:.2f} Td {typesetter.encoded(value)} Tj ET")
        start, end = self.rule
        ops.append(f"{start} {bottom} m {end} {bottom} l S Q")
        pdf._out(" ".join(ops))
        pdf.set_xy(pdf.l_margin, y + height)

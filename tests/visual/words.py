"""Words that overflow the page or were broken apart, found in a PDF as a reader would find them.

Poppler's `pdftotext -bbox` gives every word of a PDF with its box, in reading order. Two checks:

- **inside**: every word's box lies inside the page, and at least `margin` points from its
  edges (a word cut at the edge, or printed where a printer cannot, is lost to the reader);
- **whole**: every word is a word of the source text (the strings the PDF was made from), or a
  part that ends in a hyphen and joins the next word into one ("partici-" + "pación", or
  "EXPO-" + "OPEN" broken at its own hyphen). "EXPO-O" + "PEN" is a broken word, and so is
  "fen…", the start of a longer source word cut short by an ellipsis.

- **clear**: no two words' boxes overlap by more than `OVERLAP` of the smaller one (text printed
  over text: a cell running into the next, a label over another).

Words are compared as a reader reads them: Unicode-normalised (NFKC, so ligatures are letters),
case-folded (a heading in capitals is still its words), without the punctuation around them.
Bare numbers (page numbers, a table of contents' references) are always accepted.
"""

from __future__ import annotations

import io
import string
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from tests.visual.pages import TIMEOUT_SECONDS, require_tool

XHTML = "{http://www.w3.org/1999/xhtml}"
POINTS_PER_MM = 72 / 25.4
HYPHENS = ("-", "\u00ad", "\u2010", "\u2011")
OVERLAP = 0.2  # of the smaller word's box; neighbouring glyph boxes touch, never cover
ROOM = 300.0  # points added around each page while reading its words
AROUND = string.punctuation + "«»“”‘’„¿¡…·•–—\u00a0"


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    number: int
    width: float  # points
    height: float
    words: list[Word]


def with_room_around(pdf: bytes) -> tuple[bytes, list[tuple[float, float]]]:
    """`pdf` with every page's box grown by `ROOM` points on each side, and the pages' original
    sizes: pdftotext drops the characters that start off the page, so a word running past the
    edge would read as a shorter word inside it; on the grown page it is read whole, and found."""
    reader, writer = PdfReader(io.BytesIO(pdf)), PdfWriter()
    sizes = []
    for page in reader.pages:
        box = page.mediabox
        sizes.append((float(box.width), float(box.height)))
        grown = RectangleObject(
            [box.left - ROOM, box.bottom - ROOM, box.right + ROOM, box.top + ROOM]
        )
        page.mediabox = grown
        page.cropbox = grown
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), sizes


def pdf_words(pdf: bytes) -> list[Page]:
    """Every page of `pdf` with its words and their boxes (points from the page's top left
    corner; a word off the page has coordinates outside 0…width, 0…height)."""
    pdftotext = require_tool("pdftotext")
    grown, sizes = with_room_around(pdf)
    with tempfile.TemporaryDirectory(prefix="foro-pdftotext-") as work:
        source = Path(work) / "in.pdf"
        source.write_bytes(grown)
        result = subprocess.run(
            [pdftotext, "-bbox", "-enc", "UTF-8", str(source), "-"],
            check=True,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
    root = SafeET.fromstring(result.stdout)
    pages = []
    for number, (page, (width, height)) in enumerate(
        zip(root.iter(f"{XHTML}page"), sizes, strict=True), start=1
    ):
        words = [
            Word(
                word.text or "",
                float(word.get("xMin")) - ROOM,
                float(word.get("yMin")) - ROOM,
                float(word.get("xMax")) - ROOM,
                float(word.get("yMax")) - ROOM,
            )
            for word in page.iter(f"{XHTML}word")
        ]
        pages.append(Page(number, width, height, words))
    return pages


def overflowing(pages: list[Page], margin_mm: float = 0.0) -> list[str]:
    """The words not inside their page, `margin_mm` in from its edges, as readable findings."""
    margin, slack = margin_mm * POINTS_PER_MM, 0.5  # slack: poppler rounds glyph boxes
    found = []
    for page in pages:
        for word in page.words:
            inside = (
                word.x_min >= margin - slack
                and word.y_min >= margin - slack
                and word.x_max <= page.width - margin + slack
                and word.y_max <= page.height - margin + slack
            )
            if not inside:
                found.append(
                    f"page {page.number}: {word.text!r} at "
                    f"({word.x_min:.0f}, {word.y_min:.0f})–({word.x_max:.0f}, {word.y_max:.0f}) pt "
                    f"leaves the page of {page.width:.0f} x {page.height:.0f} pt"
                    + (f" less {margin_mm:g} mm margins" if margin_mm else "")
                )
    return found


def overlapping(pages: list[Page]) -> list[str]:
    """The pairs of words printed over each other, as readable findings."""
    found = []
    for page in pages:
        words = sorted(page.words, key=lambda w: w.y_min)
        for index, word in enumerate(words):
            for other in words[index + 1 :]:
                if other.y_min >= word.y_max:
                    break  # sorted by top: no later word reaches this one
                width = min(word.x_max, other.x_max) - max(word.x_min, other.x_min)
                height = min(word.y_max, other.y_max) - max(word.y_min, other.y_min)
                if width <= 0 or height <= 0:
                    continue
                smaller = min(area(word), area(other))
                if smaller > 0 and width * height > OVERLAP * smaller:
                    found.append(
                        f"page {page.number}: {word.text!r} and {other.text!r} are printed over "
                        f"each other at ({max(word.x_min, other.x_min):.0f}, "
                        f"{max(word.y_min, other.y_min):.0f}) pt"
                    )
    return found


def area(word: Word) -> float:
    return (word.x_max - word.x_min) * (word.y_max - word.y_min)


def reading_form(token: str) -> str:
    return unicodedata.normalize("NFKC", token).strip(AROUND).casefold()


def vocabulary(sources: Iterable[str]) -> set[str]:
    """The words of the source texts, in their reading form."""
    return {reading_form(token) for text in sources for token in text.split()}


def cut_short(token: str, words: set[str]) -> bool:
    """Whether `token` ends in an ellipsis right after the start of a longer word ("fen…" where
    the source says "Fenómeno"): a label shortened to fit, even when the shortened label is itself
    in the source (a document that truncates its own chart labels)."""
    if not unicodedata.normalize("NFKC", token).rstrip(AROUND.replace(".", "")).endswith("..."):
        return False
    stem = reading_form(token)
    return bool(stem) and any(len(word) > len(stem) and word.startswith(stem) for word in words)


def broken(pages: list[Page], words: set[str]) -> list[str]:
    """The PDF's words that are no word of `words`, nor a hyphen-ended part joining the next."""
    found = []
    for page in pages:
        tokens = [word.text for word in page.words]
        index = 0
        while index < len(tokens):
            token = tokens[index]
            form = reading_form(token)
            if cut_short(token, words):
                found.append(f"page {page.number}: {token!r} is a word cut short")
                index += 1
                continue
            if not form or form.isdigit() or form in words:
                index += 1
                continue
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is not None and token.endswith(HYPHENS):
                joined = {token[:-1] + following, token + following}
                if any(reading_form(candidate) in words for candidate in joined):
                    index += 2
                    continue
            context = " ".join(tokens[max(0, index - 2) : index + 3])
            found.append(f"page {page.number}: {token!r} is no word of the source («{context}»)")
            index += 1
    return found


def strings_in(value: Any) -> list[str]:
    """Every string inside a document (dicts, lists, tuples), e.g. a Memoria's document dict."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, (list, tuple, set)):
        return [text for item in value for text in strings_in(item)]
    return []


def word_problems(pdf: bytes, sources: Iterable[str], margin_mm: float = 0.0) -> list[str]:
    """Every word of `pdf` that leaves its page (or its margins), covers another or is broken
    (see the module's docstring)."""
    pages = pdf_words(pdf)
    if sum(len(page.words) for page in pages) < 1:
        return ["the PDF has no text to check"]
    return overflowing(pages, margin_mm) + overlapping(pages) + broken(pages, vocabulary(sources))


def assert_words_fit(pdf: bytes, sources: Iterable[str], margin_mm: float = 0.0) -> None:
    problems = word_problems(pdf, sources, margin_mm)
    assert not problems, "words overflow or are broken:\n  " + "\n  ".join(problems)

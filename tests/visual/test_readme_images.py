"""The README shows what people keep: larger copies of chosen pages of the visual tests' cases
in docs/, written by the same command that rewrites the references (FORO_UPDATE_REFERENCES=1),
and linked from the README. Pages are chosen by what they say, not by number, so a new layout
still shows its cover, contents, a chart and a table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.visual.cases import rendered
from tests.visual.pages import compact, pdf_to_pngs, save_png, updating
from tests.visual.words import Page, pdf_words, reading_form

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONTENTS = ("contenido", "índice")  # the Memoria's table of contents is titled so (es)


@dataclass(frozen=True)
class ReadmeImage:
    file: str  # docs/<file>
    case: str
    dpi: int
    shows: tuple[str, ...] = ()  # the first page past the cover and contents with one of these
    page: int = 1  # else this one

    def choose(self, pages: list[Page]) -> int:
        if self.file.endswith("contents.png"):
            found = [p.number for p in pages if read(p) & set(CONTENTS)]
            return found[0] if found else self.page
        body = [p for p in pages if p.number > 1 and not read(p) & set(CONTENTS)]
        wanted = {reading_form(word) for word in self.shows}
        found = [p.number for p in body if read(p) & wanted]
        return found[0] if found else self.page


def read(page: Page) -> set[str]:
    return {reading_form(word.text) for word in page.words}


IMAGES = [
    ReadmeImage("visual-memoria-cover.png", "memoria-es", dpi=80),
    ReadmeImage("visual-memoria-contents.png", "memoria-es", dpi=80, page=2),
    # a page with a numbered figure (a chart), or the participation bars of the older layout
    ReadmeImage("visual-memoria-chart.png", "memoria-es", dpi=80, shows=("Figura",), page=5),
    # the programme as held, the table that used to break "EXPO-OPEN"
    ReadmeImage("visual-memoria-table.png", "memoria-es", dpi=80, shows=("EXPO-OPEN",), page=3),
    ReadmeImage("visual-floor-plan.png", "floor-plan-es", dpi=110),
    ReadmeImage("visual-badge.png", "badges-es", dpi=150),
]


@pytest.mark.parametrize("image", IMAGES, ids=[image.file for image in IMAGES])
def test_the_readme_shows_the_page(image: ReadmeImage) -> None:
    path = DOCS / image.file
    if updating():
        pdf, _ = rendered(image.case)
        number = image.choose(pdf_words(pdf))
        save_png(compact(pdf_to_pngs(pdf, image.dpi)[number - 1]), path)
    assert path.is_file(), f"{path} is missing: FORO_UPDATE_REFERENCES=1 writes it"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    link = re.escape(f"docs/{image.file}")
    assert re.search(rf'(src="|\]\(){link}["\)]', readme), f"README.md shows no {path}"

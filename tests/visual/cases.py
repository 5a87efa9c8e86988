"""The visual tests' cases: what is rendered, at which resolution, with which margins. Each is
rendered once per session (`rendered`): the comparison, the word check and the README's images
read the same PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from services.registration.badges.render import Layout
from services.registration.badges.render import render_pdf as render_badges
from services.reporting.publishing.render import render_pdf
from tests.visual import samples

# The Memoria's words stay this far from the paper's edge: its running heads and page numbers sit
# in the page margins, its body further in; nothing is printed where a printer cannot print.
MEMORIA_EDGE_MM = 7.0


@dataclass(frozen=True)
class Case:
    name: str  # references/<name>-p<N>.png
    render: Callable[[], tuple[bytes, list[str]]]  # the PDF and the text it is made from
    dpi: int
    edge_mm: float = 0.0
    first_pages: int | None = None  # compare only these (the rest is covered in another language)


def badges(language: str, layout: Layout = "a6") -> Callable[[], tuple[bytes, list[str]]]:
    def render() -> tuple[bytes, list[str]]:
        cards = samples.badge_cards(language)
        return render_badges(cards, layout), samples.badge_texts(cards)

    return render


def floor_plan(language: str) -> Callable[[], tuple[bytes, list[str]]]:
    return lambda: samples.floor_plan_pdf(language)


def memoria(language: str) -> Callable[[], tuple[bytes, list[str]]]:
    def render() -> tuple[bytes, list[str]]:
        document = samples.memoria(language)
        return render_pdf(document), samples.document_texts(document)

    return render


def base_document(language: str) -> Callable[[], tuple[bytes, list[str]]]:
    def render() -> tuple[bytes, list[str]]:
        document = samples.base_document(language)
        return render_pdf(document), samples.document_texts(document)

    return render


CASES = [
    Case("badges-es", badges("es"), dpi=72),
    Case("badges-en", badges("en"), dpi=72),
    Case("badge-sheet-es", badges("es", "a4"), dpi=50),
    Case("floor-plan-es", floor_plan("es"), dpi=72),
    Case("floor-plan-en", floor_plan("en"), dpi=72),
    Case("memoria-es", memoria("es"), dpi=50, edge_mm=MEMORIA_EDGE_MM),
    Case(
        "memoria-en",
        memoria("en"),
        dpi=50,
        edge_mm=MEMORIA_EDGE_MM,
        first_pages=4,
    ),
    Case("base-document-es", base_document("es"), dpi=50, edge_mm=MEMORIA_EDGE_MM),
]
BY_NAME = {case.name: case for case in CASES}


@cache
def rendered(name: str) -> tuple[bytes, list[str]]:
    """Each case rendered once per session (both tests read it; rendering is deterministic)."""
    return BY_NAME[name].render()

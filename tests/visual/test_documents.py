"""What people keep, looked at: the badges, the expo floor plan, the Memoria and the base document
rendered to PDF, their pages compared with the committed reference images, and every word on
them inside the page, whole and printed clear of the others (tests/visual/README.md; regenerate with FORO_UPDATE_REFERENCES=1).
"""

from __future__ import annotations

import pytest

from tests.visual.cases import BY_NAME, CASES, rendered
from tests.visual.pages import assert_matches_references
from tests.visual.words import word_problems


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_pages_look_like_their_references(name: str) -> None:
    case = BY_NAME[name]
    pdf, _ = rendered(name)
    assert_matches_references(case.name, pdf, case.dpi, case.first_pages)


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_every_word_is_inside_the_page_whole_and_clear_of_the_others(name: str) -> None:
    case = BY_NAME[name]
    pdf, sources = rendered(name)
    problems = word_problems(pdf, sources, case.edge_mm)
    assert not problems, "words overflow or are broken:\n  " + "\n  ".join(problems)

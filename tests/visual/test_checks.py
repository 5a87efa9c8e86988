"""The visual tests' own checks, on tiny PDFs made to pass or fail them: a broken or overflowing
word is found, a properly hyphenated one is not; a page that changed is told from one that did
not, and the failure names the pictures to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw

from shared.fonts import REGULAR
from tests.visual import pages
from tests.visual.words import assert_words_fit, word_problems

SOURCE = ["Inauguración de la EXPO-OPEN", "Participación de las asociaciones"]


def tiny_pdf(*lines: tuple[float, float, str], width: float = 100, height: float = 60) -> bytes:
    """A one-page PDF with each (x mm, y mm, text) written where it says."""
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(REGULAR))
    pdf.set_font("DejaVu", "", 10)
    pdf.add_page()
    for x, y, text in lines:
        pdf.text(x, y, text)
    return bytes(pdf.output())


def test_a_word_broken_mid_word_is_found() -> None:
    problems = word_problems(tiny_pdf((10, 10, "EXPO-O"), (10, 16, "PEN")), SOURCE)
    assert len(problems) == 2
    assert "'EXPO-O'" in problems[0] and "'PEN'" in problems[1]


def test_a_word_cut_short_by_an_ellipsis_is_found_even_when_the_source_cut_it() -> None:
    label = "Oportunidades y amenazas en torno al fen…"  # a chart label shortened to fit
    sources = ["Oportunidades y amenazas en torno al fenómeno migratorio", label]
    (problem,) = word_problems(tiny_pdf((10, 10, label)), sources)
    assert "'fen…'" in problem and "cut short" in problem
    assert_words_fit(
        tiny_pdf((10, 10, "nuestras comunidades…juntos")), ["nuestras comunidades…juntos"]
    )


def test_a_word_broken_at_its_own_hyphen_or_hyphenated_is_whole() -> None:
    assert_words_fit(tiny_pdf((10, 10, "EXPO-"), (10, 16, "OPEN")), SOURCE)
    assert_words_fit(tiny_pdf((10, 10, "Partici-"), (10, 16, "pación de las")), SOURCE)


def test_a_heading_in_capitals_and_punctuation_around_words_read_as_the_words() -> None:
    assert_words_fit(tiny_pdf((10, 10, "PARTICIPACIÓN, «asociaciones»: 12")), SOURCE)


def test_a_word_of_no_source_is_found() -> None:
    (problem,) = word_problems(tiny_pdf((10, 10, "Inauguración Clausura")), SOURCE)
    assert "'Clausura'" in problem


def test_a_word_past_the_page_edge_is_found() -> None:
    (problem,) = word_problems(tiny_pdf((10, 10, "de"), (92, 30, "asociaciones")), SOURCE)
    assert "'asociaciones'" in problem and "leaves the page" in problem


def test_a_word_inside_the_page_but_in_its_margin_is_found_only_when_margins_are_asked() -> None:
    near_the_edge = tiny_pdf((3, 30, "Inauguración"))
    assert word_problems(near_the_edge, SOURCE) == []
    (problem,) = word_problems(near_the_edge, SOURCE, margin_mm=7)
    assert "'Inauguración'" in problem and "7 mm margins" in problem


def test_words_printed_over_each_other_are_found_and_neighbours_are_not() -> None:
    (problem,) = word_problems(tiny_pdf((10, 10, "Inauguración"), (14, 10, "EXPO-OPEN")), SOURCE)
    assert "'Inauguración' and 'EXPO-OPEN' are printed over each other" in problem
    assert_words_fit(tiny_pdf((10, 10, "Inauguración de la"), (10, 14.5, "EXPO-OPEN")), SOURCE)


def page_with_text(text: str, at: tuple[int, int] = (20, 20)) -> Image.Image:
    image = Image.new("RGB", (200, 120), "white")
    ImageDraw.Draw(image).text(at, text, fill="black")
    return image


def test_a_moved_line_differs_beyond_the_tolerance_and_the_same_page_does_not() -> None:
    reference = page_with_text("EXPO-OPEN 09:45")
    same, _ = pages.differing_fraction(reference, page_with_text("EXPO-OPEN 09:45"))
    moved, _ = pages.differing_fraction(reference, page_with_text("EXPO-OPEN 09:45", (20, 40)))
    assert same == 0 and moved > pages.MAX_DIFFERING


def test_one_changed_digit_is_found_in_its_patch_though_the_page_barely_changed() -> None:
    reference = Image.new("RGB", (600, 800), "white")
    changed = reference.copy()
    ImageDraw.Draw(reference).text((100, 100), "Asistencia 09:45", fill="black")
    ImageDraw.Draw(changed).text((100, 100), "Asistencia 10:45", fill="black")
    fraction, mask = pages.differing_fraction(reference, changed)
    assert fraction < pages.MAX_DIFFERING  # lost in the page…
    assert pages.differing_in_tile(mask) > pages.MAX_DIFFERING_IN_TILE  # …not in its patch
    same = pages.differing_fraction(reference, reference.copy())[1]
    assert pages.differing_in_tile(same) == 0


def test_a_faint_difference_within_the_channel_threshold_is_tolerated() -> None:
    reference = page_with_text("EXPO-OPEN")
    shade = pages.CHANNEL_THRESHOLD - 8
    fainter = Image.eval(reference, lambda value: min(255, value + shade) if value < 255 else value)
    assert pages.differing_fraction(reference, fainter)[0] == 0


def test_a_changed_page_fails_naming_the_actual_page_and_the_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "REFERENCES", tmp_path / "references")
    monkeypatch.setenv("FORO_VISUAL_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("FORO_UPDATE_REFERENCES", raising=False)
    original = tiny_pdf((10, 10, "Inauguración de la EXPO-OPEN"))
    with monkeypatch.context() as updating:
        updating.setenv("FORO_UPDATE_REFERENCES", "1")
        pages.assert_matches_references("tiny", original, dpi=72)
    assert [p.name for p in (tmp_path / "references").iterdir()] == ["tiny-p1.png"]
    pages.assert_matches_references("tiny", original, dpi=72)  # the same PDF matches

    changed = tiny_pdf((10, 30, "Inauguración de la EXPO-OPEN"))
    with pytest.raises(AssertionError) as failure:
        pages.assert_matches_references("tiny", changed, dpi=72)
    actual = tmp_path / "artifacts" / "tiny" / "actual-p1.png"
    diff = tmp_path / "artifacts" / "tiny" / "diff-p1.png"
    assert str(actual) in str(failure.value) and str(diff) in str(failure.value)
    assert actual.is_file() and diff.is_file()


def test_a_page_more_or_less_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "REFERENCES", tmp_path / "references")
    monkeypatch.setenv("FORO_VISUAL_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("FORO_UPDATE_REFERENCES", "1")
    pages.assert_matches_references("tiny", tiny_pdf((10, 10, "EXPO-OPEN")), dpi=72)
    monkeypatch.delenv("FORO_UPDATE_REFERENCES")
    pdf = FPDF(unit="mm", format=(100, 60))
    pdf.add_font("DejaVu", "", str(REGULAR))
    pdf.set_font("DejaVu", "", 10)
    for _ in range(2):
        pdf.add_page()
        pdf.text(10, 10, "EXPO-OPEN")
    with pytest.raises(AssertionError, match="2 pages, the references have 1"):
        pages.assert_matches_references("tiny", bytes(pdf.output()), dpi=72)


def test_a_missing_poppler_skips_on_a_workstation_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="pdftoppm"):
        pages.pdf_to_pngs(tiny_pdf((10, 10, "EXPO-OPEN")), dpi=72)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="pdftoppm"):
        pages.pdf_to_pngs(tiny_pdf((10, 10, "EXPO-OPEN")), dpi=72)

"""The words of what people keep — the Memoria and base document (reporting), the floor plan
(expo), the calendars (scheduling) — come from one catalogue per language: English in code (each
service's `WORDS`), the others in `services/<service>/locale/<lang>.po` (`shared.i18n.Words`).
Spanish is complete and current; a third language is a catalogue away — in a pseudo-language made
at test time, a whole Memoria, base document and floor plan print without one English word of
the catalogues left."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from services.expo.booths import floorplan
from services.reporting.publishing import labels
from services.reporting.publishing.render import render_html
from services.scheduling import words as scheduling_words
from shared import i18n
from tests.visual import samples

PSEUDO = "qps"
ACCENTS = dict(zip("aeiouAEIOUcnsyCNSY", "àéîöûÀÉÎÖÛçñšýÇÑŠÝ", strict=True))


def leaves(words: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    return i18n.word_paths(words)


def pseudo(text: str) -> str:
    """`Programme of {day}` → `⟦Pŕöĝŕàɱɱé öƒ {day}⟧`: accented, bracketed, placeholders kept."""
    parts = re.split(r"(\{[^}]*\})", text)
    return (
        "⟦"
        + "".join(p if p.startswith("{") else "".join(ACCENTS.get(c, c) for c in p) for p in parts)
        + "⟧"
    )


CATALOGUES = {
    "reporting": labels.LABELS,
    "expo": floorplan.FLOOR_WORDS,
    "scheduling": scheduling_words.SCHEDULING_WORDS,
}


def pseudo_catalogue(words: i18n.Words, directory: Path) -> None:
    """`directory` holds the Spanish catalogue and a pseudo one made from `words`' English."""
    catalogue = Catalog(locale="en", project="pseudo")  # Babel knows no `qps`: English plurals
    for path, value in leaves(words.source):
        if isinstance(value, tuple):
            catalogue.add(value, tuple(pseudo(v) for v in value), context=path)
        else:
            catalogue.add(value, pseudo(value), context=path)
    directory.mkdir(parents=True)
    shutil.copy(words.directory / "es.po", directory / "es.po")
    with (directory / f"{PSEUDO}.po").open("wb") as handle:
        write_po(handle, catalogue)


@pytest.fixture
def pseudo_language(tmp_path: Path) -> Iterator[str]:
    saved = {name: (words.directory, words.loaded) for name, words in CATALOGUES.items()}
    for name, words in CATALOGUES.items():
        pseudo_catalogue(words, tmp_path / name)
        words.directory, words.loaded = tmp_path / name, {}
    try:
        yield PSEUDO
    finally:
        for name, words in CATALOGUES.items():
            words.directory, words.loaded = saved[name]


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script")
        self.chunks.extend(v for k, v in attrs if k in ("alt", "aria-label", "title") and v)

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def english_phrases(source: dict[str, Any] = labels.WORDS) -> set[str]:
    """The catalogue's English texts of two words or more, placeholders cut out (a single word
    like `Total` or `Expo` may also be a name in the forum's own data)."""
    found = set()
    for _, value in leaves(source):
        for text in value if isinstance(value, tuple) else (value,):
            for piece in re.split(r"\{[^}]*\}", text):
                piece = " ".join(piece.split()).strip(" :·,.()")
                if len(piece.split()) >= 2:
                    found.add(piece)
    return found


@pytest.mark.parametrize("service", sorted(CATALOGUES))
def test_spanish_has_every_word_and_only_current_ones(service: str) -> None:
    words = CATALOGUES[service]
    entries = i18n.read_catalogue(words.directory / "es.po")
    paths = dict(leaves(words.source))
    assert sorted(set(paths) - set(entries)) == [], "words without a Spanish entry"
    assert sorted(set(entries) - set(paths)) == [], "Spanish entries for words no longer in WORDS"


@pytest.mark.parametrize("service", sorted(CATALOGUES))
def test_spanish_entries_translate_todays_english(service: str) -> None:
    """A msgid that no longer matches WORDS is a translation of a text that has changed."""
    words = CATALOGUES[service]
    with (words.directory / "es.po").open("rb") as handle:
        catalogue = read_po(handle)
    paths = dict(leaves(words.source))
    stale = [
        message.context
        for message in catalogue
        if message.id and paths.get(str(message.context)) not in (message.id, tuple(message.id))
    ]
    assert stale == []


def test_a_language_without_a_catalogue_reads_in_english() -> None:
    assert labels.LABELS["xx"]["contents"] == labels.WORDS["contents"]
    assert labels.LABELS["es"]["contents"] == "Contenido"


def test_a_memoria_in_a_pseudo_language_leaves_no_catalogue_word_in_english(
    pseudo_language: str,
) -> None:
    memoria = visible_text(render_html(samples.memoria(pseudo_language)))
    base = visible_text(render_html(samples.base_document(pseudo_language)))
    assert pseudo(labels.WORDS["contents"]) in memoria
    assert pseudo(labels.WORDS["statuses"]["confirmed"]) in memoria
    leaks = sorted(p for p in english_phrases() if p in memoria or p in base)
    assert leaks == [], f"English catalogue words on a {pseudo_language} page: {leaks}"
    # Its dates and numbers fall back to the source language's conventions, not to Spanish.
    assert "November" in memoria and "noviembre" not in memoria


def test_a_floor_plan_and_a_calendar_in_a_pseudo_language_leave_no_english(
    pseudo_language: str,
) -> None:
    plan = visible_text(samples.floor_plan_svg(pseudo_language))
    assert pseudo(floorplan.WORDS["entrance"]) in plan
    assert [p for p in english_phrases(floorplan.WORDS) if p in plan] == []
    for single in ("Entrance", "Stage", "Aisle", "Zones", "Scale"):
        assert single not in plan.split()
    words = scheduling_words.SCHEDULING_WORDS[pseudo_language]
    assert words["roles"]["speaker"] == pseudo("Speaker")
    assert words["my_agenda"] == pseudo("my agenda")


def test_the_leak_check_finds_english_where_it_is() -> None:
    english = visible_text(render_html(samples.memoria("en")))
    assert "Participation in figures" in english_phrases()
    assert any(phrase in english for phrase in english_phrases())

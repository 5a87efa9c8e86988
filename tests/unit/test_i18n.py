"""A third language is a catalogue away, not a code change.

- The shared layer (shared/i18n.py) writes dates, numbers, money and counts for a language it
  has no mapping for with the source language's conventions, and for a real third locale
  (French) with that locale's own — through the same calls the services make.
- The web: a pseudo-language built at test time from the Spanish catalogues (every English
  message transformed, "Sign in" → "[Šîĝñ îñ]", counted sentences too) is added to the app's
  translations, strict (a message it lacks fails the page); every page a visitor, a member of
  staff and each party open is drawn in it against the site's fakes, and no English message of
  the catalogue shows through, in text or in the attributes a person reads. Data (names,
  organisations, the pack's own bilingual texts) is exempt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from services.web.bootstrap import create_app
from services.web.i18n import (
    SOURCE_LANGUAGE,
    Key,
    Np_,
    Translations,
    read_catalogs,
    read_plural_catalogs,
    source_plurals,
)
from services.web.settings import WebSettings
from shared import i18n
from shared.pack import load_pack
from tests.e2e.web import site_fakes
from tests.support.web_console import COOKIE_SECRET, PASSWORD, csrf_of

PSEUDO = "xx"  # no Babel locale: formats fall back to the source language's
DAY = date(2026, 11, 18)
MOMENT = datetime(2026, 11, 18, 15, 30, tzinfo=ZoneInfo("UTC"))
VENUE = ZoneInfo("America/El_Salvador")

# --- the shared layer -----------------------------------------------------------------------------


def test_an_unknown_language_is_written_with_the_source_languages_conventions() -> None:
    for call in (
        lambda lang: i18n.date_text(DAY, lang),
        lambda lang: i18n.date_range(DAY, date(2026, 11, 19), lang),
        lambda lang: i18n.datetime_text(MOMENT, lang, VENUE),
        lambda lang: i18n.number(12345.5, lang),
        lambda lang: i18n.percent(0.25, lang),
        lambda lang: i18n.money(1500, lang),
        lambda lang: i18n.count(1, "message", "messages", lang),
        lambda lang: i18n.count(2, "message", "messages", lang),
    ):
        assert call(PSEUDO) == call(i18n.SOURCE_LANGUAGE) == call("en")
    assert i18n.date_text(DAY, PSEUDO) == "November 18, 2026"
    assert i18n.money(1500, PSEUDO) == "US$1,500.00"


def test_a_real_third_locale_is_written_its_own_way_without_a_mapping() -> None:
    assert "fr" not in i18n.LOCALES  # nothing told the layer about French
    assert i18n.date_text(DAY, "fr") == "18 novembre 2026"
    assert i18n.date_range(DAY, date(2026, 11, 19), "fr") == "18–19 nov. 2026"
    assert i18n.datetime_text(MOMENT, "fr", VENUE) == "18 novembre 2026, 09:30"
    assert i18n.number(12345.5, "fr") == "12\u202f345,5"
    assert i18n.percent(0.25, "fr") == "25\xa0%"
    assert i18n.money(1500, "fr") == "1\u202f500,00\xa0US$"  # the US$ symbol, unambiguous
    # CLDR plural categories: French counts 0 and 1 as one; English and Spanish only 1.
    assert i18n.count(0, "message", "messages", "fr") == "0 message"
    assert i18n.count(0, "message", "messages", "en") == "0 messages"
    assert i18n.count(1200, "mensaje", "mensajes", "es") == "1.200 mensajes"
    assert [i18n.plural_index(n, "fr", 2) for n in (0, 1, 2)] == [0, 0, 1]
    # A language with more forms: Russian's one / few / many in a three-form catalogue.
    assert [i18n.plural_index(n, "ru", 3) for n in (1, 2, 5, 21)] == [0, 1, 2, 0]


def test_language_codes_are_read_loosely() -> None:
    assert i18n.locale_of("es-SV") == i18n.locale_of("ES") == i18n.locale_of("es")
    assert i18n.locale_of(None) == i18n.locale_of(i18n.SOURCE_LANGUAGE)


def test_a_percentage_keeps_the_languages_pattern_whatever_its_decimals() -> None:
    assert [i18n.percent(0.75, "es"), i18n.percent(0.75, "es", 1)] == ["75\xa0%", "75,0\xa0%"]
    assert [i18n.percent(0.75, "en"), i18n.percent(0.256, "en", 1)] == ["75%", "25.6%"]


def test_names_are_ordered_as_a_reader_expects_accents_aside_and_n_tilde_after_n() -> None:
    names = ["Smith", "Ñandú", "Álvarez", "Nuñez", "Zúñiga", "Nunez", "alvarez", "Navarro"]
    assert sorted(names, key=i18n.sort_key) == [
        "alvarez",
        "Álvarez",
        "Navarro",
        "Nunez",
        "Nuñez",
        "Ñandú",
        "Smith",
        "Zúñiga",
    ]


# --- the web in a pseudo-language -----------------------------------------------------------------

ACCENTS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "àƀçđéƒĝĥîĵķĺɱñöþǫŕšŧûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŦÛṼŴẊÝŽ",
        strict=True,
    )
)
PLACEHOLDER = re.compile(r"({\w+})")


def pseudo(message: str) -> str:
    """`Sign in` → `[Šîĝñ îñ]`: every letter accented, the `{placeholders}` kept as they are."""
    parts = PLACEHOLDER.split(message)
    return (
        "["
        + "".join(
            p if PLACEHOLDER.fullmatch(p) else p.translate(str.maketrans(ACCENTS)) for p in parts
        )
        + "]"
    )


def pseudo_entry(key: Key, message: str | None = None) -> str:
    """The pseudo-translation of a catalogue entry: an entry with a context shows it too
    (`[Çöñƒîŕɱéđ·ɱééŧîñĝ]`), so a page proves it asked for the right one."""
    context, msgid = key
    text = message or msgid
    return pseudo(f"{text}·{context}" if context else text)


def pseudo_translations(default: str) -> Translations:
    """The app's languages plus the pseudo-language, made from every entry of the Spanish
    catalogues (by context and msgid); strict, so a message the catalogues lack fails the page
    drawing it."""
    real = Translations.load(default, ["es", "en"], strict=True)
    counted = source_plurals()
    real.catalogs[PSEUDO] = {key: pseudo_entry(key) for key in read_catalogs("es")}
    real.plurals[PSEUDO] = {
        key: (pseudo_entry(key), pseudo_entry(key, counted.get(key, key[1])))
        for key in read_plural_catalogs("es")
    }
    return real


class Readable(HTMLParser):
    """The text a person reads in a page: text nodes outside scripts and styles, and the
    attributes read aloud or shown (aria-label, title, alt, placeholder, a button's value)."""

    ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-template")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in self.ATTRIBUTES or (name == "value" and tag == "button")):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append(" ".join(data.split()))


def readable(html: str) -> list[str]:
    parser = Readable()
    parser.feed(html)
    return parser.found


def leak_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each English message of the catalogues as the words it shows (placeholders matching
    anything): a page showing one of these showed English where the pseudo-language was asked."""
    messages = (
        {message for _context, message in read_catalogs("es")}
        | {message for _context, message in read_plural_catalogs("es")}
        | set(source_plurals().values())
    )
    patterns = []
    for message in sorted(messages):
        chunks = [c.strip() for c in PLACEHOLDER.split(message) if not PLACEHOLDER.fullmatch(c)]
        words = [c for c in chunks if re.search(r"[A-Za-z]{2}", c)]
        if not words:
            continue
        body = r".*?".join(re.escape(c) for c in chunks if c)
        # Not inside a word, a code (`registration.confirmed`) or a pseudo-translation.
        patterns.append((message, re.compile(rf"(?<![\w\[])(?<!\w\.){body}(?!\w|\.\w)")))
    return patterns


def get_pages(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from get_pages(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Route | APIRoute) and "GET" in (route.methods or set()):
            yield prefix + route.path


NOT_PAGES = re.compile(r"^/(health|static)(/|$)|\.(ics|pdf|svg|json|js|txt|csv|html)$|\{|/signout")
PARTY_OWN = ("/access", "/party", "/delegation", "/exhibitor", "/me")


@pytest.fixture
def app() -> object:
    app = create_app(
        WebSettings(cookie_secret=[COOKIE_SECRET]),
        transport=httpx.MockTransport(site_fakes.SiteFakes()),
        strict_translations=True,
    )
    app.state.translations = pseudo_translations(app.state.translations.default)
    return app


def pages_of(app: object) -> list[str]:
    paths = sorted({p for p in get_pages(app.routes) if not NOT_PAGES.search(p)})  # type: ignore[attr-defined]
    assert {"/", "/programme", "/signup", "/console"} <= set(paths), paths
    return paths


async def open_pages(client: httpx.AsyncClient, paths: list[str]) -> dict[str, str]:
    drawn = {}
    for path in paths:
        response = await client.get(path)
        if response.status_code in (301, 302, 303, 307):
            continue  # sends elsewhere: drawn where it sends
        assert response.status_code in (200, 404), (path, response.status_code, response.text[:400])
        if "text/html" in response.headers.get("content-type", ""):
            assert f'<html lang="{PSEUDO}">' in response.text or "<html" not in response.text, path
            drawn[path] = response.text
    return drawn


def strings_of(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_of(item)


# Data, not messages: every text of the event pack (the forum's and rooms' names in Spanish and
# English, "Foro: El Sector Privado…"), longest first, taken out of a text before it is checked.
PACK_TEXTS = sorted(
    {t for t in strings_of(load_pack().model_dump(mode="json")) if len(t) > 2},
    key=len,
    reverse=True,
)
# Messages that read the same in every language (a format's name).
THE_SAME_EVERYWHERE = {"HTML", "PDF", "SMS"}


def leaks(drawn: dict[str, str]) -> list[tuple[str, str, str]]:
    patterns = [(m, p) for m, p in leak_patterns() if m not in THE_SAME_EVERYWHERE]
    found = []
    for path, html in drawn.items():
        for shown in readable(html):
            text = shown
            for data in PACK_TEXTS:
                if data in text:
                    text = text.replace(data, " ")
            for message, pattern in patterns:
                if pattern.search(text):
                    found.append((path, message, shown))
    return found


async def test_every_page_in_a_pseudo_language_shows_no_english_message(app: object) -> None:
    paths = pages_of(app)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    drawn: dict[str, str] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as visitor:
        assert (await visitor.get(f"/?lang={PSEUDO}")).headers["content-language"] == PSEUDO
        public = [p for p in paths if not p.startswith(("/console", *PARTY_OWN))]
        drawn |= await open_pages(visitor, [*public, "/programme?day=0", "/no/such/page"])
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as staff:
        await staff.get(f"/signin?lang={PSEUDO}")
        form = await staff.get("/signin")
        signed_in = await staff.post(
            "/signin",
            data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
        assert signed_in.status_code == 303, signed_in.text[:400]
        console = [p for p in paths if p.startswith("/console")]
        drawn |= await open_pages(staff, [*console, *site_fakes.CONSOLE_SAMPLES])
    for kind, (token, _first) in site_fakes.PARTIES.items():
        async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as party:
            form = await party.get(f"/access?lang={PSEUDO}")
            entered = await party.post(
                "/access", data={"code": token, "csrf_token": csrf_of(form.text)}
            )
            assert entered.status_code == 303, (kind, entered.text[:400])
            drawn |= await open_pages(party, site_fakes.PARTY_PAGES[kind])
    assert len(drawn) >= 30, sorted(drawn)
    # Every page drew in the pseudo-language: its messages accented and bracketed…
    for path, html in drawn.items():
        assert "[" in html and any(ch in html for ch in "àéîöû"), f"{path}: no pseudo text"
    # …each entry with a context drawn in its own (a B2B meeting's state, not a participant's)…
    # (The site's fakes cancel no session, and a release's changes are a POST's answer:
    # test_web_pages and test_web_console_areas read those two in Spanish.)
    contexts = {context for context, _message in read_catalogs("es") if context}
    shown = " ".join(drawn.values())
    not_drawn = {c for c in contexts if f"·{pseudo(c)[1:-1]}]" not in shown}
    assert not_drawn <= {"session", "sessions"}, not_drawn
    # …and none of the catalogue's English showed through.
    assert leaks(drawn) == []
    assert not app.state.translations.missing  # type: ignore[attr-defined]


def test_the_pseudo_language_covers_every_entry_including_counted_ones() -> None:
    translations = pseudo_translations("es")
    assert translations.gettext(PSEUDO, "Sign in") == "[Šîĝñ îñ]"
    assert translations.ngettext(PSEUDO, "{count} message", "{count} messages", 1) == (
        "[1 ɱéššàĝé]"
    )
    assert translations.ngettext(PSEUDO, "{count} message", "{count} messages", 1200) == (
        "[1,200 ɱéššàĝéš]"  # the source language's number format: no locale for `xx`
    )
    assert PSEUDO in translations.languages and SOURCE_LANGUAGE in translations.languages


def test_the_pseudo_language_keeps_each_context_apart() -> None:
    translations = pseudo_translations("es")
    assert translations.gettext(PSEUDO, "Confirmed") == "[Çöñƒîŕɱéđ]"  # a participant
    assert translations.gettext(PSEUDO, Np_("meeting", "Confirmed")) == "[Çöñƒîŕɱéđ·ɱééŧîñĝ]"
    assert translations.pgettext(PSEUDO, "meeting", "Confirmed") == "[Çöñƒîŕɱéđ·ɱééŧîñĝ]"
    with pytest.raises(KeyError, match="context 'nowhere'"):
        translations.pgettext(PSEUDO, "nowhere", "Confirmed")
    assert (PSEUDO, "nowhere", "Confirmed") in translations.missing


def test_the_leak_check_finds_english_where_it_is() -> None:
    page = "<main><p>[Šîĝñ îñ]</p><button aria-label='Sign in'>x</button><p>Lucía Prensa</p></main>"
    found = {message for _path, message, _text in leaks({"/": page})}
    assert "Sign in" in found
    assert not leaks({"/": "<p>[Šîĝñ îñ] Lucía Prensa</p>"})


async def test_a_message_missing_from_the_pseudo_catalogue_is_caught_on_the_page(
    app: object,
) -> None:
    translations = app.state.translations  # type: ignore[attr-defined]
    translations.strict = False  # the page draws, with the English it lacks
    message = "Add it to your calendar"
    del translations.catalogs[PSEUDO][(None, message)]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as visitor:
        drawn = await open_pages(visitor, [f"/programme?lang={PSEUDO}"])
    assert message in {m for _path, m, _text in leaks(drawn)}
    assert (PSEUDO, None, message) in translations.missing

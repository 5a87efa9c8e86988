"""How foro writes dates, numbers, money and counts in a reader's language: one layer, on Babel.

Every service formats through these functions and nothing else (no month names, no `%d/%m`, no
`if lang == "es"` in a template): the language code a person chose (`es`, `en`, …) maps to the
Babel locale whose conventions it follows (`LOCALES`, overridable per pack). A language the
mapping does not know falls back to the source language's locale for its formats, so a third
language is a catalogue away, not a code change (`tests/unit/test_i18n.py` proves it with a
pseudo-locale).

    date_text(date(2026, 3, 4), "es")               '4 de marzo de 2026'
    date_range(first, last, "en")                   'Mar 4 – 6, 2026'
    number(12345.5, "es")                           '12.345,5'
    money(1500, "en")                               'US$1,500.00'
    count(1, "message", "messages", "en")           '1 message'
    plural(2, {"one": "mensaje", "other": "mensajes"}, "es")   'mensajes'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

SOURCE_LANGUAGE = "en"

# Language code → the Babel locale whose formats it follows. Spanish follows the general Spanish
# conventions (4 de marzo de 2026, 12.345,5); English the international ones (4 March 2026 would
# be en_001; the forum's English readers are used to the US order, so `en`).
LOCALES: dict[str, str] = {"es": "es", "en": "en"}

# Currencies whose bare symbol is ambiguous across the forum's countries: written with the
# country prefix in every language (US$, never a bare $ that a Mexican or Salvadoran reads
# as pesos or colones).
CURRENCY_SYMBOLS = {"USD": "US$"}

DateFormat = Literal["short", "medium", "long", "full"] | str


def language_of(lang: str | None) -> str:
    """`es-SV`, `ES`, `es_SV` → `es`; nothing → the source language."""
    if not lang:
        return SOURCE_LANGUAGE
    return lang.replace("-", "_").split("_")[0].lower()


@cache
def locale_of(lang: str | None) -> Locale:
    """The Babel locale `lang` is written with; an unknown language gets the source language's."""
    code = language_of(lang)
    try:
        return Locale.parse(LOCALES.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(LOCALES[SOURCE_LANGUAGE])


def as_date(value: Any) -> date | None:
    """A date, a date-time or an ISO string as a date (None when it is none of those)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def date_text(value: Any, lang: str | None, format: DateFormat = "long") -> str:
    """A day as the language writes it: `4 de marzo de 2026`, `March 4, 2026`; `format` is a
    Babel width (short, medium, long, full) or a CLDR pattern (`d MMM`). A value that is not a
    date is returned as it was (never an exception in a document someone is reading)."""
    day = as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return format_date(day, format, locale=locale_of(lang))


def date_range(first: Any, last: Any, lang: str | None, skeleton: str = "yMMMMd") -> str:
    """Two days as one span, without repeating what they share: `4–6 de marzo de 2026`."""
    start, end = as_date(first), as_date(last)
    if start is None or end is None:
        return " – ".join(str(v) for v in (first, last) if v)
    if start == end:
        return date_text(start, lang)
    return format_interval(start, end, skeleton, locale=locale_of(lang))


def datetime_text(
    value: Any, lang: str | None, tz: tzinfo | None = None, format: DateFormat = "long"
) -> str:
    """A moment in `tz` (the forum's zone) as a day and a 24-hour time: `4 de marzo de 2026,
    09:30` (`format` is the day's width: `4 mar 2026, 09:30` with medium). A forum across time
    zones reads 24-hour times without confusion."""
    moment = as_datetime(value)
    if moment is None:
        return date_text(value, lang, format)
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return f"{date_text(moment.date(), lang, format)}, {time_text(moment, lang)}"


def time_text(value: time | datetime, lang: str | None) -> str:
    """A time of day on the 24-hour clock: `09:30`."""
    return format_time(value, "HH:mm", tzinfo=None, locale=locale_of(lang))


def number(value: float | int | Decimal, lang: str | None, digits: int | None = None) -> str:
    """`12.345,5` (es), `12,345.5` (en); `digits` fixes the decimals."""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=locale_of(lang))


def percent(fraction: float | Decimal, lang: str | None, digits: int = 0) -> str:
    """A fraction as a percentage, in the language's own pattern whatever the decimals:
    0.25 → `25 %` (es), `25%` (en); with digits=1, `25,0 %`, `25.0%`."""
    pattern = locale_of(lang).percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1) if "." not in pattern else pattern
    return format_percent(fraction, pattern, locale=locale_of(lang))


def money(amount: float | int | Decimal, lang: str | None, currency: str = "USD") -> str:
    """An amount with its currency, its symbol unambiguous: `1.500,00 US$`, `US$1,500.00`."""
    locale = locale_of(lang)
    text = format_currency(amount, currency, locale=locale)
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        local = locale.currency_symbols.get(currency, currency)
        if symbol not in text:
            text = text.replace(local, symbol, 1)
    return text


def plural_form(count: float | int, lang: str | None) -> str:
    """The CLDR plural category of `count` in the language: `one`, `other`, `many`, …"""
    return str(locale_of(lang).plural_form(abs(count)))


def plural(count: float | int, forms: Mapping[str, str], lang: str | None) -> str:
    """The form of `forms` (keyed by CLDR category) for `count`; `other` when the language's
    category is missing (every language has `other`)."""
    return forms.get(plural_form(count, lang)) or forms["other"]


def language_name(code: str, lang: str | None) -> str:
    """A language's name as `lang` writes it: `inglés`, `English`, `anglais` (the code when
    CLDR does not know it)."""
    return str(locale_of(lang).languages.get(language_of(code)) or code)


# CLDR's plural categories in CLDR's order: a gettext catalogue's msgstr[0], msgstr[1], … follow
# the categories a language has, in this order.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def plural_index(count: float | int, lang: str | None, forms: int) -> int:
    """Which of a gettext entry's `forms` translations (msgstr[0], msgstr[1], …) `count` takes:
    the position of its CLDR category among the language's categories. A catalogue with fewer
    forms than the language has categories (Spanish's `many`, for a million) gives the rest
    its last form, which is `other`'s."""
    rule = locale_of(lang).plural_form
    categories = [c for c in PLURAL_CATEGORIES if c in rule.tags or c == "other"]
    return min(categories.index(plural_form(count, lang)), max(forms, 1) - 1)


def count(value: float | int, one: str, other: str, lang: str | None) -> str:
    """`1 mensaje`, `2 mensajes`, `1.200 mensajes`: the number and the word that agrees with it."""
    return f"{number(value, lang)} {plural(value, {'one': one, 'other': other}, lang)}"


def sort_key(text: str) -> tuple[str, str]:
    """A key that orders names as a reader expects in Spanish and English: accents and case
    set aside first (Álvarez with the A's, not after Smith), then used to break ties; ñ is a
    letter of its own, after n (Núñez before Ñandú, Nuñez after Nunez)."""
    spanish = unicodedata.normalize("NFC", text).casefold().replace("ñ", "n{")  # "{" after "z"
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", spanish) if not unicodedata.combining(c)
    )
    return folded, text.casefold()


def read_catalogue(path: Path) -> dict[str, str | tuple[str, ...]]:
    """A gettext catalogue keyed by each entry's context (`msgctxt`, else its msgid): the text,
    or the tuple of plural forms (msgstr[0], msgstr[1], …). Untranslated and fuzzy entries are
    left out, so the reader falls back to the source language for them."""
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    entries: dict[str, str | tuple[str, ...]] = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        key = str(message.context or (message.id[0] if message.pluralizable else message.id))
        if message.pluralizable:
            forms = tuple(str(form) for form in (message.string or ()) if form)
            if forms:
                entries[key] = forms
        elif message.string:
            entries[key] = str(message.string)
    return entries


class Words(Mapping[str, dict[str, Any]]):
    """A service's words in every language: `words[lang]["plan"]`. The source — English, in code
    beside where it is used — is a (nested) dict; another language is `<directory>/<lang>.po`,
    one entry per word: msgctxt its key path (`statuses.held`), msgid the English, msgstr the
    translation, a plural entry for a (one, other) pair. A language without a catalogue, or a
    word its catalogue lacks, reads in English. Each catalogue is read once."""

    def __init__(self, source: dict[str, Any], directory: Path) -> None:
        self.source = source
        self.directory = directory
        self.loaded: dict[str, dict[str, Any]] = {}

    def __getitem__(self, lang: str) -> dict[str, Any]:
        code = language_of(lang)
        if code not in self.loaded:
            path = self.directory / f"{code}.po"
            entries = read_catalogue(path) if path.exists() else {}
            self.loaded[code] = _translated(self.source, entries, "")
        return self.loaded[code]

    def __iter__(self) -> Iterator[str]:
        found = {path.stem for path in self.directory.glob("*.po")}
        return iter(sorted({SOURCE_LANGUAGE, *found}))

    def __len__(self) -> int:
        return len(list(iter(self)))


def _translated(words: dict[str, Any], entries: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in words.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out[key] = _translated(value, entries, path + ".")
        else:
            out[key] = entries.get(path) or value
    return out


def word_paths(words: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, English text or plural pair) of a source dict: what a catalogue covers."""
    for key, value in words.items():
        if isinstance(value, dict):
            yield from word_paths(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value

"""Every page in Spanish and English from one source.

Templates and code hold the English text (`{{ _("Sign in") }}`, `N_("…")` in Python); the
Spanish is `locale/es.po` and one file per area of pages, `locale/es/<area>.po` (the door, the
public pages, …), read at start-up with Babel (`read_po`): no compile step, no `.mo` file to
forget. A placeholder is written `{name}` and filled after translation
(`_("Approve {name}", name=…)`), so a translation may move it. A sentence with a count is a
plural entry (`_n("{count} message", "{count} messages", n)`, `msgid_plural` in the .po):
the form is chosen by the count's CLDR plural category in the reader's language
(`shared.i18n.plural_index`), and `{count}` is the number written the language's way.

The language of a request: `?lang=` (remembered in a cookie), then that cookie, then the
browser's Accept-Language, then the pack's default language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

from shared import i18n

LOCALE_DIR = Path(__file__).with_name("locale")
SOURCE_LANGUAGE = "en"
LANG_COOKIE = "foro_lang"


def N_(message: str) -> str:  # the gettext convention: marks a string for extraction
    """Mark an English message for translation where it is defined; `_()` translates it later."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a counted English sentence for translation; `_n()` picks its form later."""
    return singular, plural


def read_catalog(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file's singular entries; entries without a translation, or marked
    fuzzy, are left out (they would show English on a Spanish page; the coverage test names
    them)."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and not message.pluralizable and message.string and not message.fuzzy
    }


def read_plural_catalog(path: Path) -> dict[str, tuple[str, ...]]:
    """The singular msgid → every msgstr[n] of a .po file's plural entries (`msgid_plural`);
    an entry with a form left empty, or fuzzy, is left out."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id[0]): tuple(str(form) for form in message.string)
        for message in catalog
        if message.pluralizable and all(message.string) and not message.fuzzy
    }


def catalog_files(lang: str) -> list[Path]:
    """`locale/<lang>.po` and every `locale/<lang>/<area>.po`."""
    main = LOCALE_DIR / f"{lang}.po"
    return ([main] if main.exists() else []) + sorted((LOCALE_DIR / lang).glob("*.po"))


def read_catalogs(lang: str) -> dict[str, str]:
    """Every catalog of `lang` together (an area's file may repeat a shared message)."""
    merged: dict[str, str] = {}
    for path in catalog_files(lang):
        merged.update(read_catalog(path))
    return merged


def read_plural_catalogs(lang: str) -> dict[str, tuple[str, ...]]:
    """The plural entries of every catalog of `lang` together."""
    merged: dict[str, tuple[str, ...]] = {}
    for path in catalog_files(lang):
        merged.update(read_plural_catalog(path))
    return merged


@dataclass
class Translations:
    """The catalogs of every language besides the source; `strict` makes a missing entry an
    error (the tests render every page that way)."""

    catalogs: dict[str, dict[str, str]]
    default: str
    strict: bool = False
    missing: set[tuple[str, str]] = field(default_factory=set)
    plurals: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def load(cls, default: str, languages: Iterable[str], *, strict: bool = False) -> Translations:
        others = [lang for lang in languages if lang != SOURCE_LANGUAGE]
        catalogs = {lang: read_catalogs(lang) for lang in others}
        plurals = {lang: read_plural_catalogs(lang) for lang in others}
        return cls(catalogs, default, strict, plurals=plurals)

    @property
    def languages(self) -> list[str]:
        return sorted({SOURCE_LANGUAGE, *self.catalogs})

    def gettext(self, lang: str, message: str, **values: object) -> str:
        if lang == SOURCE_LANGUAGE:
            text = message
        else:
            found = self.catalogs.get(lang, {}).get(message)
            if found is None:
                self.missing.add((lang, message))
                if self.strict:
                    raise KeyError(f"no {lang} translation of {message!r} in locale/{lang}*.po")
            text = found or message
        return text.format(**values) if values else text

    def ngettext(
        self, lang: str, singular: str, plural: str, count: float | int, **values: object
    ) -> str:
        """The form of a counted sentence for `count` in `lang`, `{count}` written the
        language's way (`1 mensaje`, `1.200 mensajes`) and the other `{placeholders}` filled."""
        forms: tuple[str, ...] = (singular, plural)
        if lang != SOURCE_LANGUAGE:
            found = self.plurals.get(lang, {}).get(singular)
            if found is None:
                self.missing.add((lang, singular))
                if self.strict:
                    raise KeyError(
                        f"no {lang} plural translation of {singular!r} in locale/{lang}*.po"
                    )
            forms = found or forms
        text = forms[i18n.plural_index(count, lang, len(forms))]
        return text.format(**{"count": i18n.number(count, lang), **values})

    def negotiate(
        self, query: str | None, cookie: str | None, accept_language: str | None
    ) -> tuple[str, bool]:
        """The request's language, and whether it was chosen now (`?lang=`: remember it)."""
        if query in self.languages:
            return query, True
        if cookie in self.languages:
            return cookie, False
        for lang in accepted(accept_language or ""):
            if lang in self.languages:
                return lang, False
        return self.default, False


def accepted(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, most wanted first (`q=0` left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and quality > 0:
            ranked.append((-quality, position, primary))
    return [lang for _, _, lang in sorted(ranked)]


# --- what the catalogs must cover -----------------------------------------------------------------

HERE = Path(__file__).parent


def source_messages() -> dict[str, list[str]]:
    """Every English message of the templates (`_("…")`, `_n("…", "…", n)`) and the Python
    code (`N_("…")`, `Nn_("…", "…")`), with where it is used: what each catalog must translate
    (a counted sentence by its singular)."""
    return {message: places for message, (_plural, places) in _source_entries().items()}


def source_plurals() -> dict[str, str]:
    """The counted sentences of the sources: singular → plural."""
    return {message: plural for message, (plural, _places) in _source_entries().items() if plural}


def _source_entries() -> dict[str, tuple[str | None, list[str]]]:
    from babel.messages.extract import extract_python
    from jinja2.ext import babel_extract

    found: dict[str, tuple[str | None, list[str]]] = {}

    def add(message: object, where: str) -> None:
        plural = None
        if isinstance(message, tuple | list):
            message, plural = message[0], (message[1] if len(message) > 1 else None)
        if isinstance(message, str) and message:
            entry = found.setdefault(message, (plural if isinstance(plural, str) else None, []))
            entry[1].append(where)

    for template in sorted((HERE / "templates").rglob("*.html")):
        name = template.relative_to(HERE / "templates")
        with template.open("rb") as handle:
            for line, _function, message, _comments in babel_extract(handle, ("_", "_n"), [], {}):
                add(message, f"templates/{name}:{line}")
    for module in sorted(HERE.rglob("*.py")):
        with module.open("rb") as handle:
            for number, _marker, text, _notes in extract_python(
                handle, {"N_": None, "Nn_": (1, 2)}, [], {}
            ):
                add(text, f"{module.relative_to(HERE)}:{number}")
    return found


def missing_entries(lang: str) -> str:
    """The .po entries `lang`'s catalogs lack, to paste in and translate."""
    catalog, plurals = read_catalogs(lang), read_plural_catalogs(lang)
    counted = source_plurals()
    lines = []
    for message, places in sorted(source_messages().items()):
        if message in catalog or message in plurals:
            continue
        where = f"#: {' '.join(places)}\nmsgid {_po_quote(message)}\n"
        if message in counted:
            lines.append(
                f'{where}msgid_plural {_po_quote(counted[message])}\nmsgstr[0] ""\nmsgstr[1] ""\n'
            )
        else:
            lines.append(f'{where}msgstr ""\n')
    return "\n".join(lines)


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":  # python -m services.web.i18n [lang]: what the catalog lacks
    import sys

    print(missing_entries(sys.argv[1] if len(sys.argv) > 1 else "es"), end="")

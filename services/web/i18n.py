"""Every page in Spanish and English from one source.

Templates and code hold the English text (`{{ _("Sign in") }}`, `N_("…")` in Python); the
Spanish is `locale/es.po` and one file per area of pages, `locale/es/<area>.po` (the door, the
public pages, …), read at start-up with Babel (`read_po`): no compile step, no `.mo` file to
forget. A placeholder is written `{name}` and filled after translation
(`_("Approve {name}", name=…)`), so a translation may move it.

The language of a request: `?lang=` (remembered in a cookie), then that cookie, then the
browser's Accept-Language, then the pack's default language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
SOURCE_LANGUAGE = "en"
LANG_COOKIE = "foro_lang"


def N_(message: str) -> str:  # the gettext convention: marks a string for extraction
    """Mark an English message for translation where it is defined; `_()` translates it later."""
    return message


def read_catalog(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file; entries without a translation, or marked fuzzy, are left out
    (they would show English on a Spanish page; the coverage test names them)."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
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


@dataclass
class Translations:
    """The catalogs of every language besides the source; `strict` makes a missing entry an
    error (the tests render every page that way)."""

    catalogs: dict[str, dict[str, str]]
    default: str
    strict: bool = False
    missing: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, default: str, languages: Iterable[str], *, strict: bool = False) -> Translations:
        catalogs = {lang: read_catalogs(lang) for lang in languages if lang != SOURCE_LANGUAGE}
        return cls(catalogs, default, strict)

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
    """Every English message of the templates (`_("…")`) and the Python code (`N_("…")`), with
    where it is used: what each catalog must translate."""
    from babel.messages.extract import extract_python
    from jinja2.ext import babel_extract

    found: dict[str, list[str]] = {}

    def add(message: object, where: str) -> None:
        if isinstance(message, tuple | list):
            message = message[0]
        if isinstance(message, str) and message:
            found.setdefault(message, []).append(where)

    for template in sorted((HERE / "templates").rglob("*.html")):
        name = template.relative_to(HERE / "templates")
        with template.open("rb") as handle:
            for line, _function, message, _comments in babel_extract(handle, ("_",), [], {}):
                add(message, f"templates/{name}:{line}")
    for module in sorted(HERE.rglob("*.py")):
        with module.open("rb") as handle:
            for number, _marker, text, _notes in extract_python(handle, {"N_": None}, [], {}):
                add(text, f"{module.relative_to(HERE)}:{number}")
    return found


def missing_entries(lang: str) -> str:
    """The .po entries `lang`'s catalogs lack, to paste in and translate."""
    catalog = read_catalogs(lang)
    lines = []
    for message, places in sorted(source_messages().items()):
        if message not in catalog:
            lines.append(f'#: {" ".join(places)}\nmsgid {_po_quote(message)}\nmsgstr ""\n')
    return "\n".join(lines)


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":  # python -m services.web.i18n [lang]: what the catalog lacks
    import sys

    print(missing_entries(sys.argv[1] if len(sys.argv) > 1 else "es"), end="")

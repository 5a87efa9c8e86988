"""Every page in Spanish and English from one source.

Templates and code hold the English text (`{{ _("Sign in") }}`, `N_("…")` in Python); the
Spanish is `locale/es.po` and one file per area of pages, `locale/es/<area>.po` (the door, the
public pages, …), read at start-up with Babel (`read_po`): no compile step, no `.mo` file to
forget. A placeholder is written `{name}` and filled after translation
(`_("Approve {name}", name=…)`), so a translation may move it. A sentence with a count is a
plural entry (`_n("{count} message", "{count} messages", n)`, `msgid_plural` in the .po):
the form is chosen by the count's CLDR plural category in the reader's language
(`shared.i18n.plural_index`), and `{count}` is the number written the language's way.

One English word may need several Spanish ones by what it qualifies ("Approved": an exhibitor
is *aprobado*, a conclusion *aprobada*). Such an entry has a context, the .po's `msgctxt`
(`_p("meeting", "Requested")` in a template, `Np_("meeting", "Requested")` in Python), and
every catalog is keyed by (context, msgid) — `None` for an entry without one. A message marked
with `Np_` remembers its context (`InContext`), so `_()` and `translate()` look it up there.

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


Key = tuple[str | None, str]  # (msgctxt or None, msgid)


class InContext(str):
    """An English message that keeps its context (`Np_`): `_()` translates it in that context."""

    context: str

    def __new__(cls, context: str, message: str) -> InContext:
        made = super().__new__(cls, message)
        made.context = context
        return made


def key_of(message: str, context: str | None = None) -> Key:
    """Where `message` is in a catalog: its explicit context, else the one it was marked with."""
    return (context if context is not None else getattr(message, "context", None), str(message))


def N_(message: str) -> str:  # the gettext convention: marks a string for extraction
    """Mark an English message for translation where it is defined; `_()` translates it later."""
    return message


def Np_(context: str, message: str) -> InContext:
    """Mark an English message whose Spanish depends on what it qualifies (`msgctxt`)."""
    return InContext(context, message)


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a counted English sentence for translation; `_n()` picks its form later."""
    return singular, plural


def read_catalog(path: Path) -> dict[Key, str]:
    """(msgctxt, msgid) → msgstr of a .po file's singular entries; entries without a
    translation, or marked fuzzy, are left out (they would show English on a Spanish page; the
    coverage test names them)."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        (message.context, str(message.id)): str(message.string)
        for message in catalog
        if message.id and not message.pluralizable and message.string and not message.fuzzy
    }


def read_plural_catalog(path: Path) -> dict[Key, tuple[str, ...]]:
    """(msgctxt, singular msgid) → every msgstr[n] of a .po file's plural entries
    (`msgid_plural`); an entry with a form left empty, or fuzzy, is left out."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        (message.context, str(message.id[0])): tuple(str(form) for form in message.string)
        for message in catalog
        if message.pluralizable
        and isinstance(message.string, tuple | list)
        and all(message.string)
        and not message.fuzzy
    }


def catalog_files(lang: str) -> list[Path]:
    """`locale/<lang>.po` and every `locale/<lang>/<area>.po`."""
    main = LOCALE_DIR / f"{lang}.po"
    return ([main] if main.exists() else []) + sorted((LOCALE_DIR / lang).glob("*.po"))


def read_catalogs(lang: str) -> dict[Key, str]:
    """Every catalog of `lang` together (an area's file may repeat a shared message, with the
    same translation: a test keeps two files from translating one entry two ways)."""
    merged: dict[Key, str] = {}
    for path in catalog_files(lang):
        merged.update(read_catalog(path))
    return merged


def read_plural_catalogs(lang: str) -> dict[Key, tuple[str, ...]]:
    """The plural entries of every catalog of `lang` together."""
    merged: dict[Key, tuple[str, ...]] = {}
    for path in catalog_files(lang):
        merged.update(read_plural_catalog(path))
    return merged


@dataclass
class Translations:
    """The catalogs of every language besides the source; `strict` makes a missing entry an
    error (the tests render every page that way)."""

    catalogs: dict[str, dict[Key, str]]
    default: str
    strict: bool = False
    missing: set[tuple[str, str | None, str]] = field(default_factory=set)  # lang, context, msgid
    plurals: dict[str, dict[Key, tuple[str, ...]]] = field(default_factory=dict)

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
        """`message` in `lang`, in the context it was marked with (`Np_`), if any."""
        return self.pgettext(lang, None, message, **values)

    def pgettext(self, lang: str, context: str | None, message: str, **values: object) -> str:
        """`message` in `lang` as said of what `context` names (`msgctxt`)."""
        key = key_of(message, context)
        text = str(message)
        if lang != SOURCE_LANGUAGE:
            found = self.catalogs.get(lang, {}).get(key)
            if found is None:
                self._lacks(lang, key, "")
            text = found or text
        return text.format(**values) if values else text

    def ngettext(
        self, lang: str, singular: str, plural: str, count: float | int, **values: object
    ) -> str:
        """The form of a counted sentence for `count` in `lang`, `{count}` written the
        language's way (`1 mensaje`, `1.200 mensajes`) and the other `{placeholders}` filled."""
        forms: tuple[str, ...] = (str(singular), str(plural))
        if lang != SOURCE_LANGUAGE:
            key = key_of(singular)
            found = self.plurals.get(lang, {}).get(key)
            if found is None:
                self._lacks(lang, key, "plural ")
            forms = found or forms
        text = forms[i18n.plural_index(count, lang, len(forms))]
        return text.format(**{"count": i18n.number(count, lang), **values})

    def _lacks(self, lang: str, key: Key, kind: str) -> None:
        context, message = key
        self.missing.add((lang, context, message))
        if self.strict:
            where = f" (context {context!r})" if context else ""
            raise KeyError(
                f"no {lang} {kind}translation of {message!r}{where} in locale/{lang}*.po"
            )

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


def source_messages() -> dict[Key, list[str]]:
    """Every English message of the templates (`_("…")`, `_p("context", "…")`,
    `_n("…", "…", n)`) and the Python code (`N_("…")`, `Np_("context", "…")`,
    `Nn_("…", "…")`), by (context, msgid), with where it is used: what each catalog must
    translate (a counted sentence by its singular)."""
    return {key: places for key, (_plural, places) in _source_entries().items()}


def source_plurals() -> dict[Key, str]:
    """The counted sentences of the sources: (context, singular) → plural."""
    return {key: plural for key, (plural, _places) in _source_entries().items() if plural}


TEMPLATE_KEYWORDS = {"_": None, "_p": ((1, "c"), 2), "_n": (1, 2)}
PYTHON_KEYWORDS = {"N_": None, "Np_": ((1, "c"), 2), "Nn_": (1, 2)}


def _source_entries() -> dict[Key, tuple[str | None, list[str]]]:
    from babel.messages.extract import extract

    found: dict[Key, tuple[str | None, list[str]]] = {}

    def add(found_text: object, context: str | None, where: str) -> None:
        message, plural = found_text, None
        if isinstance(found_text, tuple | list):
            message, plural = found_text[0], (found_text[1] if len(found_text) > 1 else None)
        if isinstance(message, str) and message:
            entry = found.setdefault(
                (context, message), (plural if isinstance(plural, str) else None, [])
            )
            entry[1].append(where)

    for template in sorted((HERE / "templates").rglob("*.html")):
        name = template.relative_to(HERE / "templates")
        with template.open("rb") as handle:
            for line, message, _comments, context in extract(
                "jinja2.ext:babel_extract", handle, TEMPLATE_KEYWORDS
            ):
                add(message, context, f"templates/{name}:{line}")
    for module in sorted(HERE.rglob("*.py")):
        with module.open("rb") as handle:
            for line, message, _comments, context in extract("python", handle, PYTHON_KEYWORDS):
                add(message, context, f"{module.relative_to(HERE)}:{line}")
    return found


def missing_entries(lang: str) -> str:
    """The .po entries `lang`'s catalogs lack, to paste in and translate."""
    catalog, plurals = read_catalogs(lang), read_plural_catalogs(lang)
    counted = source_plurals()
    lines = []
    for key, places in sorted(source_messages().items(), key=lambda item: _sort_key(item[0])):
        if key in catalog or key in plurals:
            continue
        context, message = key
        where = f"#: {' '.join(places)}\n"
        if context is not None:
            where += f"msgctxt {_po_quote(context)}\n"
        where += f"msgid {_po_quote(message)}\n"
        if key in counted:
            lines.append(
                f'{where}msgid_plural {_po_quote(counted[key])}\nmsgstr[0] ""\nmsgstr[1] ""\n'
            )
        else:
            lines.append(f'{where}msgstr ""\n')
    return "\n".join(lines)


def _sort_key(key: Key) -> tuple[str, str]:
    context, message = key
    return message, context or ""


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":  # python -m services.web.i18n [lang]: what the catalog lacks
    import sys

    print(missing_entries(sys.argv[1] if len(sys.argv) > 1 else "es"), end="")

"""What every page shares: who is asking (language, sign-in, CSRF token) and how a page is drawn."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from services.web.backends import Backends
from services.web.i18n import Translations
from services.web.session import PartySession, SignedIn, StaffSession
from shared import i18n
from shared.pack import EventPack

# Each language named in itself: the switch is read by someone who may not read the page's language.
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


class Visitor:
    """Who is asking: their language, their CSRF token, and who is signed in — a member of staff
    (`session`) or a party acting for themselves (`party`), never both (the cookie holds one)."""

    def __init__(
        self, lang: str, signed_in: SignedIn | None, csrf: str, rotate_csrf: bool = False
    ) -> None:
        self.lang = lang
        self.session: StaffSession | None = (
            signed_in if isinstance(signed_in, StaffSession) else None
        )
        self.party: PartySession | None = signed_in if isinstance(signed_in, PartySession) else None
        self.csrf = csrf
        self.rotate_csrf = rotate_csrf  # set at sign-in: the middleware then sets a new CSRF cookie


def visitor(request: Request) -> Visitor:
    found: Visitor = request.state.visitor
    return found


def backends_of(request: Request) -> Backends:
    """The clients of the services behind the pages."""
    found: Backends = request.app.state.backends
    return found


def pack_of(request: Request) -> EventPack:
    found: EventPack = request.app.state.pack
    return found


def translate(request: Request, message: str, **values: object) -> str:
    """`message` (English, marked with `N_`, or `Np_` with its context) in the visitor's
    language, its `{placeholders}` filled with `values`."""
    translations: Translations = request.app.state.translations
    return translations.gettext(visitor(request).lang, message, **values)


def translate_plural(
    request: Request, singular: str, plural: str, count: float | int, **values: object
) -> str:
    """A counted sentence (marked with `Nn_`) in the visitor's language, its form agreeing
    with `count`."""
    translations: Translations = request.app.state.translations
    return translations.ngettext(visitor(request).lang, singular, plural, count, **values)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def localized(value: Any, lang: str) -> str:
    """A bilingual value from a service or the pack (`{"es": …, "en": …}`) in `lang`."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("es") or value.get("en") or "")
    if hasattr(value, "get") and callable(value.get):  # the pack's Localized
        return str(value.get(lang))
    return "" if value is None else str(value)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    app = request.app
    templates: Jinja2Templates = app.state.templates
    translations: Translations = app.state.translations
    pack: EventPack = app.state.pack
    who = visitor(request)
    lang = who.lang

    def _(message: str, **values: object) -> str:
        return translations.gettext(lang, message, **values)

    def _p(context: str, message: str, **values: object) -> str:
        return translations.pgettext(lang, context, message, **values)

    def _n(singular: str, plural: str, count: float | int, **values: object) -> str:
        return translations.ngettext(lang, singular, plural, count, **values)

    switch = []
    for other in translations.languages:
        url = request.url.include_query_params(lang=other)
        switch.append(
            {
                "lang": other,
                "name": LANGUAGE_NAMES.get(other, other),
                "url": url.path + (f"?{url.query}" if url.query else ""),
                "current": other == lang,
            }
        )
    layout = {
        "_": _,
        "_p": _p,
        "_n": _n,
        "lang": lang,
        "languages": switch,
        # The header's "signed in as … / sign out": staff or a party alike.
        "user": who.session or who.party,
        "party": who.party,
        "csrf": who.csrf,
        "forum": pack.forum,
        "nav": [
            item
            for item in app.state.nav
            if item.audience == "public"
            or (
                item.audience == "staff"
                and who.session is not None
                and item.shown_to(who.session.roles)
            )
            or (item.audience == "party" and getattr(who, "party", None) is not None)
        ],
        "t": lambda value: localized(value, lang),
    }
    if clash := layout.keys() & (context or {}).keys():
        # A page's value would replace the layout's (the header's language switch, …).
        raise ValueError(f"{template}: the layout's names cannot be set by a page: {sorted(clash)}")
    return templates.TemplateResponse(
        request, template, {**layout, **(context or {})}, status_code=status_code
    )


# --- dates, times and numbers in the page's language (shared/i18n) ---------------------------------


def install_filters(env: Environment, tz: Any) -> None:
    """The filters a template writes a date, a time or a number with, in the page's `lang` and
    the forum's time zone `tz`: `{{ d.date | day }}` (`18 de noviembre de 2026`), `| day("medium")`
    (`18 nov 2026`), `{{ first | days(last) }}`, `{{ m.created_at | when }}` (a moment: day and
    24-hour time in the forum's zone), `{{ s.starts_at | clock }}` (`09:00`), `{{ n | number }}`,
    `{{ f | percent }}`, `{{ amount | money }}`. A value that is not what the filter expects is
    written as it is (an empty value as nothing)."""

    def lang_of(context: Context) -> str:
        return str(context.get("lang") or i18n.SOURCE_LANGUAGE)

    @pass_context
    def day(context: Context, value: Any, format: str = "long") -> str:
        return i18n.date_text(value, lang_of(context), format) if value else ""

    @pass_context
    def days(context: Context, first: Any, last: Any, skeleton: str = "yMMMMd") -> str:
        return i18n.date_range(first, last, lang_of(context), skeleton) if first else ""

    @pass_context
    def when(context: Context, value: Any, format: str = "medium") -> str:
        return i18n.datetime_text(value, lang_of(context), tz, format) if value else ""

    @pass_context
    def clock(context: Context, value: Any) -> str:
        moment = i18n.as_datetime(value)
        if moment is None:
            try:
                moment = datetime.combine(date.min, time.fromisoformat(str(value)))
            except ValueError:
                return "" if value is None else str(value)
        if moment.tzinfo is not None and tz is not None:
            moment = moment.astimezone(tz)
        return i18n.time_text(moment, lang_of(context))

    @pass_context
    def number(context: Context, value: Any, digits: int | None = None) -> str:
        if value is None or value == "":
            return ""
        try:
            return i18n.number(value, lang_of(context), digits)
        except (ArithmeticError, TypeError, ValueError):  # not a number: shown as it came
            return str(value)

    @pass_context
    def percent(context: Context, value: Any, digits: int = 0) -> str:
        return "" if value is None else i18n.percent(value, lang_of(context), digits)

    @pass_context
    def money(context: Context, value: Any, currency: str = "USD") -> str:
        return "" if value is None else i18n.money(value, lang_of(context), currency)

    env.filters.update(
        day=day, days=days, when=when, clock=clock, number=number, percent=percent, money=money
    )

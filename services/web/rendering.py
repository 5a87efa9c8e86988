"""What every page shares: who is asking (language, sign-in, CSRF token) and how a page is drawn."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.web.backends import Backends
from services.web.i18n import Translations
from services.web.session import PartySession, SignedIn, StaffSession
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
    """`message` (English, marked with `N_`) in the visitor's language, its `{placeholders}`
    filled with `values`."""
    translations: Translations = request.app.state.translations
    return translations.gettext(visitor(request).lang, message, **values)


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

"""What the console's areas (people, programme, expo) share: the signed-in staff member, the
services, the CSRF check of a form, a service's refusal in the reader's words, venue time.

Not a page area (no `router`): `areas()` passes it by.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.web.backends import BackendError, Backends
from services.web.i18n import N_
from services.web.pages.auth import FORM_EXPIRED, check_csrf
from services.web.rendering import Visitor, render
from shared.pack import EventPack

CONSOLE_CSS = "/static/console.css?v=1"
REFUSED = N_("The service refused this.")


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


def pack_of(request: Request) -> EventPack:
    found: EventPack = request.app.state.pack
    return found


def tr(request: Request, message: str, **values: object) -> str:
    """`message` (English, marked with `N_`) in the reader's language."""
    visitor: Visitor = request.state.visitor
    text: str = request.app.state.translations.gettext(visitor.lang, message, **values)
    return text


def passes_on(error: BackendError) -> bool:
    """Whether a refusal is the app's to draw (sign in again, your role cannot, not answering)
    rather than the form's to show next to its fields."""
    return error.status in (401, 403) or error.status >= 500


def refusal_text(request: Request, error: BackendError) -> str:
    """A service's refusal in the reader's language: `message_es/en`, a validation error's
    field and reason, or scheduling's `reason` with the conflicts it names."""
    lang: str = request.state.visitor.lang
    detail = error.detail
    if isinstance(detail, dict) and "reason" in detail and not detail.get(f"message_{lang}"):
        parts = [str(detail["reason"])]
        for conflict in detail.get("conflicts") or []:
            if isinstance(conflict, dict):
                text = conflict.get(f"reason_{lang}") or conflict.get("reason_en")
                if text:
                    parts.append(str(text))
        return " · ".join(parts)
    return error.message(lang) or tr(request, REFUSED)


def form_expired(request: Request, who: Visitor, submitted: str, back: str) -> HTMLResponse | None:
    """None when the form's CSRF token is good; else the page saying the form had expired, with
    the way `back` to it."""
    if check_csrf(request, who, submitted):
        return None
    who.rotate_csrf = True
    return render(
        request,
        "console/notice.html",
        {"heading": tr(request, FORM_EXPIRED), "back": back},
        status_code=400,
    )


def venue_time(request: Request, value: Any) -> datetime | None:
    """A service's ISO time (aware, or naive UTC as the database gives it) at the venue."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(pack_of(request).forum.tz)


def shown_time(request: Request, value: Any) -> str:
    """`2026-11-18 09:00` at the venue, or the value as given when it is not a time."""
    moment = venue_time(request, value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else str(value or "")

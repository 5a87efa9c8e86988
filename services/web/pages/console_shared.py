"""What the console's areas (people, programme, expo, …) share: the CSRF check of a form, a
service's refusal in the reader's words, a part of a page that another service may withhold,
venue time.

Not a page area (no `router`): `areas()` passes it by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.web.backends import BackendError, Forbidden, Service, Unavailable, passes_on
from services.web.i18n import N_, Np_
from services.web.pages.auth import FORM_EXPIRED, check_csrf
from services.web.rendering import Visitor, backends_of, pack_of, render, translate, visitor
from shared import i18n

CONSOLE_CSS = "/static/console.css?v=1"
REFUSED = N_("The service refused this.")
ROLE_LACKS = N_("Your role cannot see this part ({permission}).")
NOT_ANSWERING = N_("The {service} service is not answering; this part is missing for now.")
# A message's delivery as notification reports it.
DELIVERY_STATUSES = {
    "queued": Np_("message", "Queued"),
    "sending": Np_("message", "Sending"),
    "retrying": Np_("message", "Retrying"),
    "sent": Np_("message", "Sent"),
    "failed": Np_("message", "Failed"),
    "suppressed": Np_("message", "Not sent (suppressed)"),
}
# Why notification did not send a message (its `suppressed_reason`).
SUPPRESSED_REASONS = {
    "opted_out": N_("opted out of information messages"),
    "channel_declined": N_("did not choose this channel"),
    "erased": N_("personal data erased"),
}


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
    return error.message(lang) or translate(request, REFUSED)


async def part_of_page[T](
    request: Request, call: Awaitable[T], needed: str | None = None
) -> tuple[T | None, str | None]:
    """A part of a page from another service: its answer and None, or None and why the part is
    missing — the role lacks the permission the refusal names (else `needed`, else the
    service), or the service is not answering. Any other refusal is raised."""
    try:
        return await call, None
    except Forbidden as refused:
        permission = refused.permission or needed or refused.service
        return None, translate(request, ROLE_LACKS, permission=permission)
    except Unavailable as down:
        return None, translate(request, NOT_ANSWERING, service=down.service)


def form_expired(request: Request, who: Visitor, submitted: str, back: str) -> HTMLResponse | None:
    """None when the form's CSRF token is good; else the page saying the form had expired, with
    the way `back` to it."""
    if check_csrf(request, who, submitted):
        return None
    who.rotate_csrf = True
    return render(
        request,
        "console/notice.html",
        {"heading": translate(request, FORM_EXPIRED), "back": back},
        status_code=400,
    )


Redraw = Callable[[str, int], Awaitable[HTMLResponse]]
"""A page drawn again with an error (in the reader's words) and its status code."""


async def send_form(
    request: Request,
    who: Visitor,
    token: str,
    csrf_token: str,
    redraw: Redraw,
    service: Service,
    method: str,
    path: str,
    *,
    back: str,
    problem: str | None = None,
    **options: Any,
) -> tuple[Any, HTMLResponse | None]:
    """A console form sent on to a service: the service's answer and None — or None and the page
    to show instead: the form had expired (with the way `back` to it), the form's `problem`
    found before sending (`redraw`n, 422), or the service's refusal (`redraw`n, 409). 401, 403
    and 5xx are raised, for the app to draw."""
    if expired := form_expired(request, who, csrf_token, back):
        return None, expired
    if problem:
        return None, await redraw(problem, 422)
    try:
        answer = await backends_of(request).request(service, method, path, token=token, **options)
    except BackendError as refused:
        if passes_on(refused):
            raise
        return None, await redraw(refusal_text(request, refused), 409)
    return answer.json(), None


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
    """A moment at the venue in the visitor's language (`18 nov 2026, 09:00`), or the value as
    given when it is not a time."""
    moment = venue_time(request, value)
    return (
        i18n.datetime_text(moment, visitor(request).lang, format="medium")
        if moment
        else str(value or "")
    )

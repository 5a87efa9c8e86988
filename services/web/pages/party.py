"""Parties acting for themselves: sign-in with their own access code at `/access`.

A delegation's focal point, an exhibitor and a participant each hold a link token (docs/access.md,
"Parties' own tokens"): the secretariat sends a focal point theirs, expo gives an exhibitor its
own at approval, a participant finds their personal code in their e-mails. They paste it here, or
follow a link `/access#<token>` whose fragment a small script (static/party.js) posts with the
form — a fragment never reaches a server, so the token stays out of every access log on the way.
`/access?token=…` works as well (and without JavaScript: the form comes filled, the person
presses the button), at the price of the token in this site's request log.

This component decodes the token's claims WITHOUT verifying them, and only to route the pages
(which kind of party, which delegation, exhibitor or participant): it holds no link secret and
decides nothing. The token is then tried on a cheap route of the service that owns the party —
registration `GET /delegations/{code}` for a focal point, expo `GET /me` for an exhibitor,
scheduling's personal agenda for a participant — and kept (sealed in the session cookie,
`PartySession`) only if that service accepts it. Every later call carries it and is authorised
by the service, as for staff.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, Service, SignInRequired, Unavailable, passes_on
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf, is_party_page, signed_in
from services.web.rendering import Visitor, backends_of, render, translate
from services.web.session import (
    CSRF_FIELD,
    PARTY_KINDS,
    PartyKind,
    PartySession,
)

NAV = (NavItem(N_("My page"), "/party", "party", order=25),)
router = APIRouter()

HOME: dict[str, str] = {
    "focal_point": "/delegation",
    "exhibitor": "/exhibitor",
    "participant": "/me",
}
"""Each kind of party's own pages."""

NOT_A_CODE = N_(
    "This is not an access code. Paste the whole code, or the whole link, from the message you "
    "received."
)
NOT_ACCEPTED = N_(
    "This access code is not valid any more: it expired, or a newer one replaced it. Ask the "
    "secretariat for a new one."
)
CHECK_UNAVAILABLE = N_("Your access cannot be checked right now. Try again in a moment.")

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def extract_token(pasted: str) -> str | None:
    """The token in what was pasted: the code itself, or a whole link carrying it (`#<token>`,
    `?token=`)."""
    text = "".join(pasted.split())
    if "/" in text or "#" in text or "?" in text:
        parts = urlsplit(text)
        text = parts.fragment or (parse_qs(parts.query).get("token") or [""])[0]
        text = text.removeprefix("token=")
    return text if TOKEN_SHAPE.match(text) and len(text) <= 4000 else None


def routing_claims(token: str) -> tuple[PartyKind, str, datetime] | None:
    """Kind, party id and expiry of a party's token, read WITHOUT verifying its signature: only
    to choose the pages and the service to ask. Never an authorisation."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    kind = claims.get("kind")
    claim = {"focal_point": "delegation", "exhibitor": "exhibitor", "participant": "participant"}
    if kind not in PARTY_KINDS or not isinstance(claims.get(claim[kind]), str):
        return None
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (KeyError, TypeError, ValueError):
        return None
    return kind, claims[claim[kind]], expires_at


async def who_holds(request: Request, kind: PartyKind, party_id: str, token: str) -> str:
    """Ask the party's service whether it accepts the token (SignInRequired if not); the label
    the header shows."""
    backends = backends_of(request)
    if kind == "focal_point":
        delegation = await backends.get_json(
            "registration", f"/delegations/{quote(party_id, safe='')}", token=token
        )
        return str(delegation.get("name") or party_id)
    if kind == "exhibitor":
        exhibitor = await backends.get_json("expo", "/me", token=token)
        return str(exhibitor.get("name") or "")
    try:  # a participant: their agenda feed is the cheapest route their code opens
        await backends.get_raw(
            "scheduling", f"/people/{quote(party_id, safe='')}/agenda.ics", token=token
        )
    except BackendError as refused:
        if refused.status != 404 or isinstance(refused, Unavailable):  # 404: nothing published
            raise
    return ""


def own_next(kind: PartyKind, target: str | None) -> str:
    """Where to go after signing in: the page asked for when it is one of this party's, else
    their own pages."""
    home = HOME[kind]
    if target and target.startswith(home) and not target.startswith("//"):
        return target
    return home


@router.get("/access", response_class=HTMLResponse)
async def access_form(
    request: Request, who: Who, token: str | None = None, next: str | None = None
) -> HTMLResponse:
    # `?token=`: the form comes filled in; the page's script (or the person) posts it.
    filled = extract_token(token) if token else None
    return render(
        request,
        "party/access.html",
        {"code": filled or "", "next": next if next and is_party_page(next) else ""},
    )


@router.post("/access", response_class=HTMLResponse)
async def access(
    request: Request,
    who: Who,
    code: Annotated[str, Form(max_length=5000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    def again(error: str, status_code: int) -> HTMLResponse:
        # The code is not drawn back into the page: a wrong one is pasted again.
        return render(
            request,
            "party/access.html",
            {"code": "", "next": next, "error": error},
            status_code=status_code,
        )

    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        return again(FORM_EXPIRED, 400)
    token = extract_token(code)
    claims = routing_claims(token) if token else None
    if token is None or claims is None:
        return again(NOT_A_CODE, 400)
    kind, party_id, expires_at = claims
    try:
        label = await who_holds(request, kind, party_id, token)
    except (SignInRequired, BackendError) as refused:
        if isinstance(refused, Unavailable):
            return again(CHECK_UNAVAILABLE, 503)
        if refused.status in (401, 403, 404):
            return again(NOT_ACCEPTED, 401)
        return again(CHECK_UNAVAILABLE, 503)
    party = PartySession(kind, party_id, label, token, expires_at)
    response = RedirectResponse(own_next(kind, next), status_code=303)
    signed_in(request, response, party)
    who.rotate_csrf = True  # a new CSRF token for the signed-in pages
    return response


@router.get("/party")
async def party_home(who: Who) -> Response:
    """The navigation's "My page": the signed-in party's own pages."""
    if who.party is None:
        return RedirectResponse("/access", status_code=303)
    return RedirectResponse(HOME[who.party.kind], status_code=303)


def party_of(kind: PartyKind) -> Any:
    """A dependency: the signed-in party of `kind`. Nobody signed in as a party → `/access`
    (through the sign-in redirect); another kind of party → their own pages."""

    def dependency(request: Request, who: Who) -> PartySession:
        if who.party is None:
            raise SignInRequired("web", 401)
        if who.party.kind != kind:  # a redirect, as the default handler answers it
            raise HTTPException(303, headers={"Location": HOME[who.party.kind]})
        return who.party

    return Depends(dependency)


# --- field errors from the services, in the page's language ---------------------------------------

FIELD_REQUIRED = N_("This field is required.")
FIELD_TOO_SHORT = N_("This is too short.")
FIELD_TOO_LONG = N_("This is too long.")
FIELD_INVALID = N_("This value is not valid.")
FIELD_HINTS = {
    "email": N_("Write an e-mail address, such as ana.lopez@example.org."),
    "phone": N_("Write the phone number in international form, such as +50370001234."),
    "privacy_policy": N_("The person must accept the privacy policy."),
}


PartyRedraw = Callable[[str | None, int], Awaitable[HTMLResponse]]
"""A party's page drawn again with an error for the whole form (in the reader's words) and its
status code."""


async def send_party_form(
    request: Request,
    who: Visitor,
    party: PartySession,
    csrf_token: str | None,
    redraw: PartyRedraw,
    service: Service,
    method: str,
    path: str,
    *,
    refused: Callable[[BackendError], Awaitable[HTMLResponse]] | None = None,
    **options: Any,
) -> tuple[Any, HTMLResponse | None]:
    """A party's form sent on to their service with their token: the answer (None without a
    body) and None — or None and the page to show instead: the form had expired (`redraw`n,
    400, with a new CSRF token), or the service refused it (`refused`, else `redraw`n with the
    refusal's reason, 409). 401, 403 and 5xx are raised, for the app to draw."""
    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        return None, await redraw(translate(request, FORM_EXPIRED), 400)
    try:
        answer = await backends_of(request).request(
            service, method, path, token=party.token, **options
        )
    except BackendError as error:
        if passes_on(error):
            raise
        if refused is not None:
            return None, await refused(error)
        _, general = field_errors(request, error, ())
        return None, await redraw(general, 409)
    return (answer.json() if answer.content else None), None


def field_errors(
    request: Request, refused: BackendError, fields: tuple[str, ...]
) -> tuple[dict[str, str], str | None]:
    """A service's refusal as errors per form field, and one for the whole form: a 422's
    validation errors (FastAPI: `loc`, `type`) in our own words, a refusal's `field` and
    `message_es`/`message_en` (registration), or expo's `problems` (same fields)."""
    who: Visitor = request.state.visitor
    detail = refused.detail
    errors: dict[str, str] = {}
    general: str | None = None
    if isinstance(detail, list):  # FastAPI's validation errors, in English only
        for item in detail:
            if not isinstance(item, dict):
                continue
            names = [str(p) for p in item.get("loc", []) if not isinstance(p, int)]
            name = names[-1] if names else ""
            kind = str(item.get("type", ""))
            if name in FIELD_HINTS and kind != "missing":
                message = FIELD_HINTS[name]
            elif kind == "missing" or (name == "privacy_policy"):
                message = FIELD_HINTS.get(name, FIELD_REQUIRED)
            elif kind.endswith("too_short"):
                message = FIELD_TOO_SHORT
            elif kind.endswith("too_long"):
                message = FIELD_TOO_LONG
            else:
                message = FIELD_HINTS.get(name, FIELD_INVALID)
            errors.setdefault(name if name in fields else "", translate(request, message))
        general = errors.pop("", None)
        return errors, general
    if isinstance(detail, dict):
        problems = detail.get("problems")
        for problem in problems if isinstance(problems, list) else [detail]:
            if not isinstance(problem, dict):
                continue
            text = problem.get(f"message_{who.lang}") or problem.get("message_en")
            text = text or problem.get(who.lang) or problem.get("en")  # expo's explanations
            name = str(problem.get("field") or "")
            if text and name in fields:
                errors.setdefault(name, str(text))
            elif text:
                general = str(text)
        if errors or general:
            return errors, general
    return errors, refused.message(who.lang)

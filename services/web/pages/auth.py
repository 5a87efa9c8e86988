"""Sign-in and sign-out: registration's `POST /auth/login` gives a staff token, sealed into a cookie.

Parties (a focal point, an exhibitor, a participant) sign in at `/access` with their own link
token instead (pages/party.py); signing out forgets either."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, Backends, SignInRequired
from services.web.i18n import N_
from services.web.rendering import Visitor, render, visitor
from services.web.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SessionSealer,
    SignedIn,
    StaffSession,
    csrf_matches,
)

router = APIRouter()

WRONG_CREDENTIALS = N_("Wrong username, password or verification code.")
TOO_MANY = N_("Too many failed attempts. Wait a minute and try again.")
FORM_EXPIRED = N_("The form had expired. Please try again.")
SIGN_IN_UNAVAILABLE = N_("Sign-in is not available right now. Try again in a moment.")

Who = Annotated[Visitor, Depends(visitor)]


PARTY_PAGES = ("/delegation", "/exhibitor", "/me")
"""Where parties act for themselves: a page of theirs that needs a sign-in goes to `/access`."""


def is_party_page(target: str) -> bool:
    return any(
        target == page or target.startswith((f"{page}/", f"{page}?")) for page in PARTY_PAGES
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no `//host`, no scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


def signed_in(request: Request, response: Response, session: SignedIn) -> None:
    """Seal a member of staff's or a party's sign-in into the session cookie of `response`."""
    sealer: SessionSealer = request.app.state.sealer
    response.set_cookie(
        SESSION_COOKIE,
        sealer.seal(session),
        max_age=sealer.max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def check_csrf(request: Request, who: Visitor, submitted: str | None) -> bool:
    return csrf_matches(request.cookies.get("foro_csrf"), submitted) and who.csrf == submitted


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, who: Who, next: str | None = None) -> Response:
    if who.session is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    if next and is_party_page(safe_next(next)):  # a party's link, not staff: their own sign-in
        return RedirectResponse(f"/access?next={quote(safe_next(next), safe='')}", status_code=303)
    return render(request, "signin.html", {"next": safe_next(next)})


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    who: Who,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def again(error: str, status_code: int) -> HTMLResponse:
        return render(
            request,
            "signin.html",
            {"next": safe_next(next), "error": error, "username": username},
            status_code=status_code,
        )

    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        return again(FORM_EXPIRED, 400)
    if not username.strip() or not password:
        return again(WRONG_CREDENTIALS, 401)
    backends: Backends = request.app.state.backends
    body = {"username": username, "password": password, "totp": totp.strip() or None}
    try:
        answer = await backends.post_json("registration", "/auth/login", json=body)
    except SignInRequired:
        return again(WRONG_CREDENTIALS, 401)
    except BackendError as refused:
        if refused.status == 429:
            return again(TOO_MANY, 429)
        if refused.status == 422:
            return again(WRONG_CREDENTIALS, 401)
        return again(SIGN_IN_UNAVAILABLE, 503)
    session = StaffSession(
        username=username.strip().lower(),
        roles=tuple(answer.get("roles", [])),
        token=answer["access_token"],
        expires_at=datetime.fromisoformat(answer["expires_at"]),
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    signed_in(request, response, session)
    who.rotate_csrf = True  # a new CSRF token for the signed-in pages
    return response


@router.post("/signout")
async def signout(
    request: Request,
    who: Who,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    response = RedirectResponse("/", status_code=303)
    if check_csrf(request, who, csrf_token):
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
        who.rotate_csrf = True
    return response

"""The composition root of the web component (`create_app`): nothing connects at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.web.backends import (
    BackendError,
    Backends,
    Forbidden,
    SignInRequired,
    Unavailable,
    browser_address,
)
from services.web.i18n import LANG_COOKIE, Translations
from services.web.pages import areas, navigation
from services.web.rendering import Visitor, install_filters, is_htmx, render
from services.web.session import CSRF_COOKIE, SESSION_COOKIE, SessionSealer, new_csrf_token
from services.web.settings import WebSettings

log = structlog.get_logger("foro.web")

HERE = Path(__file__).parent
LANG_COOKIE_SECONDS = 365 * 24 * 3600
# Everything from this origin, nothing inline: htmx's indicator styles are turned off in
# base.html (its `htmx-config` meta) so it injects no <style>.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def create_app(
    settings: WebSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    strict_translations: bool = False,
) -> FastAPI:
    """The web app. `transport` replaces the network to the services (tests); with
    `strict_translations` a string without a translation fails the page instead of showing English."""
    settings = settings or WebSettings()
    pack = settings.load_pack()
    translations = Translations.load(
        pack.forum.default_language, pack.forum.languages, strict=strict_translations
    )
    backends = Backends(settings.service_urls(), settings.backend_timeout, transport)
    sealer = SessionSealer(settings.cookie_keys(), int(settings.session_hours * 3600))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("web started", languages=translations.languages)
        try:
            yield
        finally:
            await backends.close()

    app = FastAPI(
        title="foro · web",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.pack = pack
    app.state.translations = translations
    app.state.backends = backends
    app.state.sealer = sealer
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    install_filters(app.state.templates.env, pack.forum.tz)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = areas()
    for area in pages:
        app.include_router(area.router)
    app.state.nav = navigation(pages)

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> dict[str, object]:
        # Ready once started: templates and catalogs are loaded at creation. The services' own
        # health is not ours to report; a page that needs one that is down says so itself, and
        # the public programme keeps working while, say, reporting restarts.
        return {"status": "ready", "languages": app.state.translations.languages}

    @app.middleware("http")
    async def who_is_asking(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The app's catalogs, not this function's: a test may give the app another language.
        lang, chosen = request.app.state.translations.negotiate(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )
        session_cookie = request.cookies.get(SESSION_COOKIE)
        session = sealer.open(session_cookie)
        csrf = request.cookies.get(CSRF_COOKIE)
        visitor = Visitor(lang, session, csrf or new_csrf_token(), rotate_csrf=csrf is None)
        request.state.visitor = visitor
        browser_address.set(request.client.host if request.client else None)  # X-Forwarded-For
        response = await call_next(request)
        secure = request.url.scheme == "https"
        if chosen:
            response.set_cookie(
                LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS, samesite="lax", secure=secure
            )
        if visitor.rotate_csrf:
            if csrf is not None and visitor.csrf == csrf:
                visitor.csrf = new_csrf_token()
            response.set_cookie(
                CSRF_COOKIE, visitor.csrf, httponly=True, samesite="strict", secure=secure
            )
        if session_cookie and session is None and not _sets_cookie(response, SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Content-Language"] = lang
        response.headers.setdefault("Vary", "Cookie, Accept-Language, HX-Request")
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_again(request: Request, error: Exception) -> Response:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/signin?next={quote(here, safe='')}"
        if is_htmx(request):  # htmx follows this with a full page load
            response: Response = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        # A service refused the token (expired, revoked): it is forgotten. A page wanting
        # another kind of sign-in ("web": a party's page asked by staff, or the reverse) keeps
        # the sign-in there is: following a link must not sign anybody out.
        if getattr(error, "service", None) != "web":
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
        return response

    @app.exception_handler(Forbidden)
    async def not_allowed(request: Request, error: Exception) -> Response:
        assert isinstance(error, Forbidden)
        return render(
            request,
            "error.html",
            {"kind": "forbidden", "error": error, "service_message": error.message(_lang(request))},
            status_code=403,
        )

    @app.exception_handler(Unavailable)
    async def not_answering(request: Request, error: Exception) -> Response:
        assert isinstance(error, Unavailable)
        return render(
            request, "error.html", {"kind": "unavailable", "error": error}, status_code=502
        )

    @app.exception_handler(BackendError)
    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, BackendError)
        kind = "not_found" if error.status == 404 else "refused"
        return render(
            request,
            "error.html",
            {"kind": kind, "error": error, "service_message": error.message(_lang(request))},
            status_code=error.status if 400 <= error.status < 500 else 502,
        )

    @app.exception_handler(404)
    async def no_page(request: Request, _: Exception) -> Response:
        if request.url.path.startswith(("/static/", "/health/")):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return render(request, "error.html", {"kind": "no_page"}, status_code=404)

    return app


def _lang(request: Request) -> str:
    visitor: Visitor = request.state.visitor
    return visitor.lang


def _sets_cookie(response: Response, name: str) -> bool:
    prefix = f"{name}=".encode()
    return any(
        key.lower() == b"set-cookie" and value.startswith(prefix)
        for key, value in response.raw_headers
    )

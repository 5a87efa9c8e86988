"""The API's documentation pages (`/docs`, `/redoc`), served with their assets by the service
itself, so that they work on a network without internet (a government intranet).

The assets come from the `fastapi-offline` package (pinned in constraints.txt), which ships
Swagger UI's bundle and stylesheet, ReDoc's standalone bundle and a favicon as package data
(Swagger UI 5.32.6 and ReDoc 2.5.3 in fastapi-offline 1.7.7); upgrading them is upgrading that
pin. Nothing here names another host: no CDN and no Google fonts. Two things the bundles would
fetch from elsewhere are turned off: Swagger UI's validator badge (an image from
validator.swagger.io, shown by its standalone layout when the page is not on localhost) and the
Redocly logo ReDoc's sidebar loads from cdn.redoc.ly (replaced by an empty inline image; the
"API docs by Redocly" link stays). tests/e2e/test_docs_offline.py opens both pages in Chromium
with every other host refused, so a new bundle that fetches something else fails there.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_PATH = "/static/docs"
"""Where the pages' JavaScript, stylesheet and favicon are served."""

ASSETS = Path(str(files("fastapi_offline") / "static"))
"""The vendored files: swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png."""

SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    # null turns the validator badge off (its image would be fetched from validator.swagger.io).
    "validatorUrl": None,
}

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@cache
def redoc_bundle() -> bytes:
    """ReDoc's standalone bundle with its sidebar logo made an inline image (read once)."""
    return (
        (ASSETS / "redoc.standalone.js")
        .read_bytes()
        .replace(REDOCLY_LOGO.encode(), EMPTY_IMAGE.encode())
    )


def install_docs(app: FastAPI) -> None:
    """Adds `/docs` (Swagger UI) and `/redoc` (ReDoc) for `app`'s OpenAPI document, and their
    assets under `STATIC_PATH`. Paths honour the ASGI root path (a service behind a path prefix)."""
    title = f"{app.title} — API"

    # Before the mount, which would otherwise answer this path with the file as shipped.
    @app.get(f"{STATIC_PATH}/redoc.standalone.js", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            redoc_bundle(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount(STATIC_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url or ''}",
            title=title,
            swagger_js_url=f"{root}{STATIC_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PATH}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url or ''}",
            title=title,
            redoc_js_url=f"{root}{STATIC_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_PATH}/favicon.png",
            with_google_fonts=False,
        )

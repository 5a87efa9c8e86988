"""The API's documentation pages (`/docs`, `/redoc`), served with their assets by the service
itself so they work without internet (to be written: still FastAPI's CDN defaults)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse


def install_docs(app: FastAPI) -> None:
    """Adds `/docs` (Swagger UI) and `/redoc` (ReDoc) for `app`'s OpenAPI document."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} — API")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "", title=f"{app.title} — API")

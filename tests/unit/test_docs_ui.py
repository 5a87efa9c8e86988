"""The documentation pages name no other host: their assets are the service's own (the browser
test, tests/e2e/test_docs_offline.py, shows they render that way)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from shared.docs_ui import REDOCLY_LOGO, STATIC_PATH, install_docs
from tests.support.browser import is_loopback


def docs_app() -> FastAPI:
    app = FastAPI(title="foro · test", docs_url=None, redoc_url=None)
    install_docs(app)
    return app


async def get(path: str, root_path: str = "") -> httpx.Response:
    transport = httpx.ASGITransport(app=docs_app(), root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        return await client.get(path)


def links(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url|spec-url)\s*[=:]\s*["']([^"']+)["']""", html)


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui.css", "swagger-ui-bundle.js", "favicon.png"]),
        ("/redoc", ["redoc.standalone.js", "favicon.png"]),
    ],
)
async def test_a_page_links_only_the_services_own_assets(page: str, assets: list[str]) -> None:
    html = (await get(page)).text
    found = links(html)
    assert sorted(found) == sorted(["/openapi.json", *(f"{STATIC_PATH}/{a}" for a in assets)])
    assert "googleapis" not in html and "http" not in html.replace("http-equiv", "")
    for asset in assets:
        response = await get(f"{STATIC_PATH}/{asset}")
        assert response.status_code == 200 and len(response.content) > 1000, asset


async def test_swagger_ui_shows_no_validator_badge() -> None:
    html = (await get("/docs")).text
    assert '"validatorUrl": null' in html


async def test_a_root_path_prefixes_every_link() -> None:
    for page in ("/docs", "/redoc"):
        found = links((await get(page, root_path="/registration")).text)
        assert found and all(link.startswith("/registration/") for link in found), found


async def test_redoc_is_served_without_its_cdn_logo() -> None:
    bundle = await get(f"{STATIC_PATH}/redoc.standalone.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert b"cdn.redoc.ly" not in bundle.content
    assert REDOCLY_LOGO.startswith("https://cdn.redoc.ly/")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8001/docs", True),
        ("http://127.3.2.1/x", True),
        ("http://[::1]:8000/", True),
        ("http://localhost:8000/", True),
        ("data:image/svg+xml,%3Csvg/%3E", True),
        ("blob:http://127.0.0.1:8001/0c1d", True),
        ("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css", False),
        ("https://fonts.googleapis.com/css?family=Montserrat", False),
        ("http://10.0.0.5/", False),
        ("http://localhost.example.org/", False),
    ],
)
def test_loopback_is_this_machine_only(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback

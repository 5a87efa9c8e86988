"""The web app against fake services, for the pages' tests (tests/unit/test_web_*.py): `web_app`
serves it to a client, `sign_in_staff` signs in through the form; and fake services for the
console's pages (tests/unit/test_web_console_*.py), each answering from a table of
(method, path) → response, recording what the page sent and checking the staff token."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import SecretStr

from services.web.bootstrap import create_app
from services.web.settings import WebSettings

COOKIE_SECRET = SecretStr("Yv3qT9xKp2LmN8rB4wZc7HjD1fGs6AeQ0uVtRyXo")
PASSWORD = "the right passphrase"
PORTS = {"8001": "registration", "8002": "scheduling", "8003": "expo"}
PORTS |= {"8004": "notification", "8005": "reporting"}


def staff_token(**claims: Any) -> str:
    """A JWT-shaped staff token (the fakes do not verify it; the page reads its `sessions`)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'EdDSA'})}.{part({'sub': 'user:1', **claims})}.c2ln"


@dataclass
class Sent:
    service: str
    method: str
    path: str
    params: dict[str, list[str]]
    body: Any


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeConsoleServices:
    token: str = field(default_factory=staff_token)
    routes: dict[tuple[str, str, str], Answer] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, service: str, method: str, path: str, answer: Answer | Any) -> None:
        if not isinstance(answer, httpx.Response) and not callable(answer):
            answer = httpx.Response(200, json=answer)
        self.routes[(service, method, path)] = answer

    def refuse(self, service: str, method: str, path: str, status: int, **detail: Any) -> None:
        self.routes[(service, method, path)] = httpx.Response(status, json={"detail": detail})

    def calls(self, service: str, method: str, path: str) -> list[Sent]:
        return [s for s in self.sent if (s.service, s.method, s.path) == (service, method, path)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = PORTS.get(str(request.url.port), "?")
        path, method = request.url.path, request.method
        if path == "/auth/login":
            expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
            return httpx.Response(
                200, json={"access_token": self.token, "expires_at": expires, "roles": ["admin"]}
            )
        body: Any = None
        if request.content:
            body = json.loads(request.content)
        self.sent.append(Sent(service, method, path, parse_qs(request.url.query.decode()), body))
        answer = self.routes.get((service, method, path))
        if path == "/metrics" and answer is None:
            return httpx.Response(200, text="# no dead letters\n")
        if path != "/metrics" and request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"detail": {"code": "token_missing"}})
        if answer is None:
            return httpx.Response(404, json={"detail": f"{service}: no fake for {method} {path}"})
        return answer(request) if callable(answer) else answer


@asynccontextmanager
async def web_app(
    services: Callable[[httpx.Request], httpx.Response], settings: WebSettings | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The web app with `services` answering for every service behind it (httpx.MockTransport)
    and missing translations made errors, and a client talking to it; nobody signed in."""
    app = create_app(
        settings or WebSettings(cookie_secret=[COOKIE_SECRET]),
        transport=httpx.MockTransport(services),
        strict_translations=True,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def sign_in_staff(
    client: httpx.AsyncClient,
    username: str = "someone",
    password: str = PASSWORD,
    lang: str | None = None,
    **fields: str,
) -> httpx.Response:
    """A member of staff signs in through the form (in `lang`, when given; `next` and the like
    in `fields`)."""
    form = await client.get(f"/signin?lang={lang}" if lang else "/signin")
    data = {"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    return await client.post("/signin", data=data | fields)


@asynccontextmanager
async def console(
    services: Callable[[httpx.Request], httpx.Response], lang: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The web app against `services`, signed in (in `lang`, when given)."""
    async with web_app(services) as client:
        signed_in = await sign_in_staff(client, lang=lang)
        assert signed_in.status_code == 303, signed_in.text
        yield client


def csrf(client: httpx.AsyncClient) -> str:
    return str(client.cookies["foro_csrf"])


def assert_page(response: httpx.Response, lang: str, status: int = 200) -> None:
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert f'<html lang="{lang}">' in response.text
    assert not re.search(r'(src|href)="(https?:)?//', response.text)

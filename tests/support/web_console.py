"""Fake services for the console's pages (tests/unit/test_web_console_*.py): each answers from a
table of (method, path) → response, records what the page sent, and checks the staff token."""

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
async def console(services: FakeConsoleServices, lang: str) -> AsyncIterator[httpx.AsyncClient]:
    """The web app against `services`, signed in, in `lang`, with strict translations."""
    app = create_app(
        WebSettings(cookie_secret=[COOKIE_SECRET]),
        transport=httpx.MockTransport(services),
        strict_translations=True,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        form = await client.get(f"/signin?lang={lang}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        signed_in = await client.post(
            "/signin",
            data={"username": "someone", "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        yield client


def csrf(client: httpx.AsyncClient) -> str:
    return str(client.cookies["foro_csrf"])


def assert_page(response: httpx.Response, lang: str, status: int = 200) -> None:
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert f'<html lang="{lang}">' in response.text
    assert not re.search(r'(src|href)="(https?:)?//', response.text)

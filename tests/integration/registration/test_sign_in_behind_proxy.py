"""Failed sign-ins behind the web pages: registration counts them per username and the
BROWSER's address, which it takes from `X-Forwarded-For` only when the direct peer is one of its
REGISTRATION_TRUSTED_PROXIES (the web's address). One person guessing a password through the web
locks that username out for themselves, not for every colleague signing in through the same web;
a caller that is not a trusted proxy cannot choose the address its failures count against.

On the real database and broker; the callers' addresses are given to the in-process app.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from services.registration.settings import RegistrationSettings
from shared.auth.tokens import encode_pem
from tests.integration.registration.conftest import RunningRegistration
from tests.integration.registration.test_identity import KID, PRIVATE, PUBLIC_KEYS, foro_command

WEB = "10.0.0.6"  # the web pages' address, a trusted proxy
STRANGER = "198.51.100.7"  # a caller straight to registration
PASSWORD = "door one's long passphrase"


@pytest.fixture
def registration_settings(registration_settings: RegistrationSettings) -> RegistrationSettings:
    return registration_settings.model_copy(
        update={
            "auth_signing_key": SecretStr(encode_pem(PRIVATE)),
            "auth_signing_key_id": KID,
            "auth_public_keys": PUBLIC_KEYS,
            "trusted_proxies": [ipaddress.ip_network(f"{WEB}/32")],
        }
    )


@asynccontextmanager
async def caller(
    registration: RunningRegistration, address: str
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=registration.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://registration") as client:
        yield client


async def sign_in(http: httpx.AsyncClient, password: str, browser: str | None = None) -> int:
    headers = {"X-Forwarded-For": browser} if browser else {}
    answer = await http.post(
        "/auth/login", json={"username": "door1", "password": password}, headers=headers
    )
    return answer.status_code


async def test_failures_through_the_web_count_against_the_browser_not_the_web(
    registration: RunningRegistration, registration_settings: RegistrationSettings
) -> None:
    made = await foro_command(
        registration_settings,
        "users",
        "add",
        "door1",
        "--role",
        "door_staff",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    guesser, colleague = "203.0.113.66", "203.0.113.77"

    async with caller(registration, WEB) as web, caller(registration, STRANGER) as stranger:
        # Someone guesses door1's password through the web: five failures, then 429 for them,
        # even with the right password.
        for _ in range(5):
            assert await sign_in(web, "a wrong guess", guesser) == 401
        assert await sign_in(web, PASSWORD, guesser) == 429
        # door1 at another browser, through the same web, is not locked out.
        assert await sign_in(web, PASSWORD, colleague) == 200

        # A caller that is not a trusted proxy naming the colleague's address: its failures
        # count against its own address …
        for _ in range(5):
            assert await sign_in(stranger, "a wrong guess", colleague) == 401
        assert await sign_in(stranger, PASSWORD, colleague) == 429
        # … so the colleague still signs in through the web.
        assert await sign_in(web, PASSWORD, colleague) == 200
        # A browser that sends its own X-Forwarded-For through the web cannot borrow an address
        # either: the web's entry (the right-most) counts.
        assert await sign_in(web, PASSWORD, f"{colleague}, {guesser}") == 429

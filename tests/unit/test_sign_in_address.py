"""Which address a failed sign-in counts against (registration's throttle), and the web sending
the browser's address to the services in `X-Forwarded-For`.

Behind the web pages every sign-in reaches registration from the web's address; registration
takes the browser's from `X-Forwarded-For` only when the direct peer is one of its
REGISTRATION_TRUSTED_PROXIES, so nobody else can pick the address their failures count against.
"""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from pydantic import SecretStr

from services.registration.identity.throttle import Network, client_address
from services.registration.settings import RegistrationSettings
from services.web.backends import Backends, browser_address
from services.web.bootstrap import create_app
from services.web.settings import WebSettings

WEB: list[Network] = [ipaddress.ip_network("10.0.0.6/32"), ipaddress.ip_network("fd00::/64")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        # No trusted proxy configured: the peer, whatever the header says.
        ("198.51.100.7", "203.0.113.9", [], "198.51.100.7"),
        # A peer that is not a trusted proxy cannot choose its address.
        ("198.51.100.7", "203.0.113.9", WEB, "198.51.100.7"),
        # The web (trusted) says whose request it is.
        ("10.0.0.6", "203.0.113.9", WEB, "203.0.113.9"),
        # A browser's own X-Forwarded-For before the web's entry is not believed: right-most
        # untrusted hop.
        ("10.0.0.6", "1.2.3.4, 203.0.113.9", WEB, "203.0.113.9"),
        # Trusted hops are walked past.
        ("10.0.0.6", "203.0.113.9, 10.0.0.6", WEB, "203.0.113.9"),
        ("fd00::1", "[2001:db8::5]", WEB, "2001:db8::5"),
        # Every hop trusted: the left-most.
        ("10.0.0.6", "10.0.0.6", WEB, "10.0.0.6"),
        # Garbage ends the walk: the last trusted hop counts.
        ("10.0.0.6", "not-an-address", WEB, "10.0.0.6"),
        ("10.0.0.6", "", WEB, "10.0.0.6"),
        ("10.0.0.6", None, WEB, "10.0.0.6"),
        ("unknown", "203.0.113.9", WEB, "unknown"),
    ],
)
def test_the_address_a_sign_in_counts_against(
    peer: str, forwarded: str | None, proxies: list[Network], expected: str
) -> None:
    assert client_address(peer, forwarded, proxies) == expected


def test_trusted_proxies_are_addresses_or_networks_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert RegistrationSettings().trusted_proxies == []
    monkeypatch.setenv("REGISTRATION_TRUSTED_PROXIES", "127.0.0.1, 172.30.0.0/24 ::1")
    assert [str(n) for n in RegistrationSettings().trusted_proxies] == [
        "127.0.0.1/32",
        "172.30.0.0/24",
        "::1/128",
    ]
    monkeypatch.setenv("REGISTRATION_TRUSTED_PROXIES", '["10.244.0.0/16"]')
    assert [str(n) for n in RegistrationSettings().trusted_proxies] == ["10.244.0.0/16"]
    monkeypatch.setenv("REGISTRATION_TRUSTED_PROXIES", "")
    assert RegistrationSettings().trusted_proxies == []
    monkeypatch.setenv("REGISTRATION_TRUSTED_PROXIES", "the-web")
    with pytest.raises(ValueError, match="trusted_proxies"):
        RegistrationSettings()


async def test_the_web_sends_the_browsers_address_to_the_services() -> None:
    seen: list[str | None] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-forwarded-for"))
        return httpx.Response(200, json={})

    backends = Backends(
        {"registration": "http://registration.test"}, 5, httpx.MockTransport(service)
    )
    try:
        await backends.post_json("registration", "/auth/login", json={})  # outside a request
        token = browser_address.set("203.0.113.9")
        try:
            await backends.post_json("registration", "/auth/login", json={})
        finally:
            browser_address.reset(token)
    finally:
        await backends.close()
    assert seen == [None, "203.0.113.9"]


async def test_the_web_app_sets_the_address_of_each_request() -> None:
    """Through the app: its middleware names the browser, and the sign-in call carries it."""
    seen: list[str | None] = []

    def services(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-forwarded-for"))
        return httpx.Response(401, json={"detail": {"code": "sign_in_failed"}})

    app = create_app(
        WebSettings(cookie_secret=[SecretStr("Yv3qT9xKp2LmN8rB4wZc7HjD1fGs6AeQ0uVtRyXo")]),
        transport=httpx.MockTransport(services),
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://web.test") as web,
    ):
        form = await web.get("/signin")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        await web.post(
            "/signin",
            data={"username": "someone", "password": "not the passphrase", "csrf_token": csrf},
        )
    assert seen == ["203.0.113.9"]

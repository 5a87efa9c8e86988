"""docker-compose.yml's web pages: the same image, `python -m services.web` on 127.0.0.1:8006,
the five services' URLs inside the compose network, the cookie secret from .env (production
refuses the web without it), and registration trusting the web's fixed address alone for the
browser's address on sign-ins (REGISTRATION_TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import pytest
from pydantic import ValidationError

from services.registration.settings import RegistrationSettings
from services.web.settings import WebSettings
from shared.secrets_policy import InsecureSettingsError
from tests.unit.test_compose import SERVICES, compose


@pytest.fixture
def stack() -> dict[str, Any]:
    return compose({"FORO_BROKER_PASSWORD": "s3cret-for-the-test"})


def test_the_web_runs_from_the_same_image_on_its_own_port(stack: dict[str, Any]) -> None:
    web = stack["services"]["web"]
    assert web["image"] == stack["services"]["registration"]["image"] == "foro:local"
    assert web["command"] == ["python", "-m", "services.web"]
    assert web["ports"] == ["127.0.0.1:8006:8006"]
    env = web["environment"]
    assert (env["WEB_HTTP_HOST"], env["WEB_HTTP_PORT"]) == ("0.0.0.0", "8006")
    for name, port in SERVICES.items():
        assert env[f"WEB_{name.upper()}_URL"] == f"http://{name}:{port}"
    assert set(web["depends_on"]) == set(SERVICES)
    assert "FORO_BROKER_URL" not in env and "FORO_MONGO_URL" not in env  # it owns no data
    settings = WebSettings(
        **{
            k.removeprefix("WEB_").lower(): v
            for k, v in env.items()
            if k.startswith("WEB_") and k != "WEB_COOKIE_SECRET"
        }
    )
    assert settings.registration_url == "http://registration:8001"


def test_the_cookie_secret_comes_from_env_and_production_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    production = compose({"FORO_BROKER_PASSWORD": "x", "FORO_ENVIRONMENT": "production"})[
        "services"
    ]["web"]["environment"]
    assert production["WEB_COOKIE_SECRET"] == ""
    for key in [k for k in list(os.environ) if k.startswith(("WEB_", "FORO_"))]:
        monkeypatch.delenv(key)
    for key, value in production.items():
        monkeypatch.setenv(key, value)
    with pytest.raises((InsecureSettingsError, ValidationError), match="WEB_COOKIE_SECRET"):
        WebSettings()
    secret = "Yv3qT9xKp2LmN8rB4wZc7HjD1fGs6AeQ0uVtRyXo"
    given = compose({"FORO_BROKER_PASSWORD": "x", "WEB_COOKIE_SECRET": secret})
    assert given["services"]["web"]["environment"]["WEB_COOKIE_SECRET"] == secret


def test_registration_trusts_the_webs_fixed_address_alone(stack: dict[str, Any]) -> None:
    web = stack["services"]["web"]
    address = web["networks"]["default"]["ipv4_address"]
    (subnet,) = stack["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["subnet"])
    trusted = stack["services"]["registration"]["environment"]["REGISTRATION_TRUSTED_PROXIES"]
    assert trusted == address
    assert [str(n) for n in RegistrationSettings(trusted_proxies=trusted).trusted_proxies] == [
        f"{address}/32"
    ]
    moved = compose({"FORO_BROKER_PASSWORD": "x", "FORO_NETWORK_PREFIX": "10.99.1"})
    assert moved["services"]["web"]["networks"]["default"]["ipv4_address"] == "10.99.1.6"
    assert moved["services"]["registration"]["environment"]["REGISTRATION_TRUSTED_PROXIES"] == (
        "10.99.1.6"
    )

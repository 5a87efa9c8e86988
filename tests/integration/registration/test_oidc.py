"""OpenID Connect sign-in against an identity provider running in this process.

The provider is `oidc-provider-mock` (PyPI): a real OpenID provider built on authlib's server
(Flask/werkzeug, in a thread on a free port) with discovery, a JWKS, RS256 ID tokens and a
sign-in form that takes the subject to authorize. Registration discovers it, redirects to it
(code flow, PKCE S256, state and nonce in its /auth/oidc cookie), exchanges the code and checks
the ID token with authlib's client.

An account is made and linked with `foro users add` and `foro users link`; the person signs in
at the provider and gets a staff token with the account's roles, which `require()` accepts. A
callback with another state, or without the cookie, is refused; a subject linked to no account
is refused and no account is made; a disabled account is refused.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import jwt
import pytest
from fastapi import Depends
from oidc_provider_mock import run_server_in_thread
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from services.registration.settings import OidcProvider, RegistrationSettings
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.tokens import encode_pem, generate_key_pair, new_key_id
from shared.cli.app import app as foro
from tests.integration.registration.conftest import RunningRegistration, outbox_published

PRIVATE, PUBLIC = generate_key_pair()
KID = new_key_id()
PUBLIC_KEYS = {KID: encode_pem(PUBLIC)}
PUBLIC_URL = "http://registration.test"
PROVIDER = "corp"
CLIENT_ID = "foro-registration"
CLIENT_SECRET = "issued-by-the-test-provider"
PROBE = "/oidc-probe/checkin"
TIMEOUT = httpx.Timeout(10.0)


async def probe(
    principal: Principal = Depends(require(Permission.CHECKIN_SCAN)),
) -> dict[str, Any]:
    return {"subject": principal.subject, "kind": principal.kind, "token_id": principal.token_id}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    """The provider, on a free port, for the module's tests; it insists on a nonce."""
    with (
        pytest.MonkeyPatch.context() as env,
        run_server_in_thread(port=0, require_nonce=True) as server,
    ):
        # Plain http on localhost: authlib (client and provider) refuses it otherwise.
        env.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def registration_settings(
    registration_settings: RegistrationSettings, issuer: str
) -> RegistrationSettings:
    provider = OidcProvider(
        name=PROVIDER, issuer=issuer, client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET)
    )
    return registration_settings.model_copy(
        update={
            "auth_signing_key": SecretStr(encode_pem(PRIVATE)),
            "auth_signing_key_id": KID,
            "auth_public_keys": PUBLIC_KEYS,
            "oidc_providers": [provider],
            "public_url": PUBLIC_URL,
        }
    )


@pytest.fixture
async def browser(registration: RunningRegistration) -> AsyncIterator[httpx.AsyncClient]:
    """Registration's API as a browser reaches it (a cookie jar), no token."""
    registration.app.add_api_route(PROBE, probe, methods=["GET"])
    transport = httpx.ASGITransport(app=registration.app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=TIMEOUT) as c:
        yield c


async def foro_command(settings: RegistrationSettings, issuer: str, *args: str) -> Result:
    env = {
        "FORO_MONGO_URL": settings.mongo_url.get_secret_value(),
        "REGISTRATION_DATABASE": settings.database,
        "REGISTRATION_OIDC_PROVIDERS": json.dumps(
            [
                {
                    "name": PROVIDER,
                    "issuer": issuer,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }
            ]
        ),
        "REGISTRATION_PUBLIC_URL": PUBLIC_URL,
        "FORO_ACTOR": "test-operator",
    }
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, foro, list(args), input="a long passphrase nobody uses\n", env=env
    )


async def linked_account(settings: RegistrationSettings, issuer: str, subject: str) -> None:
    made = await foro_command(
        settings, issuer, "users", "add", "ana", "--role", "door_staff", "--password-stdin"
    )
    assert made.exit_code == 0, made.output
    linked = await foro_command(
        settings, issuer, "users", "link", "ana", "--provider", PROVIDER, "--subject", subject
    )
    assert linked.exit_code == 0, linked.output
    assert f"ana: linked to {PROVIDER} subject {subject}" in linked.output


async def start(browser: httpx.AsyncClient, issuer: str) -> str:
    """`/login` → the provider's authorization URL (checked)."""
    answer = await browser.get(f"/auth/oidc/{PROVIDER}/login")
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(issuer + "/")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/auth/oidc/{PROVIDER}/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert "openid" in query["scope"][0].split()
    cookie = answer.headers["set-cookie"]
    assert "foro_oidc=" in cookie and "path=/auth/oidc" in cookie.lower()
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    return location


async def authorize(location: str, subject: str) -> str:
    """The person signs in at the provider as `subject`: its redirect back (callback path and
    query, with the code and the state)."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as provider:
        answer = await provider.post(location, data={"sub": subject})
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
    assert "code" in parse_qs(back.query)
    return urlunsplit(("", "", back.path, back.query, ""))


async def test_a_linked_person_signs_in_at_the_provider_and_gets_the_accounts_staff_token(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    issuer: str,
    browser: httpx.AsyncClient,
) -> None:
    await linked_account(registration_settings, issuer, "ana@corp")
    callback = await authorize(await start(browser, issuer), "ana@corp")

    signed_in = await browser.get(callback)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["token_type"] == "bearer" and body["roles"] == ["door_staff"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "account:ana" and claims["kind"] == "staff"
    assert claims["roles"] == ["door_staff"]

    # The shared dependency accepts it: door staff may scan, and may not read participants.
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    accepted = await browser.get(PROBE, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"subject": "account:ana", "kind": "staff", "token_id": claims["jti"]}
    refused = await browser.get("/participants", headers=headers)
    assert refused.status_code == 403 and refused.json()["detail"]["permission"] == (
        "participants:read"
    )

    # Recorded on the account like a password sign-in: disabling the account revokes it.
    stored = await registration.deps.identity.store.account("ana")  # type: ignore[union-attr]
    assert stored is not None
    assert claims["jti"] in [t["token_id"] for t in stored["staff_tokens"]]

    # The state was used up: the same callback again is refused.
    again = await browser.get(callback)
    assert again.status_code == 401
    assert again.json()["detail"]["code"] == "oidc_state_mismatch"


async def test_a_callback_with_another_state_or_without_the_cookie_is_refused(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    issuer: str,
    browser: httpx.AsyncClient,
) -> None:
    await linked_account(registration_settings, issuer, "ana@corp")
    callback = await authorize(await start(browser, issuer), "ana@corp")
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}

    forged = await browser.get(f"{path}?{urlencode({**params, 'state': 'forged-state'})}")
    assert forged.status_code == 401, forged.text
    detail = forged.json()["detail"]
    assert detail["code"] == "oidc_state_mismatch"
    assert detail["message_es"] and detail["message_en"]
    assert forged.headers["www-authenticate"] == "Bearer"

    # Another browser (no cookie) with the right code and state: refused too.
    transport = httpx.ASGITransport(app=registration.app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as stranger:
        stolen = await stranger.get(callback)
    assert stolen.status_code == 401
    assert stolen.json()["detail"]["code"] == "oidc_state_mismatch"


async def test_an_unlinked_subject_is_refused_and_no_account_is_made(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    issuer: str,
    browser: httpx.AsyncClient,
) -> None:
    await linked_account(registration_settings, issuer, "ana@corp")
    callback = await authorize(await start(browser, issuer), "someone-else@corp")

    refused = await browser.get(callback)
    assert refused.status_code == 401, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "oidc_not_linked"
    assert "secretar" in detail["message_es"] and "secretariat" in detail["message_en"]
    accounts = await registration.deps.identity.store.list_accounts()  # type: ignore[union-attr]
    assert [a["_id"] for a in accounts] == ["ana"]

    # A linked subject whose account is disabled is refused as well.
    disabled = await foro_command(registration_settings, issuer, "users", "disable", "ana")
    assert disabled.exit_code == 0, disabled.output
    callback = await authorize(await start(browser, issuer), "ana@corp")
    refused = await browser.get(callback)
    assert refused.status_code == 401
    assert refused.json()["detail"]["code"] == "account_disabled"


async def test_an_unknown_provider_and_a_link_to_one_are_refused(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    issuer: str,
    browser: httpx.AsyncClient,
) -> None:
    unknown = await browser.get("/auth/oidc/nobody/login")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "oidc_unknown_provider"

    await linked_account(registration_settings, issuer, "ana@corp")
    wrong = await foro_command(
        registration_settings,
        issuer,
        "users",
        "link",
        "ana",
        "--provider",
        "nobody",
        "--subject",
        "x",
    )
    assert wrong.exit_code == 2 and "REGISTRATION_OIDC_PROVIDERS" in wrong.output
    # One subject, one account: linking it to another account is refused.
    made = await foro_command(
        registration_settings,
        issuer,
        "users",
        "add",
        "bea",
        "--role",
        "observer",
        "--password-stdin",
    )
    assert made.exit_code == 0, made.output
    taken = await foro_command(
        registration_settings,
        issuer,
        "users",
        "link",
        "bea",
        "--provider",
        PROVIDER,
        "--subject",
        "ana@corp",
    )
    assert taken.exit_code == 1 and "another account" in taken.output
    again = await foro_command(
        registration_settings,
        issuer,
        "users",
        "link",
        "ana",
        "--provider",
        PROVIDER,
        "--subject",
        "ana@corp",
    )
    assert again.exit_code == 0 and "was linked already" in again.output
    # In the audit trail once, by its operator: the account and the provider, not the subject.
    await outbox_published(registration)
    await registration.tap.drain()
    [linked] = registration.tap.of_type("account.linked")
    assert (linked["username"], linked["provider"]) == ("ana", PROVIDER)
    assert linked["actor"]["subject"] == "cli:test-operator"
    assert "ana@corp" not in json.dumps(linked)

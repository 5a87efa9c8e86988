"""Staff accounts, sign-in and API tokens, end to end on the real database and broker.

The first admin is made with `foro users add` (typer's CliRunner, on registration's database);
they sign in at registration (`POST /auth/login`) and the 12-hour staff JWT is accepted by
another service (scheduling, in process, verifying with the public key only). A wrong password
and an unknown user get the same 401. An API token is issued, works, is revoked
(`access.revoked` published through registration's outbox) and is refused by scheduling within
seconds; token lists never show a token's text; an expired token is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pyotp
import pytest
from fastapi import Depends
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from services.registration.settings import RegistrationSettings
from services.scheduling.bootstrap import create_app as create_scheduling
from services.scheduling.settings import SchedulingSettings
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair, new_key_id
from shared.cli.app import app as foro
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.integration.registration.conftest import RunningRegistration, outbox_published
from tests.support.bus import delete_topology, eventually

PRIVATE, PUBLIC = generate_key_pair()
KID = new_key_id()
PUBLIC_KEYS = {KID: encode_pem(PUBLIC)}
ADMIN_PASSWORD = "the first of many long passphrases"
# A route of scheduling's app guarded by `require(programme:read)`: the service's own
# authenticator (public keys, revoked ids refreshed from its `revoked_tokens`) decides, whatever
# its other routes' state.
DRAFT = "/identity-probe/programme"


async def probe(
    principal: Principal = Depends(require(Permission.PROGRAMME_READ)),
) -> dict[str, str]:
    return {"subject": principal.subject}


@pytest.fixture
def registration_settings(
    registration_settings: RegistrationSettings,
) -> RegistrationSettings:
    """Registration signs with the test key (and verifies with its public half)."""
    return registration_settings.model_copy(
        update={
            "auth_signing_key": SecretStr(encode_pem(PRIVATE)),
            "auth_signing_key_id": KID,
            "auth_public_keys": PUBLIC_KEYS,
        }
    )


@pytest.fixture
async def scheduling(
    namespace: str, mongo_url: str, amqp_url: str, amqp: aio_pika.abc.AbstractRobustConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """Another service: it knows registration's public key, never the signing key."""
    settings = SchedulingSettings(
        namespace=namespace,
        database=f"scheduling_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        auth_public_keys=PUBLIC_KEYS,
        outbox_sweep_seconds=0.5,
    )
    app = create_scheduling(settings)
    app.add_api_route(DRAFT, probe, methods=["GET"])
    runtime: ServiceRuntime = app.state.runtime
    try:
        async with runtime.running():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://scheduling") as http:
                yield http
    finally:
        await delete_topology(amqp, runtime.topology, runtime.queue_names)
        cleanup = create_mongo_client(mongo_url)
        await cleanup.drop_database(settings.database)
        await cleanup.close()


@pytest.fixture
async def http(registration: RunningRegistration) -> AsyncIterator[httpx.AsyncClient]:
    """Registration's API without any token."""
    transport = httpx.ASGITransport(app=registration.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registration") as client:
        yield client


async def foro_command(
    settings: RegistrationSettings, *args: str, input: str | None = None
) -> Result:
    """`foro …` as an operator runs it, with registration's variables in the environment (in a
    thread: the command runs its own event loop)."""
    env = {
        "FORO_MONGO_URL": settings.mongo_url.get_secret_value(),
        "REGISTRATION_DATABASE": settings.database,
        "FORO_AUTH_SIGNING_KEY": encode_pem(PRIVATE),
        "FORO_AUTH_SIGNING_KEY_ID": KID,
        "FORO_ACTOR": "test-operator",
    }
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, foro, list(args), input=input, env=env)


OPERATOR: dict[str, Any] = {
    "subject": "cli:test-operator",
    "kind": "operator",
    "roles": [],
    "token_id": None,
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(
    http: httpx.AsyncClient, username: str, password: str, **more: Any
) -> httpx.Response:
    return await http.post("/auth/login", json={"username": username, "password": password, **more})


async def first_admin(settings: RegistrationSettings, http: httpx.AsyncClient) -> str:
    made = await foro_command(
        settings,
        "users",
        "add",
        "Admin",
        "--role",
        "admin",
        "--password-stdin",
        input=ADMIN_PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    signed_in = await sign_in(http, "admin", ADMIN_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    token: str = signed_in.json()["access_token"]
    return token


async def test_the_first_admin_made_by_the_cli_signs_in_and_another_service_accepts_the_token(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
    scheduling: httpx.AsyncClient,
) -> None:
    made = await foro_command(
        registration_settings,
        "users",
        "add",
        "Admin",
        "--role",
        "admin",
        "--password-stdin",
        input=ADMIN_PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    stored = await registration.deps.identity.store.account("admin")  # type: ignore[union-attr]
    assert stored is not None and stored["roles"] == ["admin"]
    assert stored["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert stored["created_by"] == "cli:test-operator"
    assert ADMIN_PASSWORD not in str(stored)
    # Announced for the audit trail, by the running registration's outbox sweep: ids and roles,
    # its operator as the actor; no display name, no credentials.
    [created] = await registration.tap.wait_for("account.created")
    assert (created["username"], created["roles"]) == ("admin", ["admin"])
    assert created["actor"] == OPERATOR
    assert "Admin" not in str(created) and "argon2" not in str(created)

    signed_in = await sign_in(http, "ADMIN", ADMIN_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["token_type"] == "bearer" and body["roles"] == ["admin"]
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=12)

    # Scheduling verifies it with the public key alone.
    accepted = await scheduling.get(DRAFT, headers=bearer(body["access_token"]))
    assert accepted.status_code == 200 and accepted.json() == {"subject": "account:admin"}
    assert (await scheduling.get(DRAFT)).status_code == 401

    # The same username again: refused, nothing changed.
    again = await foro_command(
        registration_settings,
        "users",
        "add",
        "admin",
        "--role",
        "door_staff",
        "--password-stdin",
        input="another long password\n",
    )
    assert again.exit_code == 1 and "exists" in again.output


async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
) -> None:
    admin = await first_admin(registration_settings, http)
    created = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={"username": "door1", "roles": ["door_staff"], "password": "door one's passphrase"},
    )
    assert created.status_code == 201, created.text
    disabled = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={"username": "door2", "roles": ["door_staff"], "password": "door two's passphrase"},
    )
    assert disabled.status_code == 201
    assert (await http.post("/accounts/door2/disable", headers=bearer(admin))).status_code == 200
    # Each announced, with the signed-in admin as the actor (the first admin: the operator).
    # (The command's event goes out with the outbox sweep, the API's at once: in either order.)
    made = {e["username"]: e for e in await registration.tap.wait_for("account.created", 3)}
    assert {name: e["actor"]["subject"] for name, e in made.items()} == {
        "admin": "cli:test-operator",
        "door1": "account:admin",
        "door2": "account:admin",
    }
    by_admin = made["door1"]["actor"]
    assert by_admin["kind"] == "staff" and by_admin["roles"] == ["admin"] and by_admin["token_id"]
    [gone] = await registration.tap.wait_for("account.disabled")
    assert gone["username"] == "door2" and gone["actor"] == by_admin

    answers = [
        await sign_in(http, "door1", "not door one's passphrase"),
        await sign_in(http, "nobody-here", "door one's passphrase"),
        await sign_in(http, "door2", "door two's passphrase"),
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1
    detail = answers[0].json()["detail"]
    assert detail["code"] == "sign_in_failed" and detail["message_es"] and detail["message_en"]
    assert answers[0].headers["WWW-Authenticate"] == "Bearer"

    # Five failures for one username from one address, then 429 before any password check.
    for _ in range(4):
        assert (await sign_in(http, "door1", "wrong wrong wrong")).status_code == 401
    assert (await sign_in(http, "door1", "door one's passphrase")).status_code == 429


async def test_an_account_with_totp_needs_a_fresh_code(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
) -> None:
    admin = await first_admin(registration_settings, http)
    created = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={
            "username": "Rapporteur.One",
            "display_name": "Relatoría 1",
            "roles": ["rapporteur"],
            "sessions": ["S1", "S2"],
            "password": "rapporteur's passphrase",
            "totp": True,
        },
    )
    assert created.status_code == 201, created.text
    uri = created.json()["totp_uri"]
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    listed = await http.get("/accounts", headers=bearer(admin))
    assert uri not in listed.text and "totp_uri" not in listed.text

    password = "rapporteur's passphrase"
    assert (await sign_in(http, "rapporteur.one", password)).status_code == 401
    near = {totp.at(datetime.now(UTC) + timedelta(seconds=s)) for s in range(-60, 61, 30)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in near)
    assert (await sign_in(http, "rapporteur.one", password, totp=wrong)).status_code == 401
    code = totp.now()
    signed_in = await sign_in(http, "rapporteur.one", password, totp=code)
    assert signed_in.status_code == 200, signed_in.text
    # The same code again (a replay, or an onlooker): refused.
    assert (await sign_in(http, "rapporteur.one", password, totp=code)).status_code == 401


async def test_an_api_token_works_until_it_is_revoked(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
    scheduling: httpx.AsyncClient,
) -> None:
    admin = await first_admin(registration_settings, http)
    issued = await http.post(
        "/auth/tokens",
        headers=bearer(admin),
        json={
            "name": "monitoring",
            "roles": ["observer"],
            "scope": ["programme:read"],
            "expires_in_days": 30,
        },
    )
    assert issued.status_code == 201, issued.text
    token, token_id = issued.json()["token"], issued.json()["token_id"]
    assert (await scheduling.get(DRAFT, headers=bearer(token))).status_code == 200
    [announced] = await registration.tap.wait_for("access.token_issued")
    assert announced["token_id"] == token_id and announced["actor"]["subject"] == "account:admin"
    assert (announced["roles"], announced["scope"]) == (["observer"], ["programme:read"])
    assert datetime.fromisoformat(announced["expires_at"]) == datetime.fromisoformat(
        issued.json()["expires_at"]
    )
    assert "monitoring" not in str(announced) and token not in str(announced)

    # Lists show what was issued, never the token.
    listed = await http.get("/auth/tokens", headers=bearer(admin))
    assert listed.status_code == 200
    assert [t["token_id"] for t in listed.json()] == [token_id]
    assert token not in listed.text
    assert listed.json()[0]["created_by"] == "account:admin"
    stored = await registration.deps.identity.store.token(token_id)  # type: ignore[union-attr]
    assert token not in str(stored)
    cli_list = await foro_command(registration_settings, "tokens", "list")
    assert (
        cli_list.exit_code == 0 and token_id[:8] in cli_list.output and token not in cli_list.output
    )

    # A token manager cannot mint more than they hold: an observer token cannot issue tokens.
    assert (await http.get("/auth/tokens", headers=bearer(token))).status_code == 403

    revoked = await http.post(f"/auth/tokens/{token_id}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    [event] = await registration.tap.wait_for("access.revoked")
    assert event["token_id"] == token_id
    assert event["actor"]["subject"] == "account:admin" and event["actor"]["kind"] == "staff"

    async def refused() -> bool:
        answer = await scheduling.get(DRAFT, headers=bearer(token))
        return answer.status_code == 401 and answer.json()["detail"]["code"] == "token_revoked"

    await eventually(refused, 15.0, what="scheduling refuses the revoked token")

    # Revoking again changes nothing and publishes nothing.
    again = await http.post(f"/auth/tokens/{token_id}/revoke", headers=bearer(admin))
    assert again.status_code == 200
    await outbox_published(registration)
    await registration.tap.drain()
    assert len(registration.tap.of_type("access.revoked")) == 1


async def test_the_cli_issues_a_token_alone_on_stdout_and_its_revocation_is_published(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    scheduling: httpx.AsyncClient,
) -> None:
    issued = await foro_command(
        registration_settings,
        "tokens",
        "issue",
        "--name",
        "ci",
        "--role",
        "programme_editor",
        "--scope",
        "programme:read",
        "--expires",
        "90d",
    )
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert "\n" not in token and token.count(".") == 2  # the JWT, and nothing else
    assert (await scheduling.get(DRAFT, headers=bearer(token))).status_code == 200
    [stored] = await registration.deps.identity.store.list_tokens()  # type: ignore[union-attr]
    assert stored["created_by"] == "cli:test-operator"
    assert stored["expires_at"] - stored["created_at"] == timedelta(days=90)
    [announced] = await registration.tap.wait_for("access.token_issued")
    assert announced["token_id"] == stored["_id"] and announced["actor"] == OPERATOR

    revoked = await foro_command(registration_settings, "tokens", "revoke", stored["_id"])
    assert revoked.exit_code == 0, revoked.output
    # The command runs no relay: the running registration's sweep publishes its event.
    [event] = await registration.tap.wait_for("access.revoked")
    assert event["token_id"] == stored["_id"]
    assert event["actor"] == {
        "subject": "cli:test-operator",
        "kind": "operator",
        "roles": [],
        "token_id": None,
    }

    async def refused() -> bool:
        return (await scheduling.get(DRAFT, headers=bearer(token))).status_code == 401

    await eventually(refused, 15.0, what="scheduling refuses the revoked token")


async def test_an_expired_token_is_refused(scheduling: httpx.AsyncClient) -> None:
    signer = TokenSigner(PRIVATE, KID)
    expired = signer.sign(
        subject="token:old",
        kind="machine",
        roles=["observer"],
        lifetime=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    answer = await scheduling.get(DRAFT, headers=bearer(expired.token))
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "token_expired"


async def test_disabling_an_account_revokes_its_sign_ins(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
    scheduling: httpx.AsyncClient,
) -> None:
    await first_admin(registration_settings, http)
    made = await foro_command(
        registration_settings,
        "users",
        "add",
        "editor",
        "--role",
        "programme_editor",
        "--password-stdin",
        input="a programme in twelve sessions\n",
    )
    assert made.exit_code == 0, made.output
    token = (await sign_in(http, "editor", "a programme in twelve sessions")).json()["access_token"]
    assert (await scheduling.get(DRAFT, headers=bearer(token))).status_code == 200

    # Giving a role revokes nothing; the change is announced with its operator.
    given = await foro_command(
        registration_settings, "users", "roles", "editor", "--add", "observer"
    )
    assert given.exit_code == 0, given.output
    [changed] = await registration.tap.wait_for("account.roles_changed")
    assert changed["username"] == "editor" and changed["actor"] == OPERATOR
    assert (changed["previous_roles"], changed["roles"]) == (
        ["programme_editor"],
        ["programme_editor", "observer"],
    )

    disabled = await foro_command(registration_settings, "users", "disable", "editor")
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    [revoked] = await registration.tap.wait_for("access.revoked")
    [gone] = await registration.tap.wait_for("account.disabled")
    assert gone["username"] == "editor" and gone["actor"] == revoked["actor"] == OPERATOR

    async def refused() -> bool:
        return (await scheduling.get(DRAFT, headers=bearer(token))).status_code == 401

    await eventually(refused, 15.0, what="scheduling refuses the disabled account's token")
    assert (await sign_in(http, "editor", "a programme in twelve sessions")).status_code == 401


async def test_a_focal_points_account_names_its_delegation_and_reads_only_that_one(
    registration: RunningRegistration,
    registration_settings: RegistrationSettings,
    http: httpx.AsyncClient,
) -> None:
    admin = await first_admin(registration_settings, http)
    password = "a focal point's passphrase"
    missing = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={"username": "focal.sv", "roles": ["focal_point"], "password": password},
    )
    assert missing.status_code == 422, missing.text
    detail = missing.json()["detail"]
    assert (detail["field"], detail["code"]) == ("delegation", "focal_point_without_delegation")
    assert "delegation" in detail["message_es"] and "delegation" in detail["message_en"]
    no_exhibitor = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={"username": "stand.one", "roles": ["exhibitor"], "password": password},
    )
    assert no_exhibitor.status_code == 422 and no_exhibitor.json()["detail"]["field"] == "exhibitor"
    by_cli = await foro_command(
        registration_settings,
        "users",
        "add",
        "focal.cli",
        "--role",
        "focal_point",
        "--password-stdin",
        input=password + "\n",
    )
    assert by_cli.exit_code == 1 and "delegation:" in by_cli.output

    made = await http.post(
        "/accounts",
        headers=bearer(admin),
        json={
            "username": "focal.sv",
            "roles": ["focal_point"],
            "delegation": "SV",
            "password": password,
        },
    )
    assert made.status_code == 201, made.text
    for code in ("SV", "HN"):
        registered = await http.put(f"/delegations/{code}", headers=bearer(admin), json={})
        assert registered.status_code == 201, registered.text
    focal = (await sign_in(http, "focal.sv", password)).json()["access_token"]
    assert (await http.get("/delegations/SV", headers=bearer(focal))).status_code == 200
    assert [d["code"] for d in (await http.get("/delegations", headers=bearer(focal))).json()] == [
        "SV"
    ]
    assert (await http.get("/delegations/HN", headers=bearer(focal))).status_code == 403
    assert (await http.get("/participants", headers=bearer(focal))).status_code == 403

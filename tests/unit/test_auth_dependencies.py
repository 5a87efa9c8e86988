"""`require(permission)` on a tiny FastAPI app: who is let in, the 401 and 403 answers, static
development tokens, the principal while a request is served, and `permission_of`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import SecretStr

from shared.auth.dependencies import (
    Authenticator,
    api_routes,
    authenticator_for,
    current_principal,
    permission_of,
    permissions_of_route,
    require,
)
from shared.auth.permissions import Permission, Role
from shared.auth.principal import Principal
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

PRIVATE, PUBLIC = generate_key_pair()
SIGNER = TokenSigner(PRIVATE, "k1")
STATIC = "a-static-secretariat-token-for-development-only"


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(
        database="test",
        auth_public_keys={"k1": encode_pem(PUBLIC)},
        api_tokens=[SecretStr(STATIC)],
        **values,
    )


router = APIRouter()
seen: list[Principal | None] = []


@router.post("/approve", dependencies=[Depends(require(Permission.ACCREDITATION_DECIDE))])
async def approve() -> dict[str, str]:
    principal = current_principal()
    seen.append(principal)
    return {"subject": principal.subject if principal else "nobody"}


@router.post("/scan")
async def scan(principal: Principal = Depends(require(Permission.CHECKIN_SCAN))) -> dict[str, str]:
    return {"subject": principal.subject, "kind": principal.kind}


@router.get("/sync", dependencies=[Depends(require(Permission.PARTICIPANTS_READ))])
def in_a_thread() -> dict[str, str]:
    principal = current_principal()
    return {"subject": principal.subject if principal else "nobody"}


@router.get("/open")
async def open_route() -> dict[str, str]:
    return {"ok": "yes"}


def make_app(service_settings: ServiceSettings) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.runtime = SimpleNamespace(
        settings=service_settings, authenticator=Authenticator.from_settings(service_settings)
    )
    return app


async def call(
    app: FastAPI, path: str, token: str | None = None, method: str = "POST"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        return await client.request(method, path, headers=headers)


def token(*roles: Role, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "subject": "account:ana",
        "kind": "staff",
        "roles": roles,
        "lifetime": timedelta(hours=12),
    }
    claims.update(overrides)
    return SIGNER.sign(**claims).token


async def test_a_principal_with_the_permission_is_let_in_and_is_the_current_principal() -> None:
    seen.clear()
    answer = await call(make_app(settings()), "/approve", token(Role.REGISTRAR))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"subject": "account:ana"}
    assert seen[0] is not None and seen[0].roles == {Role.REGISTRAR}
    assert current_principal() is None  # not left behind in the caller's context


async def test_the_dependency_gives_the_principal_to_the_route() -> None:
    answer = await call(make_app(settings()), "/scan", token(Role.DOOR_STAFF))
    assert answer.json() == {"subject": "account:ana", "kind": "staff"}


async def test_a_sync_route_sees_the_principal_too() -> None:
    answer = await call(make_app(settings()), "/sync", token(Role.OBSERVER), method="GET")
    assert answer.json() == {"subject": "account:ana"}


async def test_a_missing_permission_is_403_naming_it_in_both_languages() -> None:
    answer = await call(make_app(settings()), "/approve", token(Role.DOOR_STAFF))
    assert answer.status_code == 403
    detail = answer.json()["detail"]
    assert detail["code"] == "permission_missing"
    assert detail["permission"] == "accreditation:decide"
    assert "accreditation:decide" in detail["message_es"]
    assert "accreditation:decide" in detail["message_en"]


async def test_a_scope_narrower_than_the_roles_is_enforced() -> None:
    machine = token(
        Role.REGISTRAR, kind="machine", subject="token:vendor", scope=[Permission.CHECKIN_SCAN]
    )
    app = make_app(settings())
    assert (await call(app, "/scan", machine)).status_code == 200
    assert (await call(app, "/approve", machine)).status_code == 403


@pytest.mark.parametrize(
    ("presented", "code"),
    [
        (None, "token_missing"),
        ("", "token_missing"),
        ("not-a-jwt", "token_malformed"),
        (
            token(
                Role.ADMIN, now=datetime.now(UTC) - timedelta(days=1), lifetime=timedelta(hours=1)
            ),
            "token_expired",
        ),
        (
            TokenSigner(generate_key_pair()[0], "k1")
            .sign(
                subject="account:eve", kind="staff", roles=[Role.ADMIN], lifetime=timedelta(hours=1)
            )
            .token,
            "token_signature",
        ),
        (
            TokenSigner(PRIVATE, "k2")
            .sign(
                subject="account:ana", kind="staff", roles=[Role.ADMIN], lifetime=timedelta(hours=1)
            )
            .token,
            "token_unknown_key",
        ),
        (
            TokenSigner(PRIVATE, "k1", issuer="elsewhere")
            .sign(
                subject="account:ana", kind="staff", roles=[Role.ADMIN], lifetime=timedelta(hours=1)
            )
            .token,
            "token_issuer",
        ),
    ],
)
async def test_a_token_that_proves_nothing_is_401_with_its_reason(
    presented: str | None, code: str
) -> None:
    answer = await call(make_app(settings()), "/approve", presented)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    detail = answer.json()["detail"]
    assert detail["code"] == code
    assert detail["message_es"] and detail["message_en"]


async def test_a_revoked_token_is_401_revoked() -> None:
    app = make_app(settings())
    signed = SIGNER.sign(
        subject="token:ci", kind="machine", roles=[Role.ADMIN], lifetime=timedelta(days=1)
    )
    assert (await call(app, "/approve", signed.token)).status_code == 200
    authenticator_for(app.state.runtime).revoked.add(signed.jti)
    answer = await call(app, "/approve", signed.token)
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "token_revoked"


async def test_a_static_token_is_an_admin_in_development_only() -> None:
    answer = await call(make_app(settings()), "/scan", STATIC)
    assert answer.json() == {"subject": "static:secretariat", "kind": "static"}
    production = settings().model_copy(update={"environment": "production"})
    answer = await call(make_app(production), "/scan", STATIC)
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "token_malformed"


async def test_a_test_may_give_the_app_its_own_authenticator() -> None:
    app = make_app(settings())
    app.state.authenticator = Authenticator.from_settings(
        ServiceSettings(database="test", api_tokens=[])
    )
    assert (await call(app, "/scan", STATIC)).status_code == 401


def test_the_authenticator_is_built_once_per_runtime() -> None:
    runtime = ServiceRuntime.create("registration", settings(), description="test")
    assert authenticator_for(runtime) is runtime.authenticator
    assert authenticator_for(runtime) is authenticator_for(runtime)


async def test_a_route_without_require_is_open_and_requires_nothing() -> None:
    app = make_app(settings())
    assert (await call(app, "/open", method="GET")).status_code == 200
    routes = {route.path: route for route in api_routes(app)}
    assert permission_of(routes["/open"]) is None
    assert permission_of(routes["/approve"]) is Permission.ACCREDITATION_DECIDE
    assert permission_of(routes["/scan"]) is Permission.CHECKIN_SCAN


def test_permission_of_finds_router_level_requirements_and_refuses_two() -> None:
    guarded = APIRouter(dependencies=[Depends(require(Permission.BUDGET_READ))])

    @guarded.get("/lines")
    async def lines() -> None: ...

    @guarded.post("/lines", dependencies=[Depends(require(Permission.BUDGET_WRITE))])
    async def add_line() -> None: ...

    app = FastAPI()
    app.include_router(guarded, prefix="/budget")
    get, post = sorted(api_routes(app), key=lambda route: sorted(route.methods or ()))
    assert get.path == post.path == "/budget/lines"
    assert permission_of(get) is Permission.BUDGET_READ
    assert permissions_of_route(post) == {Permission.BUDGET_READ, Permission.BUDGET_WRITE}
    with pytest.raises(ValueError, match="several permissions"):
        permission_of(post)

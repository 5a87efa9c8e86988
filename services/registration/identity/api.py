"""Identity's HTTP API: sign-in, staff accounts, API tokens.

`POST /auth/login` is the one route without a token: it gives one. Every refusal of a sign-in
(unknown user, wrong password, disabled account, missing or wrong TOTP code) is the same 401 with
the same words, after the same password-check work, so the answer tells nobody which usernames
exist; repeated failures for one username from one address are answered 429 for a while
(`throttle.py`; the address is X-Forwarded-For's only from REGISTRATION_TRUSTED_PROXIES).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.registration.identity import handlers, rules
from services.registration.identity.documents import AccountDocument, ApiTokenDocument
from services.registration.identity.handlers import Identity
from services.registration.identity.throttle import client_address
from shared.auth.dependencies import require
from shared.auth.permissions import Permission, Role
from shared.auth.principal import Principal


def identity_of(request: Request) -> Identity:
    """Identity's dependencies (`bootstrap.create_app` keeps them on registration's deps)."""
    identity: Identity = request.app.state.deps.identity
    return identity


IdentityDeps = Annotated[Identity, Depends(identity_of)]
AccountsManager = Annotated[Principal, Depends(require(Permission.ACCOUNTS_MANAGE))]
TokensManager = Annotated[Principal, Depends(require(Permission.TOKENS_MANAGE))]

SIGN_IN_FAILED = {
    "code": "sign_in_failed",
    "message_es": "Usuario, contraseña o código de verificación incorrectos.",
    "message_en": "Wrong username, password or verification code.",
}
TOO_MANY = {
    "code": "too_many_attempts",
    "message_es": "Demasiados intentos fallidos. Espere un minuto y vuelva a intentarlo.",
    "message_en": "Too many failed attempts. Wait a minute and try again.",
}
SIGNING_UNAVAILABLE = {
    "code": "signing_unavailable",
    "message_es": "El inicio de sesión no está configurado (falta FORO_AUTH_SIGNING_KEY).",
    "message_en": "Sign-in is not configured (FORO_AUTH_SIGNING_KEY is unset).",
}


def _described(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "No valid access token; for a sign-in: wrong username, password or code (one answer for all).",
        403: "The token lacks the permission, or the request grants more than the caller holds.",
        404: "No such account or token.",
        409: "The account exists.",
        422: "Bad input: `detail` names the field and says why, in Spanish and English.",
        429: "Too many failed sign-ins for this username from this address; `Retry-After` says when to try again.",
        503: "No signing key is configured.",
    }
    return {code: {"description": described[code]} for code in codes}


def _refusal(error: rules.IdentityRefused) -> HTTPException:
    code = (
        status.HTTP_403_FORBIDDEN
        if error.problem.code == "beyond_own_permissions"
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return HTTPException(code, detail=error.problem.model_dump())


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def _unavailable() -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=SIGNING_UNAVAILABLE)


# --- sign-in ------------------------------------------------------------------------------------

auth = APIRouter(prefix="/auth", tags=["identity"])


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, examples=["ana.door"])
    password: SecretStr = Field(min_length=1, max_length=rules.PASSWORD_MAX)
    totp: str | None = Field(
        None,
        max_length=10,
        description="The authenticator app's 6-digit code, when the account has TOTP.",
    )


class LoginView(BaseModel):
    access_token: str = Field(description="A staff JWT: send it as `Authorization: Bearer …`.")
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime = Field(description="12 hours after the sign-in.")
    roles: list[str]


@auth.post(
    "/login",
    response_model=LoginView,
    summary="Sign in (staff)",
    responses=_described(401, 429, 503),
    description="Username, password and, for an account with TOTP, the current code → a 12-hour "
    "staff token with the account's roles and scope claims.",
)
async def login(body: LoginBody, request: Request, identity: IdentityDeps) -> LoginView:
    username = body.username.strip().lower()
    peer = request.client.host if request.client else "unknown"
    proxies = getattr(request.app.state.runtime.settings, "trusted_proxies", [])
    address = client_address(peer, request.headers.get("x-forwarded-for"), proxies)
    if identity.throttle.refuses(username, address):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, detail=TOO_MANY, headers={"Retry-After": "60"}
        )
    try:
        outcome = await handlers.sign_in(
            username, body.password.get_secret_value(), body.totp, identity
        )
    except handlers.SigningUnavailable:
        raise _unavailable() from None
    if not isinstance(outcome, handlers.SignedIn):
        await identity.throttle.failed(username, address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=SIGN_IN_FAILED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return LoginView(access_token=outcome.token, expires_at=outcome.expires_at, roles=outcome.roles)


# --- API tokens ---------------------------------------------------------------------------------


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120, examples=["typeform webhook relay"])
    roles: list[Role] = Field(min_length=1, examples=[["registrar"]])
    scope: list[Permission] | None = Field(
        None,
        description="Narrow the roles' permissions to these (a scope never adds one).",
        examples=[["participants:write"]],
    )
    expires_in_days: int = Field(ge=1, le=rules.MAX_API_TOKEN_DAYS, examples=[90])


class TokenView(BaseModel):
    token_id: str
    name: str
    roles: list[str]
    scope: list[str] | None
    expires_at: datetime
    created_at: datetime
    created_by: str
    status: Literal["active", "revoked", "expired"]
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, document: ApiTokenDocument, now: datetime) -> TokenView:
        return cls(
            token_id=document.id,
            name=document.name,
            roles=document.roles,
            scope=document.scope,
            expires_at=document.expires_at,
            created_at=document.created_at,
            created_by=document.created_by,
            status=rules.token_status(document, now),
            revoked_at=document.revoked_at,
        )


class IssuedTokenView(TokenView):
    token: str = Field(description="The token, shown this once: it is not stored anywhere.")


@auth.post(
    "/tokens",
    response_model=IssuedTokenView,
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API token",
    responses=_described(401, 403, 422, 503),
    description="A machine token (`kind: machine`, `sub: token:<id>`) with the roles, narrowed to "
    "`scope` if given, expiring in `expires_in_days` (at most 366). The token is in this answer "
    "only; what is stored is its id, name, roles, scope and expiry.",
)
async def issue_token(
    body: TokenBody, identity: IdentityDeps, principal: TokensManager
) -> IssuedTokenView:
    request = handlers.TokenRequest(
        name=body.name,
        roles=[r.value for r in body.roles],
        scope=None if body.scope is None else [p.value for p in body.scope],
        expires_in_days=body.expires_in_days,
    )
    try:
        issued = await handlers.issue_token(
            request, identity, caller=principal.permissions, actor=principal.subject
        )
    except rules.IdentityRefused as error:
        raise _refusal(error) from None
    except handlers.SigningUnavailable:
        raise _unavailable() from None
    view = TokenView.of(issued.document, identity.now())
    return IssuedTokenView(**view.model_dump(), token=issued.token)


@auth.get(
    "/tokens",
    response_model=list[TokenView],
    summary="List API tokens (never their text)",
    responses=_described(401, 403),
)
async def list_tokens(identity: IdentityDeps, principal: TokensManager) -> list[TokenView]:
    now = identity.now()
    return [TokenView.of(d, now) for d in await handlers.list_tokens(identity)]


@auth.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenView,
    summary="Revoke an API token",
    responses=_described(401, 403, 404),
    description="Publishes `access.revoked`: every service refuses the token within seconds. "
    "Revoking a revoked token changes nothing.",
)
async def revoke_token(
    token_id: str, identity: IdentityDeps, principal: TokensManager
) -> TokenView:
    try:
        document = await handlers.revoke_token(token_id, identity, actor=principal.subject)
    except handlers.NotFound:
        raise _not_found("token") from None
    return TokenView.of(document, identity.now())


# --- accounts -----------------------------------------------------------------------------------

accounts = APIRouter(prefix="/accounts", tags=["identity"])


class AccountBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, examples=["ana.door"])
    display_name: str = Field("", max_length=120, examples=["Ana (puerta norte)"])
    roles: list[Role] = Field(min_length=1, examples=[["door_staff"]])
    sessions: list[str] = Field(
        default_factory=list, description="A rapporteur's session codes.", examples=[["S1"]]
    )
    delegation: str | None = Field(
        None,
        description="A focal point's delegation code (`SV`, `oim`); required with the role "
        "`focal_point`.",
        examples=["SV"],
    )
    exhibitor: str | None = Field(
        None, description="An exhibitor's id; required with the role `exhibitor`."
    )
    password: SecretStr = Field(description="The initial password: 12 to 256 characters.")
    totp: bool = Field(False, description="Set up TOTP: the answer holds its URI, this once.")


class AccountView(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    sessions: list[str]
    delegation: str | None
    exhibitor: str | None
    totp: bool
    disabled: bool
    created_at: datetime
    created_by: str
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, document: AccountDocument) -> AccountView:
        return cls(
            username=document.id,
            display_name=document.display_name,
            roles=document.roles,
            sessions=document.sessions,
            delegation=document.delegation,
            exhibitor=document.exhibitor,
            totp=bool(document.totp_secret),
            disabled=document.disabled,
            created_at=document.created_at,
            created_by=document.created_by,
            last_sign_in_at=document.last_sign_in_at,
        )


class CreatedAccountView(AccountView):
    totp_uri: str | None = Field(
        None, description="The `otpauth://` URI for the authenticator app: shown this once."
    )


class RolesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] = Field(min_length=1, examples=[["registrar", "door_staff"]])


@accounts.post(
    "",
    response_model=CreatedAccountView,
    status_code=status.HTTP_201_CREATED,
    summary="Create a staff account",
    responses=_described(401, 403, 409, 422),
)
async def create_account(
    body: AccountBody, identity: IdentityDeps, principal: AccountsManager
) -> CreatedAccountView:
    new = handlers.NewAccount(
        username=body.username,
        display_name=body.display_name,
        roles=[r.value for r in body.roles],
        password=body.password.get_secret_value(),
        sessions=tuple(body.sessions),
        delegation=body.delegation,
        exhibitor=body.exhibitor,
        totp=body.totp,
    )
    try:
        created = await handlers.create_account(
            new, identity, caller=principal.permissions, actor=principal.subject
        )
    except rules.IdentityRefused as error:
        raise _refusal(error) from None
    except handlers.AccountExists:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={
                "field": "username",
                "code": "account_exists",
                "message_es": "Ya existe una cuenta con ese nombre de usuario.",
                "message_en": "An account with that username exists.",
            },
        ) from None
    view = AccountView.of(created.account)
    return CreatedAccountView(**view.model_dump(), totp_uri=created.totp_uri)


@accounts.get(
    "",
    response_model=list[AccountView],
    summary="List staff accounts",
    responses=_described(401, 403),
)
async def list_accounts(identity: IdentityDeps, principal: AccountsManager) -> list[AccountView]:
    return [AccountView.of(d) for d in await handlers.list_accounts(identity)]


@accounts.put(
    "/{username}/roles",
    response_model=AccountView,
    summary="Set an account's roles",
    responses=_described(401, 403, 404, 422),
    description="The account's roles become these. Taking a role away revokes the account's "
    "live staff tokens (`access.revoked`): the person signs in again with the new roles.",
)
async def set_roles(
    username: str, body: RolesBody, identity: IdentityDeps, principal: AccountsManager
) -> AccountView:
    wanted = {r.value for r in body.roles}
    try:
        await handlers.change_roles(
            username,
            sorted(wanted),
            [r.value for r in Role if r.value not in wanted],
            identity,
            caller=principal.permissions,
            actor=principal.subject,
        )
        return AccountView.of(await handlers.account(username, identity))
    except rules.IdentityRefused as error:
        raise _refusal(error) from None
    except handlers.NotFound:
        raise _not_found("account") from None


@accounts.post(
    "/{username}/disable",
    response_model=AccountView,
    summary="Disable a staff account",
    responses=_described(401, 403, 404),
    description="No sign-in from now on, and the account's live staff tokens are revoked "
    "(`access.revoked`): every service refuses them within seconds. Disabling it again changes nothing.",
)
async def disable_account(
    username: str, identity: IdentityDeps, principal: AccountsManager
) -> AccountView:
    try:
        await handlers.disable_account(
            username, identity, caller=principal.permissions, actor=principal.subject
        )
        return AccountView.of(await handlers.account(username, identity))
    except rules.IdentityRefused as error:
        raise _refusal(error) from None
    except handlers.NotFound:
        raise _not_found("account") from None

"""OpenID Connect sign-in's two routes, both without a token (they give one):

- `GET /auth/oidc/{provider}/login` → 302 to the provider's authorization endpoint (code flow,
  PKCE S256, `state` and `nonce` in the signed /auth/oidc cookie);
- `GET /auth/oidc/{provider}/callback` → the code exchanged, the ID token checked, and the same
  answer as `POST /auth/login` for the account linked to the token's subject.

Every refusal names its reason in Spanish and English; none makes an account.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError

from services.registration.identity import handlers, oidc
from services.registration.identity.api import IdentityDeps, LoginView

log = structlog.get_logger("foro.registration.identity.oidc")

router = APIRouter(prefix=oidc.PREFIX, tags=["identity"])


def _problem(code: str, es: str, en: str) -> dict[str, str]:
    return {"code": code, "message_es": es, "message_en": en}


UNKNOWN_PROVIDER = _problem(
    "oidc_unknown_provider",
    "No hay ningún proveedor de identidad con ese nombre.",
    "There is no identity provider of that name.",
)
PROVIDER_UNAVAILABLE = _problem(
    "oidc_provider_unavailable",
    "El proveedor de identidad no responde como se espera. Inténtelo más tarde.",
    "The identity provider does not answer as expected. Try again later.",
)
STATE_MISMATCH = _problem(
    "oidc_state_mismatch",
    "Este inicio de sesión no empezó aquí o caducó (10 minutos). Vuelva a empezar.",
    "This sign-in did not start here, or it expired (10 minutes). Start again.",
)
PROVIDER_REFUSED = _problem(
    "oidc_refused",
    "El proveedor de identidad no confirmó el inicio de sesión.",
    "The identity provider did not confirm the sign-in.",
)
ID_TOKEN_INVALID = _problem(
    "oidc_id_token_invalid",
    "La identidad enviada por el proveedor no es válida.",
    "The identity the provider sent is not valid.",
)
NOT_LINKED = _problem(
    "oidc_not_linked",
    "Esta identidad no está vinculada a ninguna cuenta de foro. Pida a la secretaría que la vincule.",
    "This identity is linked to no foro account. Ask the secretariat to link it.",
)
ACCOUNT_DISABLED = _problem(
    "account_disabled",
    "La cuenta vinculada a esta identidad está desactivada.",
    "The account linked to this identity is disabled.",
)
SIGNING_UNAVAILABLE = _problem(
    "signing_unavailable",
    "El inicio de sesión no está configurado (falta FORO_AUTH_SIGNING_KEY).",
    "Sign-in is not configured (FORO_AUTH_SIGNING_KEY is unset).",
)

DESCRIBED: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "The sign-in failed: wrong state, refused by the provider, an invalid "
        "ID token, an identity linked to no account, or a disabled account (`detail.code`)."
    },
    404: {"description": "No identity provider of that name."},
    502: {"description": "The identity provider did not answer as expected."},
    503: {"description": "No signing key is configured."},
}


def _client(request: Request, provider: str) -> oidc.OidcClient:
    clients: oidc.OidcClients = request.app.state.oidc
    client = clients.get(provider)
    if client is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=UNKNOWN_PROVIDER)
    return client


def _unauthorized(detail: dict[str, str]) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _unavailable(provider: str, error: Exception) -> HTTPException:
    log.warning("oidc provider unavailable", provider=provider, error=type(error).__name__)
    return HTTPException(status.HTTP_502_BAD_GATEWAY, detail=PROVIDER_UNAVAILABLE)


@router.get(
    "/{provider}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary="Sign in with an identity provider (OpenID Connect)",
    responses={302: {"description": "To the provider's sign-in page."}, **DESCRIBED},
    description="Redirects to the provider named in REGISTRATION_OIDC_PROVIDERS; it sends the "
    "person back to `/auth/oidc/{provider}/callback`.",
)
async def oidc_login(provider: str, request: Request, identity: IdentityDeps) -> Response:
    client = _client(request, provider)
    if identity.signer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=SIGNING_UNAVAILABLE)
    try:
        await oidc.checked_metadata(client)
        redirect: Response = await client.app.authorize_redirect(request, client.redirect_uri)
    except (httpx.HTTPError, ValueError, KeyError, oidc.IssuerMismatch) as error:
        raise _unavailable(provider, error) from None
    return redirect


@router.get(
    "/{provider}/callback",
    response_model=LoginView,
    summary="Where the identity provider sends the person back",
    responses=DESCRIBED,
    description="Exchanges the code (with the PKCE verifier), checks the ID token (the "
    "provider's signature, issuer, audience, nonce) and answers as `POST /auth/login` for the "
    "account linked to the token's subject (`foro users link`). No account is ever made here.",
)
async def oidc_callback(provider: str, request: Request, identity: IdentityDeps) -> LoginView:
    client = _client(request, provider)
    if identity.signer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=SIGNING_UNAVAILABLE)
    issuer = client.provider.issuer
    try:
        await oidc.checked_metadata(client)
        token = await client.app.authorize_access_token(
            request, claims_options={"iss": {"essential": True, "values": [issuer]}}
        )
    except MismatchingStateError:
        log.info("oidc sign-in refused", provider=provider, reason="state_mismatch")
        raise _unauthorized(STATE_MISMATCH) from None
    except OAuthError as error:  # the provider's `error=…`, or its token endpoint's refusal
        log.info("oidc sign-in refused", provider=provider, reason="provider", error=error.error)
        raise _unauthorized(PROVIDER_REFUSED) from None
    except (JoseError, AuthlibBaseError) as error:
        log.info("oidc sign-in refused", provider=provider, reason=type(error).__name__)
        raise _unauthorized(ID_TOKEN_INVALID) from None
    except (httpx.HTTPError, ValueError, KeyError, oidc.IssuerMismatch) as error:
        raise _unavailable(provider, error) from None
    claims = token.get("userinfo")
    subject = claims.get("sub") if claims else None
    if not isinstance(subject, str) or not subject:
        log.info("oidc sign-in refused", provider=provider, reason="no_id_token")
        raise _unauthorized(ID_TOKEN_INVALID)
    try:
        outcome = await oidc.sign_in_linked(provider, subject, identity)
    except handlers.SigningUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=SIGNING_UNAVAILABLE
        ) from None
    if outcome == "not_linked":
        raise _unauthorized(NOT_LINKED)
    if outcome == "disabled":
        raise _unauthorized(ACCOUNT_DISABLED)
    assert isinstance(outcome, handlers.SignedIn)
    return LoginView(access_token=outcome.token, expires_at=outcome.expires_at, roles=outcome.roles)

"""OpenID Connect sign-in: an organisation's identity provider vouches for a person, foro decides
what they may do.

A person signs in at their provider (authorization code flow with PKCE, through authlib's
Starlette client); registration checks the ID token (signature by the provider's JWKS, issuer,
audience, nonce) and looks up the foro account linked to that provider's subject
(`oidc_links`, written by `foro users link NAME --provider P --subject SUB`). Nobody gets an
account by signing in: the secretariat makes the account, gives its roles and links it. The
answer is the same staff token as `POST /auth/login`, recorded on the account the same way, so
disabling the account or taking a role revokes it. The provider's authentication stands in for
the password and the account's TOTP (the provider runs its own second factor).

`state`, `nonce` and the PKCE verifier live between the redirect and the callback in a signed
cookie (Starlette's SessionMiddleware, itsdangerous), sent only to /auth/oidc and kept 10
minutes. Its key is derived from the signing key (HKDF), so every replica reads it and no secret
is added; a cookie made before a key rotation just fails its one sign-in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pymongo.asynchronous.collection import AsyncCollection
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.registration.identity import handlers, rules
from services.registration.identity.documents import AccountDocument
from services.registration.identity.handlers import Identity
from services.registration.settings import OidcProvider, RegistrationSettings

log = structlog.get_logger("foro.registration.identity.oidc")

PREFIX = "/auth/oidc"
COOKIE = "foro_oidc"
COOKIE_SECONDS = 600
"""From the redirect to the provider to the callback: a sign-in, not a session."""


# --- links: (provider, subject) → account -------------------------------------------------------


def links_of(identity: Identity) -> AsyncCollection[dict[str, Any]]:
    """`oidc_links` in registration's database: `_id` is `<provider>:<subject>` (a provider's
    name holds no colon), so a subject links to one account at most."""
    return identity.store.links.collection


def link_id(provider: str, subject: str) -> str:
    return f"{provider}:{subject}"


class LinkedElsewhere(Exception):
    """The subject is linked to another account."""


async def link(
    username: str, provider: str, subject: str, identity: Identity, *, actor: str
) -> bool:
    """Link the provider's `subject` to the account, announced (`account.linked`, in the same
    write); False when it was linked to it already."""
    subject = subject.strip()
    if not subject or len(subject) > 255:
        raise rules.refused(
            "subject",
            "invalid_subject",
            "El identificador (sub) debe tener de 1 a 255 caracteres.",
            "A subject (sub) is 1 to 255 characters.",
        )
    account = await handlers.account(username, identity)  # NotFound when there is none
    key = link_id(provider, subject)
    change = rules.new_link(account.id, provider, subject, identity.now(), actor)
    if await identity.store.links.create(key, None, change) is None:
        existing = await links_of(identity).find_one({"_id": key})
        if existing is not None and existing.get("account") == account.id:
            return False
        raise LinkedElsewhere(provider)
    # The subject is the provider's id of a person: logged, as an account id is.
    log.info("oidc subject linked", username=account.id, provider=provider, actor=actor)
    return True


# --- sign-in ------------------------------------------------------------------------------------

OidcRefusal = Literal["not_linked", "disabled"]


async def sign_in_linked(
    provider: str, subject: str, identity: Identity
) -> handlers.SignedIn | OidcRefusal:
    """A 12-hour staff token for the account linked to `subject`, or why not."""
    signer = identity.signer
    if signer is None:
        raise handlers.SigningUnavailable
    linked = await links_of(identity).find_one({"_id": link_id(provider, subject)})
    if linked is None:
        log.info("oidc sign-in refused", provider=provider, reason="not_linked")
        return "not_linked"
    now = identity.now()
    attempt = rules.Attempt(
        password_ok=True, totp_given=False, totp_step=None, token_id=uuid.uuid4().hex, now=now
    )

    def decide(current: dict[str, Any] | None) -> Any:
        document = AccountDocument.read(current)
        # The provider authenticated the person (its own second factor included): the same
        # rule as a password sign-in, with the account's TOTP left to it.
        vouched = None if document is None else document.updated({"totp_secret": None})
        return rules.sign_in(vouched, attempt)

    applied = await identity.store.accounts.apply(str(linked["account"]), None, decide)
    outcome: rules.SignIn = applied.result
    if not outcome.accepted or outcome.account is None:
        reason: OidcRefusal = "disabled" if outcome.refusal == "disabled" else "not_linked"
        log.info("oidc sign-in refused", provider=provider, reason=reason)
        return reason
    signed_in = handlers.staff_token(signer, outcome.account, attempt.token_id, now)
    log.info(
        "signed in", username=outcome.account.id, token_id=signed_in.token_id, provider=provider
    )
    return signed_in


# --- the providers: authlib's clients -----------------------------------------------------------


@dataclass(frozen=True)
class OidcClient:
    provider: OidcProvider
    app: StarletteOAuth2App
    redirect_uri: str


class OidcClients:
    """One authlib client per configured provider (discovery and JWKS fetched when first needed,
    then cached by authlib)."""

    def __init__(self, settings: RegistrationSettings) -> None:
        self.oauth = OAuth()
        self.clients: dict[str, OidcClient] = {}
        for provider in settings.oidc_providers:
            app = self.oauth.register(
                provider.name,
                client_id=provider.client_id,
                client_secret=provider.client_secret.get_secret_value(),
                server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
                client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256"},
            )
            redirect = f"{settings.public_url}{PREFIX}/{provider.name}/callback"
            self.clients[provider.name] = OidcClient(provider, app, redirect)

    def get(self, name: str) -> OidcClient | None:
        return self.clients.get(name)


class IssuerMismatch(Exception):
    """The discovery document names another issuer than the one configured."""


async def checked_metadata(client: OidcClient) -> dict[str, Any]:
    """The provider's discovery document, whose `issuer` must be the configured one (OpenID
    Connect Discovery 1.0, §4.3)."""
    metadata: dict[str, Any] = await client.app.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != client.provider.issuer:
        raise IssuerMismatch(client.provider.name)
    return metadata


# --- the state cookie ---------------------------------------------------------------------------


def cookie_key(settings: RegistrationSettings) -> str:
    """The state cookie's signing key: HKDF-SHA256 of the access tokens' signing key, or a
    random one when there is none (then OIDC sign-in answers 503 anyway)."""
    secret = settings.auth_signing_key.get_secret_value() if settings.auth_signing_key else ""
    if not secret:
        return uuid.uuid4().hex + uuid.uuid4().hex
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"foro registration oidc state"
    ).derive(secret.encode())
    return derived.hex()


class OidcStateCookie:
    """Starlette's SessionMiddleware for /auth/oidc only: other paths never read or write it."""

    def __init__(self, app: ASGIApp, *, secret_key: str, https_only: bool) -> None:
        self.app = app
        self.sessions = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=COOKIE,
            max_age=COOKIE_SECONDS,
            path=PREFIX,
            same_site="lax",  # the provider's redirect back is a top-level GET: lax sends it
            https_only=https_only,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX + "/"):
            await self.sessions(scope, receive, send)
        else:
            await self.app(scope, receive, send)

"""THE dependency every service's routes use: `require(permission)`.

    @router.post("/…", dependencies=[Depends(require(Permission.ACCREDITATION_DECIDE))])
    async def approve(…, principal: Principal = Depends(require(Permission.…))): …

It reads `Authorization: Bearer <token>`:
- a valid access token (a JWT registration signed, `shared.auth.tokens`) → its `Principal`;
- a party's own link (a participant's personal code or agenda feed, an exhibitor's or a focal
  point's access: a link-signed JWT) → a `Principal` scoped to that party, which the route
  checks against what it acts on (`principal.require_participant(id)`, `own_exhibitor()`, …);
- with `FORO_ENVIRONMENT=development` only, one of the serving service's static secretariat
  tokens (`settings.api_tokens`: the local stack and the tests) → an admin `Principal` of kind
  `static`;
- anything else → 401 naming the reason (missing, malformed, expired, signature, unknown_key,
  issuer, audience, revoked), in Spanish and English, with `WWW-Authenticate: Bearer`;
- a principal without the permission → 403 naming the permission.

While the request is served, the principal is `current_principal()` (a contextvar, like the
request's correlation id), and every event built meanwhile carries it as its `actor`
(`shared.contracts.envelope.acting_as`): code deep inside a use case knows the actor without
passing it along.

The verifier is built once per service runtime from its settings (`ServiceRuntime.authenticator`),
with the runtime's revoked token ids (`shared.auth.revocations`), never per request.
`permission_of(route)` tells which permission a route of `api_routes(app)` requires: the matrix
test reads it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from typing import Protocol, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import SecretStr

from shared.auth.errors import InvalidToken, missing_permission, unauthorized
from shared.auth.permissions import Permission, Role, permissions_of
from shared.auth.principal import Principal
from shared.auth.revocations import RevocationSet
from shared.auth.tokens import TokenVerifier
from shared.contracts.envelope import acting_as
from shared.settings import ServiceSettings

log = structlog.get_logger("foro.auth")

PERMISSION_ATTRIBUTE = "foro_permission"
"""The attribute of `require(permission)`'s dependency that names the permission."""

STATIC_SUBJECT = "static:secretariat"

_PRINCIPAL: ContextVar[Principal | None] = ContextVar("foro_principal", default=None)


def current_principal() -> Principal | None:
    """Who the request being served acts for, once `require` admitted them; None elsewhere
    (a consumer, a periodic pass, a route without `require`)."""
    return _PRINCIPAL.get()


class Authenticator:
    """Who a bearer token names, for one service: its public keys, its revoked token ids and —
    in development only — its static secretariat tokens."""

    def __init__(
        self,
        verifier: TokenVerifier,
        static_tokens: Sequence[SecretStr] = (),
    ) -> None:
        self.verifier = verifier
        self.static_tokens = tuple(t.get_secret_value() for t in static_tokens)

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, revoked: RevocationSet | None = None
    ) -> Authenticator:
        development = settings.environment == "development"
        return cls(
            TokenVerifier(
                settings.auth_public_key_pems(),
                link_secrets=settings.link_secrets(),
                revoked=revoked if revoked is not None else RevocationSet(),
            ),
            settings.api_tokens if development else (),
        )

    @property
    def revoked(self) -> RevocationSet:
        return cast(RevocationSet, self.verifier.revoked)

    def authenticate(self, token: str) -> Principal:
        """The principal `token` names; `InvalidToken(reason)` otherwise."""
        if self._is_static(token):
            return static_principal(token)
        return self.verifier.verify(token)

    def _is_static(self, presented: str) -> bool:
        matched = False
        for expected in self.static_tokens:  # every one compared, in constant time
            matched |= hmac.compare_digest(presented.encode(), expected.encode())
        return matched


def static_principal(token: str) -> Principal:
    """The admin a development secretariat token stands for. Its token id is a digest prefix,
    so an audit entry tells two static tokens apart without holding either."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:12]
    return Principal(
        subject=STATIC_SUBJECT,
        kind="static",
        roles=frozenset({Role.ADMIN}),
        permissions=permissions_of([Role.ADMIN]),
        token_id=f"static:{digest}",
    )


class _HasAuthenticator(Protocol):
    authenticator: Authenticator


def authenticator_for(runtime: _HasAuthenticator) -> Authenticator:
    """The runtime's authenticator (`ServiceRuntime.authenticator`, built from its settings):
    one verifier and one revocation set per service process (and per runtime in tests)."""
    return runtime.authenticator


def authenticator_of(request: Request) -> Authenticator:
    """`app.state.authenticator` when a test set one, else the serving runtime's."""
    state = request.app.state
    held = getattr(state, "authenticator", None)
    if held is None:
        return authenticator_for(state.runtime)
    return cast(Authenticator, held)


def bearer_token(request: Request, query: str | None = None) -> str:
    """The token of `Authorization: Bearer <token>` — or, on a route that takes its token in
    the link (`query`: a calendar app subscribing to a feed sends no header), of `?<query>=`;
    401 `missing` without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if query is not None and (in_link := request.query_params.get(query, "").strip()):
        return in_link
    raise unauthorized("missing")


def authenticate(request: Request, query: str | None = None) -> Principal:
    """The request's principal, whatever it may do; 401 when its token proves nothing."""
    token = bearer_token(request, query)
    try:
        return authenticator_of(request).authenticate(token)
    except InvalidToken as refused:
        # No path: it may hold ids; the line carries the request's correlation id already.
        log.info("access token refused", reason=refused.reason)
        raise unauthorized(refused.reason) from None


def require(
    permission: Permission, *, query: str | None = None
) -> Callable[[Request], AsyncIterator[Principal]]:
    """A dependency admitting a principal that holds `permission` (see the module's doc);
    `query` names the query parameter a link carries its token in, where it may."""
    permission = Permission(permission)

    async def admitted(request: Request) -> AsyncIterator[Principal]:
        principal = authenticate(request, query)
        if not principal.can(permission):
            log.info(
                "permission refused",
                permission=permission.value,
                subject=principal.subject,
                token_id=principal.token_id,
            )
            raise missing_permission(permission.value)
        token = _PRINCIPAL.set(principal)
        try:
            with (
                acting_as(principal.actor()),
                structlog.contextvars.bound_contextvars(
                    actor=principal.subject, token_id=principal.token_id
                ),
            ):
                yield principal
        finally:
            try:
                _PRINCIPAL.reset(token)
            except ValueError:  # closed in another context than it was entered: nothing leaks
                pass

    admitted.__name__ = admitted.__qualname__ = f"require_{permission.name.lower()}"
    setattr(admitted, PERMISSION_ATTRIBUTE, permission)
    return admitted


def _permissions_in(dependant: Dependant) -> list[Permission]:
    found: list[Permission] = []
    required = getattr(dependant.call, PERMISSION_ATTRIBUTE, None)
    if isinstance(required, Permission):
        found.append(required)
    for dependency in dependant.dependencies:
        found.extend(_permissions_in(dependency))
    return found


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every HTTP route of `app` as it is served: its full path, methods and dependencies with
    those of the routers it was included through (FastAPI keeps included routers whole, so
    `app.routes` alone does not list their routes)."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]


def permissions_of_route(route: APIRoute | RouteContext) -> frozenset[Permission]:
    """Every permission `route` requires (its routers' and its own)."""
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return frozenset()
    return frozenset(_permissions_in(dependant))


def permission_of(route: APIRoute | RouteContext) -> Permission | None:
    """The permission `route` (one of `api_routes(app)`) requires, None when it requires none;
    ValueError when it requires several (a route should say the one thing it does)."""
    required = permissions_of_route(route)
    if len(required) > 1:
        raise ValueError(
            f"{route.path} requires several permissions: " + ", ".join(sorted(required))
        )
    return next(iter(required), None)

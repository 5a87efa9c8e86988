"""Identity's use cases, shared by the HTTP API (`api.py`) and the `foro users` / `foro tokens`
commands: one implementation, two doors.

`caller` is what the person acting may do (their token's permissions; the command line, run by
an operator with the database's credentials, may do everything) and `actor` who they are, for
the record (`account:ana`, `token:<jti>`, `cli:root`). Logs carry usernames and token ids, never
a password, a TOTP secret or a token's text.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from services.registration.identity import credentials, rules
from services.registration.identity.documents import AccountDocument, ApiTokenDocument
from services.registration.identity.repository import IdentityRepository
from services.registration.identity.throttle import SignInThrottle
from shared.auth.permissions import Permission
from shared.auth.tokens import TokenSigner
from shared.contracts.envelope import Event
from shared.contracts.registration import AccessRevoked

log = structlog.get_logger("foro.registration.identity")

EVERYTHING = frozenset(Permission)
"""What the command line may do: its operator holds the database's credentials anyway."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Identity:
    """What identity's use cases depend on; registration's bootstrap (or a `foro` command)
    builds it. `signer` is None when no signing key is configured: accounts can be managed, but
    nobody can sign in and no token can be issued (`SigningUnavailable`)."""

    store: IdentityRepository
    signer: TokenSigner | None
    clock: Callable[[], datetime] = utc_now
    # Failed sign-ins per username and address (the API's; per replica).
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    def now(self) -> datetime:
        # Whole seconds: what a token's `iat` and `exp` hold, so a stored expiry is the token's.
        return self.clock().replace(microsecond=0)


class SigningUnavailable(Exception):
    """No signing key (FORO_AUTH_SIGNING_KEY): no sign-in, no token."""


class AccountExists(Exception):
    pass


class NotFound(Exception):
    pass


def _revoked(events: Sequence[Event]) -> list[str]:
    """The token ids among a change's events (its `access.revoked`), for the log."""
    return [event.token_id for event in events if isinstance(event, AccessRevoked)]


def _signer(identity: Identity) -> TokenSigner:
    if identity.signer is None:
        raise SigningUnavailable
    return identity.signer


# --- accounts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    roles: list[str]
    password: str
    sessions: tuple[str, ...] = ()
    delegation: str | None = None
    exhibitor: str | None = None
    totp: bool = False


@dataclass(frozen=True)
class CreatedAccount:
    account: AccountDocument
    totp_uri: str | None  # shown once, never stored in this form nor logged


async def create_account(
    new: NewAccount, identity: Identity, *, caller: frozenset[Permission], actor: str
) -> CreatedAccount:
    username = rules.username_of(new.username)
    roles = rules.roles_of(new.roles)
    rules.within_grant(caller, roles)
    claims = rules.ScopeClaims(new.sessions, new.delegation, new.exhibitor).checked(roles)
    rules.check_password(new.password, username)
    secret = credentials.new_totp_secret() if new.totp else None
    now = identity.now()
    change = rules.new_account(
        username,
        new.display_name,
        roles,
        claims,
        await credentials.hash_password_async(new.password),
        secret,
        now,
        actor,
    )
    if await identity.store.accounts.create(username, None, change) is None:
        raise AccountExists(username)
    log.info("account created", username=username, roles=change.set["roles"], actor=actor)
    account = AccountDocument.model_validate({"_id": username, **change.set})
    uri = credentials.provisioning_uri(secret, username) if secret else None
    return CreatedAccount(account, uri)


async def account(username: str, identity: Identity) -> AccountDocument:
    found = AccountDocument.read(await identity.store.account(username.strip().lower()))
    if found is None:
        raise NotFound(username)
    return found


async def list_accounts(identity: Identity) -> list[AccountDocument]:
    return [AccountDocument.model_validate(d) for d in await identity.store.list_accounts()]


async def change_roles(
    username: str,
    add: list[str],
    remove: list[str],
    identity: Identity,
    *,
    caller: frozenset[Permission],
    actor: str,
) -> list[str]:
    """The account's roles after the change. A manager changes only accounts whose roles, and
    roles they give, are within their own permissions."""
    current = await account(username, identity)
    added = rules.roles_of(add, field="add") if add else []
    removed = rules.roles_of(remove, field="remove") if remove else []
    rules.within_grant(caller, [*rules.roles_of(current.roles), *added])
    now = identity.now()
    applied = await identity.store.accounts.apply(
        current.id,
        None,
        lambda stored: rules.change_roles(AccountDocument.read(stored), added, removed, now),
    )
    if applied.result is None:
        raise NotFound(username)
    if applied.change is not None:
        log.info(
            "account roles changed",
            username=current.id,
            roles=applied.result,
            revoked=_revoked(applied.events),
            actor=actor,
        )
    roles: list[str] = applied.result
    return roles


async def disable_account(
    username: str, identity: Identity, *, caller: frozenset[Permission], actor: str
) -> bool:
    """Disable the account and revoke its live staff tokens; False when it was disabled already."""
    current = await account(username, identity)
    rules.within_grant(caller, rules.roles_of(current.roles))
    now = identity.now()
    applied = await identity.store.accounts.apply(
        current.id, None, lambda stored: rules.disable(AccountDocument.read(stored), now)
    )
    if applied.result is None:
        raise NotFound(username)
    if applied.result:
        log.info(
            "account disabled",
            username=current.id,
            revoked=_revoked(applied.events),
            actor=actor,
        )
    return bool(applied.result)


# --- sign-in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    token: str
    token_id: str
    expires_at: datetime
    roles: list[str]


async def sign_in(
    username: str, password: str, totp: str | None, identity: Identity
) -> SignedIn | rules.SignInRefusal:
    """A 12-hour staff token, or why not (for the log only: the caller says the same to every
    refusal). An unknown username costs a password check all the same."""
    signer = _signer(identity)
    key = username.strip().lower()
    stored = await identity.store.accounts.get(key) if rules.USERNAME.fullmatch(key) else None
    document = AccountDocument.read(stored)
    stored_hash = document.password_hash if document is not None else None
    password_ok = await credentials.check_password_async(stored_hash, password)
    now = identity.now()
    rehashed = None
    if password_ok and stored_hash is not None and credentials.needs_rehash(stored_hash):
        rehashed = await credentials.hash_password_async(password)
    step = (
        credentials.totp_step(document.totp_secret, totp, now)
        if password_ok and document is not None and document.totp_secret and totp
        else None
    )
    attempt = rules.Attempt(
        password_ok=password_ok,
        totp_given=bool(totp),
        totp_step=step,
        token_id=uuid.uuid4().hex,
        now=now,
        rehashed=rehashed,
    )
    applied = await identity.store.accounts.apply(
        key,
        None,
        lambda current: rules.sign_in(AccountDocument.read(current), attempt),
        current=stored,
    )
    outcome: rules.SignIn = applied.result
    if not outcome.accepted or outcome.account is None:
        refusal = outcome.refusal or "credentials"
        log.info("sign-in refused", username=key if document else None, reason=refusal)
        return refusal
    signed_in = staff_token(signer, outcome.account, attempt.token_id, now)
    log.info(
        "signed in",
        username=outcome.account.id,
        token_id=signed_in.token_id,
        rehashed=rehashed is not None,
    )
    return signed_in


def staff_token(
    signer: TokenSigner, account: AccountDocument, token_id: str, now: datetime
) -> SignedIn:
    """The 12-h staff token of an accepted sign-in (password or identity provider), under the id
    the sign-in recorded on the account (so disabling it revokes the token)."""
    signed = signer.sign(
        subject=f"account:{account.id}",
        kind="staff",
        roles=account.roles,
        lifetime=rules.STAFF_TOKEN_LIFETIME,
        sessions=account.sessions,
        delegation=account.delegation,
        exhibitor=account.exhibitor,
        token_id=token_id,
        now=now,
    )
    return SignedIn(signed.token, signed.jti, signed.expires_at, list(account.roles))


# --- API tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRequest:
    name: str
    roles: list[str]
    expires_in_days: int
    scope: list[str] | None = None


@dataclass(frozen=True)
class IssuedApiToken:
    token: str  # shown once: never stored, never logged
    document: ApiTokenDocument


async def issue_token(
    request: TokenRequest, identity: Identity, *, caller: frozenset[Permission], actor: str
) -> IssuedApiToken:
    signer = _signer(identity)
    roles = rules.roles_of(request.roles)
    scope = rules.scope_of(request.scope, roles)
    rules.within_grant(caller, roles, scope)
    now = identity.now()
    expires_at = rules.token_expiry(request.expires_in_days, now)
    token_id = uuid.uuid4().hex
    change = rules.new_api_token(
        request.name, roles, scope, expires_at, now, actor, token_id=token_id
    )
    # Stored before it is signed: a token that exists is always one that can be revoked.
    if await identity.store.tokens.create(token_id, None, change) is None:
        raise RuntimeError(f"api token {token_id} exists")  # a uuid4 collision: never in practice
    signed = signer.sign(
        subject=f"token:{token_id}",
        kind="machine",
        roles=roles,
        scope=scope,
        lifetime=expires_at - now,
        token_id=token_id,
        now=now,
    )
    log.info(
        "api token issued",
        token_id=token_id,
        roles=change.set["roles"],
        scope=change.set["scope"],
        expires_at=expires_at.isoformat(),
        actor=actor,
    )
    return IssuedApiToken(
        signed.token, ApiTokenDocument.model_validate({"_id": token_id, **change.set})
    )


async def list_tokens(identity: Identity) -> list[ApiTokenDocument]:
    return [ApiTokenDocument.model_validate(d) for d in await identity.store.list_tokens()]


async def revoke_token(token_id: str, identity: Identity, *, actor: str) -> ApiTokenDocument:
    """Revoke a machine token: `access.revoked` goes out through registration's outbox and every
    service refuses the token within seconds. Revoking it again changes nothing."""
    now = identity.now()
    applied = await identity.store.tokens.apply(
        token_id.strip(),
        None,
        lambda stored: rules.revoke(ApiTokenDocument.read(stored), now, actor),
    )
    document: ApiTokenDocument | None = applied.result
    if document is None:
        raise NotFound(token_id)
    if applied.change is not None:
        log.info("api token revoked", token_id=document.id, actor=actor)
    return document

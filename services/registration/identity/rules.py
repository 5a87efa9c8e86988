"""Identity's rules, free of I/O: what an account, a role change, a sign-in and an API token may
be, and what each does to its document.

A manager never hands out more than they hold: the roles given to an account, and the
permissions of a token issued, must be within the caller's own permissions (`within_grant`), so
`accounts:manage` alone cannot make an admin.

Each change announces itself in the same write (the outbox): `account.created`,
`account.roles_changed`, `account.disabled`, `account.linked`, `access.token_issued`,
`access.revoked`; who made it is the envelope's actor (the request's principal, or the `foro`
command's operator).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.registration.identity.documents import (
    AccountDocument,
    ApiTokenDocument,
    IssuedToken,
)
from shared.auth.permissions import Permission, Role, permissions_of
from shared.contracts.envelope import FieldProblem
from shared.contracts.registration import (
    AccessRevoked,
    AccessTokenIssued,
    AccountCreated,
    AccountDisabled,
    AccountLinked,
    AccountRolesChanged,
)
from shared.decisions import Change, Decision

PRODUCER = "registration-identity"

STAFF_TOKEN_LIFETIME = timedelta(hours=12)
"""A staff sign-in lasts a forum day at the door."""
MAX_API_TOKEN_DAYS = 366
LIVE_STAFF_TOKENS_KEPT = 50
"""Unexpired sign-ins an account keeps track of; a 51st revokes the oldest."""

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
SESSION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SCOPE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")
DELEGATION_CODE = re.compile(r"^(?:[A-Z]{2}|[a-z][a-z0-9-]{1,39})$")
"""A delegation's code (`shared.contracts.registration.DelegationCode`): what a focal point's
token is scoped to, compared with the code in a delegation route's path."""
PASSWORD_MIN = 12
PASSWORD_MAX = 256


class IdentityRefused(Exception):
    """Bad input or a refused command; `problem` names the field and says why, in both languages."""

    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(f"{problem.field}: {problem.message_en}")
        self.problem = problem


def refused(field: str, code: str, es: str, en: str) -> IdentityRefused:
    return IdentityRefused(FieldProblem(field=field, code=code, message_es=es, message_en=en))


# --- what an account and a token may be ---------------------------------------------------------


def username_of(raw: str) -> str:
    """The account id: the username lower-cased, letters, digits, `.`, `_`, `-`."""
    username = raw.strip().lower()
    if not USERNAME.fullmatch(username):
        raise refused(
            "username",
            "invalid_username",
            "El usuario debe tener de 2 a 64 caracteres: una letra y luego letras, cifras, «.», «_» o «-».",
            "A username is 2 to 64 characters: a letter, then letters, digits, '.', '_' or '-'.",
        )
    return username


def roles_of(names: Iterable[str], *, field: str = "roles") -> list[Role]:
    """Known role names, in `Role`'s order, without repeats; at least one."""
    wanted = {name.strip().lower() for name in names}
    if unknown := sorted(wanted - {role.value for role in Role}):
        known = ", ".join(role.value for role in Role)
        raise refused(
            field,
            "unknown_role",
            f"Rol desconocido: {', '.join(unknown)}. Roles: {known}.",
            f"Unknown role: {', '.join(unknown)}. Roles: {known}.",
        )
    if not wanted:
        raise refused(field, "no_role", "Indique al menos un rol.", "Give at least one role.")
    return [role for role in Role if role.value in wanted]


def scope_of(names: Iterable[str] | None, roles: Iterable[Role]) -> list[Permission] | None:
    """A token's scope: known permissions its roles grant (a scope only narrows); None: all."""
    if names is None:
        return None
    wanted = {name.strip().lower() for name in names}
    if unknown := sorted(wanted - {p.value for p in Permission}):
        raise refused(
            "scope",
            "unknown_permission",
            f"Permiso desconocido: {', '.join(unknown)}.",
            f"Unknown permission: {', '.join(unknown)}.",
        )
    granted = permissions_of(roles)
    if beyond := sorted(wanted - {p.value for p in granted}):
        raise refused(
            "scope",
            "scope_beyond_roles",
            f"Los roles no conceden: {', '.join(beyond)}.",
            f"The roles do not grant: {', '.join(beyond)}.",
        )
    if not wanted:
        raise refused(
            "scope",
            "empty_scope",
            "Un alcance vacío no permite nada.",
            "An empty scope allows nothing.",
        )
    return [p for p in Permission if p.value in wanted]


def within_grant(
    caller: frozenset[Permission], roles: Iterable[Role], scope: Iterable[Permission] | None = None
) -> None:
    """Refuse to hand out a permission the caller does not hold themselves."""
    if beyond := sorted(permissions_of(roles, scope) - caller):
        raise refused(
            "roles",
            "beyond_own_permissions",
            f"No puede conceder permisos que usted no tiene: {', '.join(beyond)}.",
            f"You cannot grant permissions you do not hold: {', '.join(beyond)}.",
        )


def check_password(password: str, username: str) -> None:
    """Length is what matters (NIST SP 800-63B): 12 to 256 characters, and at least 12 of
    them besides the username (a password that is the username plus a little is refused)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise refused(
            "password",
            "password_length",
            f"La contraseña debe tener de {PASSWORD_MIN} a {PASSWORD_MAX} caracteres.",
            f"A password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long.",
        )
    if len(password.lower().replace(username, "")) < PASSWORD_MIN:
        raise refused(
            "password",
            "password_has_username",
            f"Sin contar el nombre de usuario, la contraseña debe tener al menos {PASSWORD_MIN} caracteres.",
            f"Leaving out the username, a password still needs {PASSWORD_MIN} characters.",
        )


@dataclass(frozen=True)
class ScopeClaims:
    """What narrows an account's roles to its own things: a rapporteur's sessions, a focal
    point's delegation, an exhibitor."""

    sessions: tuple[str, ...] = ()
    delegation: str | None = None
    exhibitor: str | None = None

    def checked(self, roles: Iterable[Role]) -> ScopeClaims:
        for code in self.sessions:
            if not SESSION_CODE.fullmatch(code):
                raise refused(
                    "sessions",
                    "invalid_session_code",
                    f"Código de sesión no válido: {code!r}.",
                    f"Not a session code: {code!r}.",
                )
        if self.sessions and Role.RAPPORTEUR not in set(roles):
            raise refused(
                "sessions",
                "sessions_without_rapporteur",
                "Solo una cuenta con el rol rapporteur tiene sesiones asignadas.",
                "Only an account with the rapporteur role has sessions assigned.",
            )
        for field, value in (("delegation", self.delegation), ("exhibitor", self.exhibitor)):
            if value is not None and not SCOPE_ID.fullmatch(value):
                raise refused(
                    field, f"invalid_{field}", f"{field}: valor no válido.", f"{field}: not an id."
                )
        if self.delegation is not None and not DELEGATION_CODE.fullmatch(self.delegation):
            raise refused(
                "delegation",
                "invalid_delegation",
                "Indique el código de la delegación: el de un país (SV) o el de una "
                f"organización (oim), no {self.delegation!r}.",
                "Give the delegation's code: a country's (SV) or an organisation's (oim), "
                f"not {self.delegation!r}.",
            )
        require_party_claims(roles, self.delegation, self.exhibitor, field=None)
        return ScopeClaims(tuple(dict.fromkeys(self.sessions)), self.delegation, self.exhibitor)


def require_party_claims(
    roles: Iterable[Role], delegation: str | None, exhibitor: str | None, *, field: str | None
) -> None:
    """A focal point's account names its delegation, an exhibitor's its exhibitor: without it,
    the role would mean nothing (or everything). `field` names the input refused (the roles
    given to an existing account); None: the missing claim itself."""
    held = set(roles)
    if Role.FOCAL_POINT in held and delegation is None:
        raise refused(
            field or "delegation",
            "focal_point_without_delegation",
            "Una cuenta con el rol focal_point necesita su delegación (delegation: el código de "
            "la delegación, p. ej. SV).",
            "An account with the focal_point role needs its delegation (delegation: the "
            "delegation's code, e.g. SV).",
        )
    if Role.EXHIBITOR in held and exhibitor is None:
        raise refused(
            field or "exhibitor",
            "exhibitor_without_exhibitor",
            "Una cuenta con el rol exhibitor necesita su expositor (exhibitor: el id del "
            "expositor).",
            "An account with the exhibitor role needs its exhibitor (exhibitor: the exhibitor's "
            "id).",
        )


# --- accounts -----------------------------------------------------------------------------------


def new_account(
    username: str,
    display_name: str,
    roles: list[Role],
    claims: ScopeClaims,
    password_hash: str,
    totp_secret: str | None,
    now: datetime,
    created_by: str,
) -> Change:
    display = " ".join(display_name.split()) or username
    if len(display) > 120:
        raise refused(
            "display_name", "too_long", "Nombre de hasta 120 caracteres.", "At most 120 characters."
        )
    return Change(
        set={
            "display_name": display,
            "roles": [role.value for role in roles],
            "sessions": list(claims.sessions),
            "delegation": claims.delegation,
            "exhibitor": claims.exhibitor,
            "password_hash": password_hash,
            "totp_secret": totp_secret,
            "totp_last_step": None,
            "disabled": False,
            "created_at": now,
            "created_by": created_by,
            "updated_at": now,
            "staff_tokens": [],
        },
        events=[
            AccountCreated(
                producer=PRODUCER,
                username=username,
                roles=[role.value for role in roles],
                sessions=list(claims.sessions),
                delegation=claims.delegation,
                exhibitor=claims.exhibitor,
            )
        ],
    )


def live_tokens(document: AccountDocument, now: datetime) -> list[IssuedToken]:
    return [token for token in document.staff_tokens if token.expires_at > now]


def _revocations(tokens: Iterable[IssuedToken]) -> list[AccessRevoked]:
    return [
        AccessRevoked(producer=PRODUCER, token_id=token.token_id, expires_at=token.expires_at)
        for token in tokens
    ]


def change_roles(
    document: AccountDocument | None,
    add: list[Role],
    remove: list[Role],
    now: datetime,
) -> Decision[list[str] | None]:
    """The account's roles after adding and removing (None: no such account), announced
    (`account.roles_changed`). Taking a role away revokes the account's live staff tokens: they
    carry the old roles for up to 12 h."""
    if document is None:
        return Decision(None)
    roles = [r.value for r in Role if (r.value in document.roles or r in add) and r not in remove]
    if not roles:
        raise refused(
            "remove",
            "no_role_left",
            "La cuenta se quedaría sin roles.",
            "The account would have no role left.",
        )
    if set(roles) == set(document.roles):
        return Decision(roles)
    if document.sessions and Role.RAPPORTEUR.value not in roles:
        raise refused(
            "remove",
            "sessions_without_rapporteur",
            "La cuenta tiene sesiones asignadas: no puede perder el rol rapporteur.",
            "The account has sessions assigned: it cannot lose the rapporteur role.",
        )
    require_party_claims(add, document.delegation, document.exhibitor, field="add")
    taken = set(document.roles) - set(roles)
    revoked = live_tokens(document, now) if taken else []
    return Decision(
        roles,
        Change(
            set={
                "roles": roles,
                "updated_at": now,
                **({"staff_tokens": []} if taken else {}),
            },
            events=[
                AccountRolesChanged(
                    producer=PRODUCER,
                    username=document.id,
                    previous_roles=list(document.roles),
                    roles=roles,
                ),
                *_revocations(revoked),
            ],
        ),
    )


def disable(document: AccountDocument | None, now: datetime) -> Decision[bool | None]:
    """Disable the account (no sign-in from now on, `account.disabled`) and revoke its live
    staff tokens.
    Result: None for no such account, False when it was disabled already."""
    if document is None:
        return Decision(None)
    if document.disabled:
        return Decision(False)
    return Decision(
        True,
        Change(
            set={"disabled": True, "disabled_at": now, "updated_at": now, "staff_tokens": []},
            events=[
                AccountDisabled(producer=PRODUCER, username=document.id),
                *_revocations(live_tokens(document, now)),
            ],
        ),
    )


def new_link(username: str, provider: str, subject: str, now: datetime, linked_by: str) -> Change:
    """An identity provider's `subject` linked to the account, announced (`account.linked`:
    the account and the provider; not the subject, the provider's id of a person)."""
    return Change(
        set={
            "provider": provider,
            "subject": subject,
            "account": username,
            "linked_at": now,
            "linked_by": linked_by,
        },
        events=[AccountLinked(producer=PRODUCER, username=username, provider=provider)],
    )


# --- sign-in ------------------------------------------------------------------------------------

SignInRefusal = Literal["credentials", "disabled", "totp_missing", "totp_wrong", "totp_reused"]


@dataclass(frozen=True)
class Attempt:
    """What the use case checked before the rule decides: the password (in a worker thread),
    the TOTP code's step, and the token it will sign if the rule accepts."""

    password_ok: bool
    totp_given: bool
    totp_step: int | None
    token_id: str
    now: datetime
    rehashed: str | None = None  # a new hash of the password, when the stored one is outdated


@dataclass(frozen=True)
class SignIn:
    account: AccountDocument | None
    refusal: SignInRefusal | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None and self.account is not None


def sign_in(document: AccountDocument | None, attempt: Attempt) -> Decision[SignIn]:
    """Accept or refuse a sign-in. Accepted: the TOTP step is used up, the token recorded (so
    disabling the account revokes it), the password's hash replaced if outdated — one write."""
    if document is None or not attempt.password_ok:
        return Decision(SignIn(document, "credentials"))
    if document.disabled:
        return Decision(SignIn(document, "disabled"))
    fields: dict[str, object] = {}
    if document.totp_secret:
        if not attempt.totp_given:
            return Decision(SignIn(document, "totp_missing"))
        if attempt.totp_step is None:
            return Decision(SignIn(document, "totp_wrong"))
        if document.totp_last_step is not None and attempt.totp_step <= document.totp_last_step:
            return Decision(SignIn(document, "totp_reused"))
        fields["totp_last_step"] = attempt.totp_step
    live = live_tokens(document, attempt.now)
    issued = IssuedToken(token_id=attempt.token_id, expires_at=attempt.now + STAFF_TOKEN_LIFETIME)
    kept = live[-(LIVE_STAFF_TOKENS_KEPT - 1) :] if LIVE_STAFF_TOKENS_KEPT > 1 else []
    dropped = live[: len(live) - len(kept)]
    fields |= {
        "staff_tokens": [t.model_dump() for t in [*kept, issued]],
        "last_sign_in_at": attempt.now,
    }
    if attempt.rehashed is not None:
        fields["password_hash"] = attempt.rehashed
    return Decision(SignIn(document), Change(set=fields, events=_revocations(dropped)))


# --- API tokens ---------------------------------------------------------------------------------


def token_expiry(days: int, now: datetime) -> datetime:
    if not 1 <= days <= MAX_API_TOKEN_DAYS:
        raise refused(
            "expires_in_days",
            "expiry_out_of_range",
            f"La caducidad va de 1 a {MAX_API_TOKEN_DAYS} días.",
            f"An expiry is 1 to {MAX_API_TOKEN_DAYS} days.",
        )
    return now + timedelta(days=days)


def new_api_token(
    name: str,
    roles: list[Role],
    scope: list[Permission] | None,
    expires_at: datetime,
    now: datetime,
    created_by: str,
    *,
    token_id: str,
) -> Change:
    """The token's document, announced (`access.token_issued`: its id, roles, scope and expiry;
    not its name, which is free text)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise refused(
            "name",
            "invalid_name",
            "Nombre de 1 a 120 caracteres.",
            "A name is 1 to 120 characters.",
        )
    return Change(
        set={
            "name": name,
            "roles": [role.value for role in roles],
            "scope": None if scope is None else [p.value for p in scope],
            "expires_at": expires_at,
            "created_at": now,
            "created_by": created_by,
            "revoked": False,
        },
        events=[
            AccessTokenIssued(
                producer=PRODUCER,
                token_id=token_id,
                roles=[role.value for role in roles],
                scope=None if scope is None else [p.value for p in scope],
                expires_at=expires_at,
            )
        ],
    )


def revoke(
    document: ApiTokenDocument | None, now: datetime, by: str
) -> Decision[ApiTokenDocument | None]:
    """Revoke the token (`access.revoked`, so every service refuses it within seconds); a
    token revoked already stays as it is, and nothing is published again."""
    if document is None or document.revoked:
        return Decision(document)
    change = Change(
        set={"revoked": True, "revoked_at": now, "revoked_by": by},
        events=_revocations([IssuedToken(token_id=document.id, expires_at=document.expires_at)]),
    )
    return Decision(document.updated(change.set), change)


def token_status(
    document: ApiTokenDocument, now: datetime
) -> Literal["active", "revoked", "expired"]:
    if document.revoked:
        return "revoked"
    return "expired" if document.expires_at <= now else "active"

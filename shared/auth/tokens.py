"""Signed access tokens: JWT, EdDSA (Ed25519), PyJWT.

Registration signs (`TokenSigner`, with `FORO_AUTH_SIGNING_KEY` and its id
`FORO_AUTH_SIGNING_KEY_ID`); every service verifies locally (`TokenVerifier`, with
`FORO_AUTH_PUBLIC_KEYS`: `{kid: base64 PEM}`, several during a rotation), never calling a central
service per request. The header's `kid` picks the public key.

Claims: `iss`/`aud` "foro", `sub` (`account:<id>`, `token:<id>`), `kind` (staff | machine),
`roles`, `scope` (optional: a machine token may hold fewer permissions than its roles give),
`jti` (the token id revocation names), `iat`, `exp`, and the scope claims `sessions`,
`delegation`, `exhibitor`.

Key material in settings is the base64 of the PEM (one line, env-file friendly); `decode_pem`
takes a PEM as it is too.

A party's own links — a participant's personal code and agenda feed, an exhibitor's access, a
focal point's access to their delegation — are signed differently (`LinkSigner`): HS256 with the
platform's link secrets (`FORO_PARTICIPANT_TOKEN_SECRET`, a list: the first signs, every one
verifies, so a rotation keeps old links working until it finishes), because the services that
hand them out (notification's e-mails, scheduling's feed links, expo's approvals, registration)
must mint them and must not hold the staff signing key. A link secret signs party tokens only:
`TokenVerifier` refuses a link-signed token of any other kind. Party tokens expire
(`PARTY_LIFETIME` by default) and are revoked one by one, by token id or — since a link sent in
an e-mail is not stored — every token of their subject issued before a time
(`shared.auth.revocations`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.auth.errors import InvalidToken
from shared.auth.permissions import PARTICIPANT_PERMISSIONS, Permission, Role, permissions_of
from shared.auth.principal import PARTY_KINDS, Principal

ISSUER = "foro"
AUDIENCE = "foro"
ALGORITHM = "EdDSA"
LINK_ALGORITHM = "HS256"

STAFF_LIFETIME = timedelta(hours=12)
"""A staff sign-in lasts a forum day at the door."""
MAX_LIFETIME = timedelta(days=366)
"""The longest any token may live (machine tokens must say when they expire)."""
CLOCK_LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated between the signer and a verifier."""
PARTY_LIFETIME = timedelta(days=180)
"""How long a party's link lasts by default: from the first e-mail to the Memoria."""

TokenKind = Literal["staff", "machine", "participant", "exhibitor", "focal_point"]
PartyKind = Literal["participant", "exhibitor", "focal_point"]


class Revocations(Protocol):
    """What a verifier asks of the revoked tokens (`shared.auth.revocations.RevocationSet`)."""

    def revokes(self, principal: Principal) -> bool: ...


class _NoneRevoked:
    def revokes(self, principal: Principal) -> bool:
        return False


class SignedToken(NamedTuple):
    token: str
    jti: str
    expires_at: datetime


def decode_pem(value: str | bytes) -> bytes:
    """A PEM from a setting: base64 of the PEM (one line), or the PEM itself."""
    raw = value.encode() if isinstance(value, str) else value
    if raw.lstrip().startswith(b"-----BEGIN"):
        return raw
    try:
        pem = base64.b64decode(raw.strip(), validate=True)
    except binascii.Error as error:
        raise ValueError("is neither a PEM nor the base64 of one") from error
    if not pem.lstrip().startswith(b"-----BEGIN"):
        raise ValueError("is base64, but not of a PEM")
    return pem


def encode_pem(pem: bytes) -> str:
    """How a setting holds a PEM: its base64, one line."""
    return base64.b64encode(pem).decode()


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (private PEM, PKCS#8, unencrypted; public PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def new_key_id(now: datetime | None = None) -> str:
    """A key id that says when the key was made: `k20261202-1a2b3c`."""
    return f"k{(now or datetime.now(UTC)):%Y%m%d}-{uuid.uuid4().hex[:6]}"


def public_pem_of(private_pem: bytes) -> bytes:
    """The public key (PEM) of a private Ed25519 key (PEM)."""
    return (
        _private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("is not an Ed25519 private key")
    return key


def _public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("is not an Ed25519 public key")
    return key


def parse_public_keys(value: str | Mapping[str, str]) -> dict[str, bytes]:
    """`FORO_AUTH_PUBLIC_KEYS` (a JSON object kid → base64 PEM) as kid → PEM; ValueError naming
    the key id that is wrong."""
    mapping = json.loads(value) if isinstance(value, str) else value
    if not isinstance(mapping, Mapping):
        raise ValueError('must be a JSON object {"<key id>": "<base64 PEM>"}')
    keys: dict[str, bytes] = {}
    for kid, encoded in mapping.items():
        if not isinstance(kid, str) or not kid or not isinstance(encoded, str):
            raise ValueError(f"key {kid!r}: must map a key id to a base64 PEM string")
        try:
            pem = decode_pem(encoded)
            _public_key(pem)
        except ValueError as error:
            raise ValueError(f"key {kid!r}: {error}") from error
        keys[kid] = pem
    return keys


def _claims(
    *,
    issuer: str,
    subject: str,
    kind: TokenKind,
    roles: Iterable[Role | str],
    lifetime: timedelta,
    scope: Iterable[Permission | str] | None,
    sessions: Iterable[str],
    delegation: str | None,
    exhibitor: str | None,
    participant: str | None,
    token_id: str | None,
    now: datetime | None,
) -> tuple[dict[str, Any], str, datetime]:
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise ValueError(
            f"lifetime: must be more than 0 and at most {MAX_LIFETIME.days} days, not {lifetime}"
        )
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    expires_at = issued + lifetime
    jti = token_id or uuid.uuid4().hex
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": subject,
        "kind": kind,
        "roles": sorted(Role(r).value for r in roles),
        "jti": jti,
        "iat": issued,
        "exp": expires_at,
    }
    if scope is not None:
        claims["scope"] = sorted(Permission(p).value for p in scope)
    if sessions := sorted(sessions):
        claims["sessions"] = sessions
    for name, value in (
        ("delegation", delegation),
        ("exhibitor", exhibitor),
        ("participant", participant),
    ):
        if value is not None:
            claims[name] = value
    return claims, jti, expires_at


class TokenSigner:
    """Signs access tokens (registration only)."""

    def __init__(self, private_key_pem: bytes, kid: str, issuer: str = ISSUER) -> None:
        if not kid:
            raise ValueError("a signing key needs a key id")
        self._key = _private_key(private_key_pem)
        self.kid = kid
        self.issuer = issuer

    def sign(
        self,
        *,
        subject: str,
        kind: TokenKind,
        roles: Iterable[Role | str],
        lifetime: timedelta,
        scope: Iterable[Permission | str] | None = None,
        sessions: Iterable[str] = (),
        delegation: str | None = None,
        exhibitor: str | None = None,
        token_id: str | None = None,
        now: datetime | None = None,
    ) -> SignedToken:
        """A token for `subject`, valid for `lifetime` (at most `MAX_LIFETIME`)."""
        claims, jti, expires_at = _claims(
            issuer=self.issuer,
            subject=subject,
            kind=kind,
            roles=roles,
            lifetime=lifetime,
            scope=scope,
            sessions=sessions,
            delegation=delegation,
            exhibitor=exhibitor,
            participant=None,
            token_id=token_id,
            now=now,
        )
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return SignedToken(token, jti, expires_at)


def _link_key(secret: str) -> bytes:
    """The HMAC key a link secret stands for: 32 bytes whatever the secret's length, and
    distinct from any other use of the same secret."""
    return hashlib.sha256(b"foro-link-token:" + secret.encode()).digest()


def link_key_id(secret: str) -> str:
    """The key id of a link secret: a digest prefix, so a verifier picks the secret at once
    and a log line can name it without holding it."""
    return "l" + hashlib.sha256(secret.encode()).hexdigest()[:10]


def party_subject(kind: PartyKind, party_id: str) -> str:
    """`participant:<id>`, `exhibitor:<id>`, `focal_point:<delegation code>`."""
    return f"{kind}:{party_id}"


class LinkSigner:
    """Signs a party's own tokens with the first link secret (see the module's doc)."""

    def __init__(self, secrets: Sequence[str], lifetime: timedelta = PARTY_LIFETIME) -> None:
        if not secrets or not secrets[0]:
            raise ValueError("a link signer needs a secret (FORO_PARTICIPANT_TOKEN_SECRET)")
        self._key = _link_key(secrets[0])
        self.kid = link_key_id(secrets[0])
        self.lifetime = lifetime

    def _sign(
        self,
        kind: PartyKind,
        party_id: str,
        *,
        roles: Iterable[Role] = (),
        scope: Iterable[Permission | str] | None = None,
        lifetime: timedelta | None = None,
        now: datetime | None = None,
        **claims: str,
    ) -> SignedToken:
        built, jti, expires_at = _claims(
            issuer=ISSUER,
            subject=party_subject(kind, party_id),
            kind=kind,
            roles=roles,
            lifetime=lifetime or self.lifetime,
            scope=scope,
            sessions=(),
            delegation=claims.get("delegation"),
            exhibitor=claims.get("exhibitor"),
            participant=claims.get("participant"),
            token_id=None,
            now=now,
        )
        token = jwt.encode(built, self._key, algorithm=LINK_ALGORITHM, headers={"kid": self.kid})
        return SignedToken(token, jti, expires_at)

    def participant(
        self,
        participant_id: str,
        *,
        scope: Iterable[Permission | str] | None = None,
        lifetime: timedelta | None = None,
        now: datetime | None = None,
    ) -> SignedToken:
        """A participant's personal code (`scope` narrows it: an agenda feed's link reads the
        agenda only)."""
        return self._sign(
            "participant",
            participant_id,
            scope=scope,
            lifetime=lifetime,
            now=now,
            participant=participant_id,
        )

    def exhibitor(
        self, exhibitor_id: str, *, lifetime: timedelta | None = None, now: datetime | None = None
    ) -> SignedToken:
        """An exhibitor's own access (role `exhibitor`, scoped to it)."""
        return self._sign(
            "exhibitor",
            exhibitor_id,
            roles=[Role.EXHIBITOR],
            lifetime=lifetime,
            now=now,
            exhibitor=exhibitor_id,
        )

    def focal_point(
        self, delegation: str, *, lifetime: timedelta | None = None, now: datetime | None = None
    ) -> SignedToken:
        """A delegation's focal point's access (role `focal_point`, scoped to it)."""
        return self._sign(
            "focal_point",
            delegation,
            roles=[Role.FOCAL_POINT],
            lifetime=lifetime,
            now=now,
            delegation=delegation,
        )


_EXCEPTIONS: tuple[tuple[type[Exception], Any], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidAudienceError, "audience"),
)


class TokenVerifier:
    """Verifies access tokens against the public keys of every key id in use; `revoked` holds
    the revoked token ids (`RevocationSet`)."""

    def __init__(
        self,
        public_keys: Mapping[str, bytes],
        *,
        link_secrets: Sequence[str] = (),
        revoked: Revocations | None = None,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        leeway: timedelta = CLOCK_LEEWAY,
    ) -> None:
        self._keys = {kid: _public_key(pem) for kid, pem in public_keys.items()}
        self._link_keys = {
            link_key_id(secret): _link_key(secret) for secret in link_secrets if secret
        }
        self.revoked: Revocations = revoked if revoked is not None else _NoneRevoked()
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys) | frozenset(self._link_keys)

    def verify(self, token: str) -> Principal:
        """The principal `token` names; `InvalidToken(reason)` when it proves nothing."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise InvalidToken("malformed", str(error)) from None
        algorithm = header.get("alg")
        if algorithm not in (ALGORITHM, LINK_ALGORITHM):
            raise InvalidToken("malformed", f"algorithm {algorithm!r}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("malformed", "no key id")
        key: Ed25519PublicKey | bytes | None = (
            self._keys.get(kid) if algorithm == ALGORITHM else self._link_keys.get(kid)
        )
        if key is None:
            raise InvalidToken("unknown_key", kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "sub", "jti", "iat", "exp"]},
            )
        except jwt.PyJWTError as error:
            for kind, reason in _EXCEPTIONS:
                if isinstance(error, kind):
                    raise InvalidToken(reason, str(error)) from None
            raise InvalidToken("malformed", str(error)) from None
        principal = principal_from_claims(claims)
        if algorithm == LINK_ALGORITHM and principal.kind not in PARTY_KINDS:
            # A link secret signs a party's own token, never a staff or machine one.
            raise InvalidToken("malformed", f"kind {principal.kind!r} signed with a link secret")
        if self.revoked.revokes(principal):
            raise InvalidToken("revoked", principal.token_id)
        return principal


def _strings(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidToken("malformed", f"{name}: must be a list of strings")
    return value


def _optional_string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidToken("malformed", f"{name}: must be a string")
    return value


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The principal of verified claims. Role and permission names this code does not know (a
    newer registration's) grant nothing, rather than refusing the whole token."""
    kind = claims.get("kind")
    if kind not in ("staff", "machine", *PARTY_KINDS):
        raise InvalidToken("malformed", f"kind: {kind!r}")
    roles = frozenset(Role(r) for r in _strings(claims, "roles") if r in Role)
    scope = (
        None
        if "scope" not in claims
        else [Permission(p) for p in _strings(claims, "scope") if p in Permission]
    )
    participant = _optional_string(claims, "participant")
    if kind == "participant":
        if participant is None or roles:
            raise InvalidToken("malformed", "a participant's token names them and holds no role")
        granted = PARTICIPANT_PERMISSIONS if scope is None else PARTICIPANT_PERMISSIONS & set(scope)
    else:
        granted = permissions_of(roles, scope)
    delegation = _optional_string(claims, "delegation")
    exhibitor = _optional_string(claims, "exhibitor")
    # A party's role without the party it is scoped to would reach every delegation or
    # exhibitor: it grants nothing.
    unscoped = {Role.FOCAL_POINT} if delegation is None else set()
    unscoped |= {Role.EXHIBITOR} if exhibitor is None else set()
    if kind != "participant" and roles & unscoped:
        roles = roles - unscoped
        granted = permissions_of(roles, scope)
    if (kind == "exhibitor" and exhibitor is None) or (
        kind == "focal_point" and delegation is None
    ):
        raise InvalidToken("malformed", f"a {kind}'s token names its party")
    issued = claims.get("iat")
    return Principal(
        subject=claims["sub"],
        kind=kind,
        roles=roles,
        permissions=frozenset(granted),
        token_id=claims["jti"],
        sessions=frozenset(_strings(claims, "sessions")),
        delegation=delegation,
        exhibitor=exhibitor,
        participant=participant,
        issued_at=datetime.fromtimestamp(issued, UTC) if isinstance(issued, int | float) else None,
    )

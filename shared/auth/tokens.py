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
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Container, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.auth.errors import InvalidToken
from shared.auth.permissions import Permission, Role, permissions_of
from shared.auth.principal import Principal

ISSUER = "foro"
AUDIENCE = "foro"
ALGORITHM = "EdDSA"

STAFF_LIFETIME = timedelta(hours=12)
"""A staff sign-in lasts a forum day at the door."""
MAX_LIFETIME = timedelta(days=366)
"""The longest any token may live (machine tokens must say when they expire)."""
CLOCK_LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated between the signer and a verifier."""

TokenKind = Literal["staff", "machine"]


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
        if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
            raise ValueError(
                f"lifetime: must be more than 0 and at most {MAX_LIFETIME.days} days, not {lifetime}"
            )
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        expires_at = issued + lifetime
        jti = token_id or uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": self.issuer,
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
        if delegation is not None:
            claims["delegation"] = delegation
        if exhibitor is not None:
            claims["exhibitor"] = exhibitor
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return SignedToken(token, jti, expires_at)


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
        revoked: Container[str] = frozenset(),
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        leeway: timedelta = CLOCK_LEEWAY,
    ) -> None:
        self._keys = {kid: _public_key(pem) for kid, pem in public_keys.items()}
        self.revoked = revoked
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str) -> Principal:
        """The principal `token` names; `InvalidToken(reason)` when it proves nothing."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise InvalidToken("malformed", str(error)) from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("malformed", f"algorithm {header.get('alg')!r}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("malformed", "no key id")
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown_key", kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
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
        if principal.token_id in self.revoked:
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
    if kind not in ("staff", "machine"):
        raise InvalidToken("malformed", f"kind: {kind!r}")
    roles = frozenset(Role(r) for r in _strings(claims, "roles") if r in Role)
    scope = (
        None
        if "scope" not in claims
        else [Permission(p) for p in _strings(claims, "scope") if p in Permission]
    )
    return Principal(
        subject=claims["sub"],
        kind=kind,
        roles=roles,
        permissions=permissions_of(roles, scope),
        token_id=claims["jti"],
        sessions=frozenset(_strings(claims, "sessions")),
        delegation=_optional_string(claims, "delegation"),
        exhibitor=_optional_string(claims, "exhibitor"),
    )

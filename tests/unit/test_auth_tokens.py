"""Access tokens: signed by one key, verified by its public key; expiry, wrong keys, rotation,
revocation, and what the roles and scope of a token grant."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from shared.auth.errors import InvalidToken
from shared.auth.permissions import PARTICIPANT_PERMISSIONS, ROLES, Permission, Role, permissions_of
from shared.auth.revocations import RevocationSet
from shared.auth.tokens import (
    MAX_LIFETIME,
    LinkSigner,
    TokenSigner,
    TokenVerifier,
    decode_pem,
    encode_pem,
    generate_key_pair,
    parse_public_keys,
    principal_from_claims,
    public_pem_of,
)

PRIVATE, PUBLIC = generate_key_pair()
OTHER_PRIVATE, OTHER_PUBLIC = generate_key_pair()
_LOADED = load_pem_private_key(PRIVATE, None)
assert isinstance(_LOADED, Ed25519PrivateKey)
SIGNING_KEY = _LOADED


def staff_token(signer: TokenSigner | None = None, **overrides: object) -> str:
    claims: dict[str, object] = {
        "subject": "account:ana",
        "kind": "staff",
        "roles": [Role.REGISTRAR],
        "lifetime": timedelta(hours=12),
    }
    claims.update(overrides)
    return (signer or TokenSigner(PRIVATE, "k1")).sign(**claims).token  # type: ignore[arg-type]


def reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(token)
    return refused.value.reason


def test_a_signed_token_verifies_into_its_principal() -> None:
    signed = TokenSigner(PRIVATE, "k1").sign(
        subject="account:ana",
        kind="staff",
        roles=["rapporteur"],
        sessions=["plenary_1", "panel_2"],
        lifetime=timedelta(hours=12),
    )
    principal = TokenVerifier({"k1": PUBLIC}).verify(signed.token)
    assert principal.subject == "account:ana"
    assert principal.kind == "staff"
    assert principal.roles == {Role.RAPPORTEUR}
    assert principal.permissions == ROLES[Role.RAPPORTEUR]
    assert principal.token_id == signed.jti
    assert principal.sessions == {"plenary_1", "panel_2"}
    assert jwt.get_unverified_header(signed.token) == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    claims = jwt.decode(signed.token, options={"verify_signature": False})
    assert claims["iss"] == claims["aud"] == "foro"
    assert claims["exp"] == int(signed.expires_at.timestamp())


def test_a_machine_tokens_scope_narrows_its_roles() -> None:
    signer = TokenSigner(PRIVATE, "k1")
    token = signer.sign(
        subject="token:formvendor",
        kind="machine",
        roles=[Role.REGISTRAR],
        scope=[Permission.PARTICIPANTS_WRITE, Permission.BUDGET_WRITE],  # budget: not granted
        lifetime=timedelta(days=90),
    ).token
    principal = TokenVerifier({"k1": PUBLIC}).verify(token)
    assert principal.kind == "machine"
    assert principal.permissions == {Permission.PARTICIPANTS_WRITE}
    assert principal.can(Permission.PARTICIPANTS_WRITE)
    assert not principal.can(Permission.ACCREDITATION_DECIDE)


def test_an_expired_token_is_refused() -> None:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    token = staff_token(now=long_ago, lifetime=timedelta(hours=12))
    assert reason(TokenVerifier({"k1": PUBLIC}), token) == "expired"


def test_a_token_expiring_within_the_clock_leeway_still_verifies() -> None:
    token = staff_token(
        now=datetime.now(UTC) - timedelta(hours=1, seconds=-10), lifetime=timedelta(hours=1)
    )
    TokenVerifier({"k1": PUBLIC}).verify(token)


def test_a_token_signed_by_another_key_under_a_known_key_id_is_refused() -> None:
    forged = staff_token(TokenSigner(OTHER_PRIVATE, "k1"))
    assert reason(TokenVerifier({"k1": PUBLIC}), forged) == "signature"


def test_a_tampered_token_is_refused() -> None:
    header, payload, signature = staff_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert (
        reason(TokenVerifier({"k1": PUBLIC}), f"{header}.{forged_payload}.{signature}")
        == "signature"
    )


def test_an_unknown_key_id_is_refused() -> None:
    assert (
        reason(TokenVerifier({"k1": PUBLIC}), staff_token(TokenSigner(OTHER_PRIVATE, "k9")))
        == "unknown_key"
    )


def test_rotation_two_public_keys_accept_tokens_of_both_signing_keys() -> None:
    old, new = TokenSigner(PRIVATE, "k1"), TokenSigner(OTHER_PRIVATE, "k2")
    during = TokenVerifier({"k1": PUBLIC, "k2": OTHER_PUBLIC})
    assert during.verify(staff_token(old)).subject == "account:ana"
    assert during.verify(staff_token(new)).subject == "account:ana"
    after = TokenVerifier({"k2": OTHER_PUBLIC})  # the old public key dropped
    assert reason(after, staff_token(old)) == "unknown_key"
    after.verify(staff_token(new))


def test_a_revoked_token_is_refused() -> None:
    signed = TokenSigner(PRIVATE, "k1").sign(
        subject="token:ci", kind="machine", roles=["observer"], lifetime=timedelta(days=30)
    )
    revoked = RevocationSet({signed.jti})
    assert reason(TokenVerifier({"k1": PUBLIC}, revoked=revoked), signed.token) == "revoked"
    TokenVerifier({"k1": PUBLIC}, revoked=RevocationSet({"another"})).verify(signed.token)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"iss": "someone-else"}, "issuer"),
        ({"aud": "another-platform"}, "audience"),
        ({"kind": "wizard"}, "malformed"),
        ({"roles": "admin"}, "malformed"),
        ({"jti": None}, "malformed"),
    ],
)
def test_claims_that_are_not_foros_are_refused(claims: dict[str, object], expected: str) -> None:
    now = datetime.now(UTC)
    payload = {
        "iss": "foro",
        "aud": "foro",
        "sub": "account:ana",
        "kind": "staff",
        "roles": ["admin"],
        "jti": "abc",
        "iat": now,
        "exp": now + timedelta(hours=1),
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    token = jwt.encode(payload, SIGNING_KEY, algorithm="EdDSA", headers={"kid": "k1"})
    assert reason(TokenVerifier({"k1": PUBLIC}), token) == expected


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer xyz"])
def test_garbage_is_malformed(token: str) -> None:
    assert reason(TokenVerifier({"k1": PUBLIC}), token) == "malformed"


def test_another_algorithm_is_refused_even_with_a_known_key_id() -> None:
    token = jwt.encode(
        {"sub": "x"}, "secret-secret-secret-secret-32by", algorithm="HS256", headers={"kid": "k1"}
    )
    # HS256 looks its key up among the link secrets only: a staff key id is none of them.
    assert reason(TokenVerifier({"k1": PUBLIC}), token) == "unknown_key"
    token = jwt.encode({"sub": "x"}, "k" * 64, algorithm="HS512", headers={"kid": "k1"})
    assert reason(TokenVerifier({"k1": PUBLIC}), token) == "malformed"


def test_lifetime_is_bounded() -> None:
    signer = TokenSigner(PRIVATE, "k1")
    for lifetime in (timedelta(0), MAX_LIFETIME + timedelta(days=1)):
        with pytest.raises(ValueError, match="lifetime"):
            staff_token(signer, lifetime=lifetime)
    staff_token(signer, lifetime=MAX_LIFETIME)


def test_unknown_role_names_grant_nothing() -> None:
    principal = principal_from_claims(
        {"sub": "account:x", "jti": "j", "kind": "staff", "roles": ["observer", "future_role"]}
    )
    assert principal.roles == {Role.OBSERVER}


def test_key_settings_round_trip_and_name_the_bad_key() -> None:
    assert decode_pem(encode_pem(PUBLIC)) == PUBLIC
    assert decode_pem(PUBLIC.decode()) == PUBLIC
    assert public_pem_of(PRIVATE) == PUBLIC
    keys = parse_public_keys(json.dumps({"k1": encode_pem(PUBLIC), "k2": encode_pem(OTHER_PUBLIC)}))
    assert keys == {"k1": PUBLIC, "k2": OTHER_PUBLIC}
    with pytest.raises(ValueError, match="'k2'"):
        parse_public_keys({"k1": encode_pem(PUBLIC), "k2": "not base64!"})
    with pytest.raises(ValueError, match=r"'k3'.*public key"):
        parse_public_keys({"k3": encode_pem(PRIVATE)})


def test_roles_grant_what_the_design_says() -> None:
    assert ROLES[Role.ADMIN] == set(Permission)
    assert ROLES[Role.DOOR_STAFF] == {Permission.CHECKIN_SCAN}
    assert Permission.AUDIT_READ not in ROLES[Role.OBSERVER]
    assert all(p.action == "read" for p in ROLES[Role.OBSERVER])
    assert ROLES[Role.PROGRAMME_EDITOR] == {
        Permission.PROGRAMME_READ,
        Permission.PROGRAMME_EDIT,
        Permission.PROGRAMME_PUBLISH,
        Permission.SIGNUPS_WRITE,
        Permission.AGENDA_READ,
    }
    assert ROLES[Role.FOCAL_POINT] == {Permission.DELEGATIONS_READ, Permission.DELEGATION_MEMBERS}
    assert set(ROLES) == set(Role)
    assert permissions_of([Role.FINANCE, Role.COMMUNICATIONS]) == {
        Permission.BUDGET_READ,
        Permission.BUDGET_WRITE,
        Permission.MESSAGES_READ,
        Permission.MESSAGES_SEND,
    }
    assert permissions_of([Role.FINANCE], scope=[Permission.BUDGET_READ]) == {
        Permission.BUDGET_READ
    }
    assert permissions_of([]) == frozenset()


# --- a party's own links (LinkSigner) --------------------------------------------------------


def test_a_participants_link_acts_for_them_only_and_expires() -> None:
    signer = LinkSigner(["link-secret-a"])
    signed = signer.participant("p-1")
    principal = TokenVerifier({}, link_secrets=["link-secret-a"]).verify(signed.token)
    assert principal.kind == "participant" and principal.participant == "p-1"
    assert principal.subject == "participant:p-1" and principal.roles == frozenset()
    assert principal.permissions == PARTICIPANT_PERMISSIONS
    assert signed.expires_at - datetime.now(UTC) > timedelta(days=179)
    old = signer.participant("p-1", now=datetime.now(UTC) - timedelta(days=181))
    assert reason(TokenVerifier({}, link_secrets=["link-secret-a"]), old.token) == "expired"


def test_a_scoped_link_holds_its_scope_only() -> None:
    feed = LinkSigner(["s"]).participant("p-1", scope=[Permission.AGENDA_READ])
    principal = TokenVerifier({}, link_secrets=["s"]).verify(feed.token)
    assert principal.permissions == {Permission.AGENDA_READ}


def test_exhibitor_and_focal_point_links_hold_their_role_and_party() -> None:
    verifier = TokenVerifier({}, link_secrets=["s"])
    exhibitor = verifier.verify(LinkSigner(["s"]).exhibitor("ex-1").token)
    assert exhibitor.own_exhibitor() == "ex-1" and exhibitor.roles == {Role.EXHIBITOR}
    focal = verifier.verify(LinkSigner(["s"]).focal_point("MX").token)
    assert focal.delegation == "MX" and focal.permissions == ROLES[Role.FOCAL_POINT]


def test_link_secret_rotation_verifies_old_and_new_links() -> None:
    old, new = LinkSigner(["old"]).participant("p"), LinkSigner(["new", "old"]).participant("p")
    during = TokenVerifier({}, link_secrets=["new", "old"])
    during.verify(old.token)
    during.verify(new.token)
    assert reason(TokenVerifier({}, link_secrets=["new"]), old.token) == "unknown_key"


def test_a_link_secret_cannot_sign_a_staff_token() -> None:
    import hashlib

    from shared.auth.tokens import link_key_id

    now = datetime.now(UTC)
    claims = {
        "iss": "foro",
        "aud": "foro",
        "sub": "account:eve",
        "kind": "staff",
        "roles": ["admin"],
        "jti": "forged-123",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    key = hashlib.sha256(b"foro-link-token:s").digest()
    forged = jwt.encode(claims, key, algorithm="HS256", headers={"kid": link_key_id("s")})
    assert reason(TokenVerifier({}, link_secrets=["s"]), forged) == "malformed"


def test_a_participants_links_are_revoked_by_subject_up_to_a_time() -> None:
    signer = LinkSigner(["s"])
    before = signer.participant("p-1", now=datetime.now(UTC) - timedelta(minutes=5))
    revoked = RevocationSet()
    revoked.add_subject("participant:p-1", datetime.now(UTC) - timedelta(minutes=1))
    verifier = TokenVerifier({}, link_secrets=["s"], revoked=revoked)
    assert reason(verifier, before.token) == "revoked"
    verifier.verify(signer.participant("p-1").token)  # a new link works
    verifier.verify(signer.participant("p-2", now=datetime.now(UTC) - timedelta(minutes=5)).token)
    one = signer.participant("p-3")
    revoked.add(one.jti)
    assert reason(verifier, one.token) == "revoked"
    verifier.verify(signer.participant("p-3").token)


def test_a_party_role_without_its_party_grants_nothing() -> None:
    signer = TokenSigner(PRIVATE, "k1")
    verifier = TokenVerifier({"k1": PUBLIC})
    unscoped = verifier.verify(staff_token(signer, roles=[Role.FOCAL_POINT, Role.OBSERVER]))
    assert Permission.DELEGATION_MEMBERS not in unscoped.permissions
    assert unscoped.roles == {Role.OBSERVER}
    scoped = verifier.verify(staff_token(signer, roles=[Role.FOCAL_POINT], delegation="MX"))
    assert Permission.DELEGATION_MEMBERS in scoped.permissions

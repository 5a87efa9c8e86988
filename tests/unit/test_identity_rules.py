"""Identity's rules: the password hash's parameters and its rehash, TOTP steps used once,
which roles, scopes and scope claims an account or token may have, what a sign-in, a role
change, disabling and revoking write and publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import typer
from argon2 import PasswordHasher, Type, extract_parameters

from services.registration.identity import credentials, rules
from services.registration.identity.documents import AccountDocument, ApiTokenDocument
from services.registration.identity.throttle import SignInThrottle
from shared.auth.permissions import ROLES, Permission, Role
from shared.cli.tokens import days_of

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def account(**fields: object) -> AccountDocument:
    return AccountDocument.model_validate(
        {
            "_id": "ana",
            "display_name": "Ana",
            "roles": ["door_staff"],
            "password_hash": "$argon2id$…",
            "created_at": NOW - timedelta(days=3),
            "created_by": "cli:root",
            **fields,
        }
    )


def attempt(**fields: object) -> rules.Attempt:
    base: dict[str, object] = {
        "password_ok": True,
        "totp_given": False,
        "totp_step": None,
        "token_id": "jti-new-0001",
        "now": NOW,
    }
    return rules.Attempt(**(base | fields))  # type: ignore[arg-type]


# --- passwords ----------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_second_option() -> None:
    hashed = credentials.hash_password(PASSWORD)
    parameters = extract_parameters(hashed)
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 64 * 1024  # KiB: 64 MiB
    assert parameters.time_cost >= 3
    assert parameters.parallelism >= 4
    assert parameters.salt_len >= 16 and parameters.hash_len >= 32
    assert credentials.verify_password(hashed, PASSWORD)
    assert not credentials.verify_password(hashed, PASSWORD + "!")
    assert not credentials.verify_password("not a hash", PASSWORD)
    assert not credentials.needs_rehash(hashed)


def test_a_hash_with_weaker_parameters_is_replaced_at_sign_in() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert credentials.verify_password(weak, PASSWORD)  # still accepted…
    assert credentials.needs_rehash(weak)  # …and flagged

    decided = rules.sign_in(account(password_hash=weak), attempt(rehashed="$argon2id$new"))
    assert decided.result.accepted
    assert decided.change is not None
    assert decided.change.set["password_hash"] == "$argon2id$new"
    unchanged = rules.sign_in(account(), attempt())
    assert unchanged.change is not None and "password_hash" not in unchanged.change.set


async def test_an_unknown_username_costs_a_password_check_too() -> None:
    assert not await credentials.check_password_async(None, PASSWORD)
    hashed = await credentials.hash_password_async(PASSWORD)
    assert await credentials.check_password_async(hashed, PASSWORD)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "password_length"),
        ("x" * 257, "password_length"),
        ("ana-ana-ana-ana-ana", "password_has_username"),
        ("ana" + "x" * 11, "password_has_username"),
    ],
)
def test_password_rules(password: str, code: str) -> None:
    rules.check_password("rehearsal admin passphrase 2026", "admin")  # long enough without it
    with pytest.raises(rules.IdentityRefused) as refused:
        rules.check_password(password, "ana")
    assert refused.value.problem.field == "password"
    assert refused.value.problem.code == code
    assert refused.value.problem.message_es and refused.value.problem.message_en


# --- TOTP ---------------------------------------------------------------------------------------


def test_totp_codes_of_this_step_and_its_neighbours_are_recognised() -> None:
    secret = credentials.new_totp_secret()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    assert credentials.totp_step(secret, totp.at(NOW), NOW) == step
    assert credentials.totp_step(secret, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert credentials.totp_step(secret, totp.at(NOW + timedelta(seconds=30)), NOW) == step + 1
    assert credentials.totp_step(secret, totp.at(NOW - timedelta(seconds=90)), NOW) is None
    assert credentials.totp_step(secret, "12345", NOW) is None
    assert credentials.totp_step(secret, "abcdef", NOW) is None
    uri = credentials.provisioning_uri(secret, "ana")
    assert uri.startswith("otpauth://totp/foro:ana?") and f"secret={secret}" in uri


def test_a_totp_step_is_accepted_once() -> None:
    secret = credentials.new_totp_secret()
    document = account(totp_secret=secret)
    first = rules.sign_in(document, attempt(totp_given=True, totp_step=1000))
    assert first.result.accepted and first.change is not None
    assert first.change.set["totp_last_step"] == 1000

    after = document.updated(first.change.set)
    again = rules.sign_in(after, attempt(totp_given=True, totp_step=1000))
    assert again.result.refusal == "totp_reused" and again.change is None
    earlier = rules.sign_in(after, attempt(totp_given=True, totp_step=999))
    assert earlier.result.refusal == "totp_reused"
    assert rules.sign_in(after, attempt(totp_given=True, totp_step=1001)).result.accepted


def test_sign_in_refusals() -> None:
    assert rules.sign_in(None, attempt()).result.refusal == "credentials"
    assert rules.sign_in(account(), attempt(password_ok=False)).result.refusal == "credentials"
    assert rules.sign_in(account(disabled=True), attempt()).result.refusal == "disabled"
    with_totp = account(totp_secret="JBSWY3DPEHPK3PXP")
    assert rules.sign_in(with_totp, attempt()).result.refusal == "totp_missing"
    wrong = attempt(totp_given=True, totp_step=None)
    assert rules.sign_in(with_totp, wrong).result.refusal == "totp_wrong"
    # A refused sign-in writes nothing.
    assert all(
        rules.sign_in(doc, a).change is None
        for doc, a in [(None, attempt()), (account(disabled=True), attempt()), (with_totp, wrong)]
    )


def test_a_sign_in_records_its_token_and_forgets_expired_ones() -> None:
    expired = {"token_id": "old-token-1", "expires_at": NOW - timedelta(minutes=1)}
    live = {"token_id": "live-token-1", "expires_at": NOW + timedelta(hours=2)}
    decided = rules.sign_in(account(staff_tokens=[expired, live]), attempt())
    assert decided.change is not None
    assert [t["token_id"] for t in decided.change.set["staff_tokens"]] == [
        "live-token-1",
        "jti-new-0001",
    ]
    assert decided.change.set["staff_tokens"][-1]["expires_at"] == NOW + timedelta(hours=12)
    assert decided.change.set["last_sign_in_at"] == NOW
    assert not decided.change.events


# --- roles, scopes, claims ----------------------------------------------------------------------


def test_usernames_are_lower_cased_and_checked() -> None:
    assert rules.username_of("  Ana.Door ") == "ana.door"
    for bad in ("a", "1ana", "ana door", "ana@example.org", "x" * 65, ""):
        with pytest.raises(rules.IdentityRefused) as refused:
            rules.username_of(bad)
        assert refused.value.problem.field == "username"


def test_roles_must_be_known_and_at_least_one() -> None:
    assert rules.roles_of(["Door_Staff", "admin", "admin"]) == [Role.ADMIN, Role.DOOR_STAFF]
    with pytest.raises(rules.IdentityRefused) as unknown:
        rules.roles_of(["door_staff", "janitor"])
    assert (
        unknown.value.problem.code == "unknown_role"
        and "janitor" in unknown.value.problem.message_en
    )
    with pytest.raises(rules.IdentityRefused) as none:
        rules.roles_of([])
    assert none.value.problem.code == "no_role"


def test_a_scope_only_narrows_the_roles() -> None:
    assert rules.scope_of(None, [Role.REGISTRAR]) is None
    assert rules.scope_of(["participants:write"], [Role.REGISTRAR]) == [
        Permission.PARTICIPANTS_WRITE
    ]
    for scope, code in [
        (["participants:fly"], "unknown_permission"),
        (["budget:write"], "scope_beyond_roles"),
        ([], "empty_scope"),
    ]:
        with pytest.raises(rules.IdentityRefused) as refused:
            rules.scope_of(scope, [Role.REGISTRAR])
        assert (refused.value.problem.field, refused.value.problem.code) == ("scope", code)


def test_nobody_grants_more_than_they_hold() -> None:
    registrar = ROLES[Role.REGISTRAR]
    rules.within_grant(registrar, [Role.DOOR_STAFF])
    rules.within_grant(frozenset(Permission), [Role.ADMIN])
    with pytest.raises(rules.IdentityRefused) as refused:
        rules.within_grant(registrar | {Permission.ACCOUNTS_MANAGE}, [Role.ADMIN])
    assert refused.value.problem.code == "beyond_own_permissions"
    # A scope within the caller's permissions is fine even when the role is not.
    rules.within_grant(registrar, [Role.ADMIN], [Permission.CHECKIN_SCAN])


def test_scope_claims() -> None:
    claims = rules.ScopeClaims(("S1", "S2", "S1")).checked([Role.RAPPORTEUR])
    assert claims.sessions == ("S1", "S2")
    with pytest.raises(rules.IdentityRefused) as no_rapporteur:
        rules.ScopeClaims(("S1",)).checked([Role.OBSERVER])
    assert no_rapporteur.value.problem.code == "sessions_without_rapporteur"
    with pytest.raises(rules.IdentityRefused) as bad_code:
        rules.ScopeClaims(("S 1",)).checked([Role.RAPPORTEUR])
    assert bad_code.value.problem.field == "sessions"
    with pytest.raises(rules.IdentityRefused) as bad_delegation:
        rules.ScopeClaims(delegation="SV;drop").checked([Role.REGISTRAR])
    assert bad_delegation.value.problem.field == "delegation"


def test_a_focal_point_names_its_delegation_and_an_exhibitor_its_exhibitor() -> None:
    assert rules.ScopeClaims(delegation="SV").checked([Role.FOCAL_POINT]).delegation == "SV"
    assert rules.ScopeClaims(exhibitor="ex-1").checked([Role.EXHIBITOR]).exhibitor == "ex-1"
    for roles, field, code in (
        ([Role.FOCAL_POINT], "delegation", "focal_point_without_delegation"),
        ([Role.EXHIBITOR], "exhibitor", "exhibitor_without_exhibitor"),
    ):
        with pytest.raises(rules.IdentityRefused) as missing:
            rules.ScopeClaims().checked(roles)
        problem = missing.value.problem
        assert (problem.field, problem.code) == (field, code)
        assert field in problem.message_es and field in problem.message_en
    # The code a delegation route's path holds, not the delegation's id.
    with pytest.raises(rules.IdentityRefused) as an_id:
        rules.ScopeClaims(delegation="crm-2026:SV").checked([Role.FOCAL_POINT])
    assert (an_id.value.problem.field, an_id.value.problem.code) == (
        "delegation",
        "invalid_delegation",
    )
    # Given to an account without the claim: refused, naming the role given.
    plain = account(roles=["observer"])
    with pytest.raises(rules.IdentityRefused) as given:
        rules.change_roles(plain, [Role.FOCAL_POINT], [], NOW)
    assert (given.value.problem.field, given.value.problem.code) == (
        "add",
        "focal_point_without_delegation",
    )
    scoped = account(roles=["observer"], delegation="SV")
    assert rules.change_roles(scoped, [Role.FOCAL_POINT], [], NOW).result == [
        "observer",
        "focal_point",
    ]


def test_linking_an_identity_provider_is_announced_without_the_subject() -> None:
    change = rules.new_link("ana", "cancilleria", "248289761001", NOW, "cli:root")
    assert change.set["account"] == "ana" and change.set["subject"] == "248289761001"
    [linked] = change.events
    assert linked.model_dump(include={"event_type", "username", "provider"}) == {
        "event_type": "account.linked",
        "username": "ana",
        "provider": "cancilleria",
    }
    assert "248289761001" not in linked.model_dump_json()


def test_a_new_account_is_announced_with_ids_and_roles_only() -> None:
    change = rules.new_account(
        "rapporteur.one",
        "Relatoría Uno",
        [Role.RAPPORTEUR],
        rules.ScopeClaims(("B1.2",)),
        "$argon2id$…",
        "TOTPSECRET",
        NOW,
        "account:admin",
    )
    [created] = change.events
    assert created.model_dump(
        include={"event_type", "username", "roles", "sessions", "delegation", "exhibitor"}
    ) == {
        "event_type": "account.created",
        "username": "rapporteur.one",
        "roles": ["rapporteur"],
        "sessions": ["B1.2"],
        "delegation": None,
        "exhibitor": None,
    }
    announced = created.model_dump_json()
    assert "Relatoría" not in announced and "argon2" not in announced and "TOTP" not in announced


def test_taking_a_role_revokes_live_staff_tokens_and_giving_one_does_not() -> None:
    live = {"token_id": "live-token-1", "expires_at": NOW + timedelta(hours=2)}
    expired = {"token_id": "gone-token-1", "expires_at": NOW - timedelta(hours=2)}
    document = account(roles=["door_staff", "registrar"], staff_tokens=[live, expired])

    given = rules.change_roles(document, [Role.OBSERVER], [], NOW)
    assert given.result == ["registrar", "door_staff", "observer"]
    assert given.change is not None
    [announced] = given.change.events  # the change, and no revocation
    assert announced.model_dump(include={"event_type", "username", "previous_roles", "roles"}) == {
        "event_type": "account.roles_changed",
        "username": "ana",
        "previous_roles": ["door_staff", "registrar"],
        "roles": ["registrar", "door_staff", "observer"],
    }

    taken = rules.change_roles(document, [], [Role.REGISTRAR], NOW)
    assert taken.result == ["door_staff"]
    assert taken.change is not None and taken.change.set["staff_tokens"] == []
    assert [(e.event_type, getattr(e, "token_id", None)) for e in taken.change.events] == [
        ("account.roles_changed", None),
        ("access.revoked", "live-token-1"),
    ]

    assert rules.change_roles(document, [Role.REGISTRAR], [], NOW).change is None
    with pytest.raises(rules.IdentityRefused):
        rules.change_roles(document, [], [Role.REGISTRAR, Role.DOOR_STAFF], NOW)
    assert rules.change_roles(None, [Role.ADMIN], [], NOW).result is None


def test_disabling_revokes_live_staff_tokens_once() -> None:
    live = {"token_id": "live-token-1", "expires_at": NOW + timedelta(hours=2)}
    decided = rules.disable(account(staff_tokens=[live]), NOW)
    assert decided.result is True and decided.change is not None
    assert decided.change.set["disabled"] is True
    assert [(e.event_type, getattr(e, "token_id", None)) for e in decided.change.events] == [
        ("account.disabled", None),
        ("access.revoked", "live-token-1"),
    ]
    assert decided.change.events[0].model_dump()["username"] == "ana"
    again = rules.disable(account(disabled=True), NOW)
    assert again.result is False and again.change is None


# --- API tokens ---------------------------------------------------------------------------------


def test_api_tokens_expire_within_366_days() -> None:
    assert rules.token_expiry(366, NOW) == NOW + timedelta(days=366)
    for days in (0, 367):
        with pytest.raises(rules.IdentityRefused) as refused:
            rules.token_expiry(days, NOW)
        assert refused.value.problem.field == "expires_in_days"


ISSUED_FIELDS = {"event_type", "token_id", "roles", "scope", "expires_at"}


def test_issuing_announces_the_token_and_revoking_publishes_access_revoked_once() -> None:
    change = rules.new_api_token(
        "  form  vendor ",
        [Role.REGISTRAR],
        [Permission.PARTICIPANTS_WRITE],
        NOW + timedelta(days=90),
        NOW,
        "account:admin",
        token_id="jti-00000001",
    )
    assert change.set["name"] == "form vendor"
    assert "token" not in change.set  # only what was issued, never its text
    [issued] = change.events
    assert issued.model_dump(include=ISSUED_FIELDS) == {
        "event_type": "access.token_issued",
        "token_id": "jti-00000001",
        "roles": ["registrar"],
        "scope": ["participants:write"],
        "expires_at": NOW + timedelta(days=90),
    }
    assert "form vendor" not in issued.model_dump_json()  # its name is free text: not announced
    document = ApiTokenDocument.model_validate({"_id": "jti-00000001", **change.set})
    assert rules.token_status(document, NOW) == "active"

    decided = rules.revoke(document, NOW, "account:admin")
    assert decided.change is not None
    [event] = decided.change.events
    assert event.event_type == "access.revoked"
    assert (event.token_id, event.expires_at) == ("jti-00000001", NOW + timedelta(days=90))  # type: ignore[attr-defined]
    revoked = decided.result
    assert revoked is not None and rules.token_status(revoked, NOW) == "revoked"
    assert rules.revoke(revoked, NOW, "account:admin").change is None
    assert rules.token_status(document, NOW + timedelta(days=91)) == "expired"


# --- failed sign-ins, token lifetimes on the command line ----------------------------------------


async def test_failed_sign_ins_are_throttled_per_username_and_address() -> None:
    throttle = SignInThrottle((3, 300.0))
    for _ in range(3):
        assert not throttle.refuses("ana", "10.0.0.1")
        await throttle.failed("ana", "10.0.0.1")
    assert throttle.refuses("ana", "10.0.0.1")
    assert not throttle.refuses("ana", "10.0.0.2")  # another address
    assert not throttle.refuses("luis", "10.0.0.1")  # another username


def test_token_lifetimes_on_the_command_line() -> None:
    assert [days_of(text) for text in ("90d", "90", "12w", "1y", " 30D ")] == [90, 90, 84, 365, 30]
    for bad in ("", "d", "3 months", "-5d", "1.5d"):
        with pytest.raises(typer.BadParameter):
            days_of(bad)

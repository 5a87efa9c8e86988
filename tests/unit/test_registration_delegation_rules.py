"""Delegation rules (domain_delegations): quota, substitution, withdrawal, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.registration.delegations import rules
from services.registration.documents import DelegationDocument
from shared.pack import load_pack

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
A, B, C, X = (str(uuid.uuid4()) for _ in range(4))
PACK = load_pack()


def delegation(quota: int = 2, members: list[str] | None = None, **fields) -> DelegationDocument:
    spec = rules.DelegationSpec(code="SV", quota=quota)
    change = rules.register(None, "f:SV", "f", spec, PACK, NOW)
    return DelegationDocument.model_validate(
        {"_id": "f:SV", **change.set, "members": members or [], **fields}
    )


def test_a_country_delegation_takes_its_quota_and_category_from_the_pack() -> None:
    change = rules.register(None, "f:SV", "f", rules.DelegationSpec(code="SV"), PACK, NOW)
    assert change.set["quota"] == 10 and change.set["category"] == "official_delegate"
    assert change.set["name"] == "El Salvador" and change.set["kind"] == "country"
    assert change.events[0].event_type == "delegation.registered"
    with pytest.raises(rules.DelegationRefused) as refused:
        rules.register(None, "f:FR", "f", rules.DelegationSpec(code="FR"), PACK, NOW)
    assert refused.value.problem.code == "unknown_country"
    with pytest.raises(rules.DelegationRefused):
        rules.register(None, "f:oim", "f", rules.DelegationSpec(code="oim"), PACK, NOW)


def test_the_nomination_over_quota_is_refused_with_the_reason_and_changes_no_member() -> None:
    full = delegation(quota=2, members=[A, B])
    change, outcome = rules.nominate(full, C, NOW)
    assert outcome == "refused" and "members" not in change.set
    refused = change.events[0]
    assert refused.event_type == "delegation.nomination_refused"
    assert (
        refused.reasons[0].code == "delegation_quota_full"
        and "2 plazas" in refused.reasons[0].message_es
    )
    assert rules.claim_seat(full, C, NOW) == (None, "refused")


def test_a_full_delegation_says_how_many_seats_it_fills_in_words_that_agree() -> None:
    one = rules.nominate(delegation(quota=1, members=[A]), C, NOW)[0].events[0].reasons[0]
    assert "ya tiene ocupada su única plaza;" in one.message_es
    assert "already fills its only seat;" in one.message_en
    many = rules.nominate(delegation(quota=2, members=[A, B]), C, NOW)[0].events[0].reasons[0]
    assert "ya tiene ocupadas sus 2 plazas;" in many.message_es
    assert "already fills its 2 seats;" in many.message_en


def test_nomination_is_idempotent_by_membership() -> None:
    document = delegation(quota=2, members=[A])
    change, outcome = rules.nominate(document, B, NOW, "nomination-1")
    assert outcome == "nominated" and change.set["members"] == [A, B]
    assert change.set["nominations"] == {B: "nomination-1"}
    assert change.events[0].seats_used == 2
    assert rules.nominate(document.updated(change.set), B, NOW) == (None, "already_member")


def test_a_substitution_at_full_quota_keeps_the_seat_and_the_head() -> None:
    document = delegation(quota=2, members=[A, B], head_of_delegation_id=A)
    change = rules.substitute(document, A, C, NOW)
    assert change.set["members"] == [C, B] and change.set["head_of_delegation_id"] == C
    assert change.events[0].seats_used == 2
    assert rules.substitute(document.updated(change.set), A, C, NOW) is None  # replay
    with pytest.raises(rules.DelegationRefused):
        rules.substitute(document, X, C, NOW)
    with pytest.raises(rules.DelegationRefused):
        rules.substitute(document, A, B, NOW)
    # A member named as "substitute" of an outsider is no replay: nobody outside is touched.
    with pytest.raises(rules.DelegationRefused):
        rules.substitute(document.updated(change.set), X, C, NOW)


def test_withdrawal_frees_the_seat_and_the_head_must_be_a_member() -> None:
    document = delegation(quota=2, members=[A, B], head_of_delegation_id=B)
    change = rules.withdraw(document, B, NOW)
    assert change.set == {"members": [A], "updated_at": NOW, "head_of_delegation_id": None}
    assert rules.withdraw(document.updated(change.set), B, NOW) is None
    with pytest.raises(rules.DelegationRefused):
        rules.register(
            document,
            "f:SV",
            "f",
            rules.DelegationSpec(code="SV", head_of_delegation_id="z"),
            PACK,
            NOW,
        )
    same = rules.register(
        document, "f:SV", "f", rules.DelegationSpec(code="SV", quota=2), PACK, NOW
    )
    assert same is None


def test_a_focal_point_sent_again_changes_nothing_and_erasure_forgets_it() -> None:
    focal = {"name": "Marta Rivas", "email": "marta@example.org", "phone": None, "language": "es"}
    document = delegation(members=[A], focal_point=focal, focal_point_access_issued_at=NOW)
    again = rules.DelegationSpec(code="SV", focal_point=dict(focal))
    assert rules.register(document, "f:SV", "f", again, PACK, NOW) is None
    forgotten = rules.forget_contact(document, "marta@example.org", NOW)
    assert forgotten.set == {"focal_point": None, "updated_at": NOW}
    assert forgotten.events[0].delegation.members == [uuid.UUID(A)]
    # Kept by a read and a write.
    assert document.updated(forgotten.set).focal_point_access_issued_at == NOW


def test_a_focal_points_new_access_is_signed_after_the_previous_one_and_announced() -> None:
    document = delegation()
    assert rules.focal_point_access_time(document, NOW.replace(microsecond=5)) == NOW
    first = rules.issue_focal_point_access(document, NOW, "token-one-1234", NOW + timedelta(180))
    assert first.result is True and first.change is not None
    [issued] = first.change.events
    assert issued.model_dump(include={"event_type", "delegation_id", "token_id"}) == {
        "event_type": "delegation.focal_point_access_issued",
        "delegation_id": "f:SV",
        "token_id": "token-one-1234",
    }
    assert "token" not in issued.model_dump()  # its id and expiry, never its text
    after = document.updated(first.change.set)
    # Re-issued in the same second: signed a second later, so revoking every earlier one
    # (issued up to a second before it) never catches it.
    assert rules.focal_point_access_time(after, NOW) == NOW + timedelta(seconds=1)
    # Another issued at that time or later meanwhile: nothing written, the caller signs again.
    late = rules.issue_focal_point_access(after, NOW, "token-two-1234", NOW + timedelta(180))
    assert late.result is False and late.change is None

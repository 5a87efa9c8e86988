"""Delegations: quota, nominations, substitutions and withdrawals by the focal point."""

from __future__ import annotations

import asyncio
import io
import json
import uuid

import pytest
from pypdf import PdfReader

from tests.integration.registration.conftest import (
    RunningRegistration,
    outbox_published,
    participant_id_of,
)
from tests.support.bus import eventually
from tests.support.factories import signup


@pytest.fixture
def registration_settings(badge_settings):
    return badge_settings


def nominee(**overrides) -> dict:
    token = uuid.uuid4().hex[:8]
    body = {
        "given_name": "Delegada",
        "family_name": f"Número {token}",
        "email": f"delegada.{token}@cancilleria.example",
        "job_title": "Directora de Migración",
        "consents": {"privacy_policy": True},
    }
    return body | overrides


async def test_the_nomination_over_quota_is_refused_and_a_substitution_at_full_quota_succeeds(
    registration: RunningRegistration, secretariat
) -> None:
    created = await secretariat.put("/delegations/BZ", json={"quota": 2})
    assert (
        created.status_code == 201
        and created.json()["quota"] == 2
        and created.json()["kind"] == "country"
    )

    members = []
    for _ in range(2):
        response = await secretariat.post("/delegations/BZ/members", json=nominee())
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending_approval"
        members.append(response.json()["participant_id"])
    over = await secretariat.post("/delegations/BZ/members", json=nominee())

    assert over.status_code == 409
    assert over.json()["detail"]["code"] == "delegation_quota_full"
    assert (
        "2 plazas" in over.json()["detail"]["message_es"]
        and "2 seats" in over.json()["detail"]["message_en"]
    )
    refused = await registration.tap.wait_for("delegation.nomination_refused")
    assert refused[0]["reasons"][0]["code"] == "delegation_quota_full"

    substitute = nominee()
    swapped = await secretariat.post(
        f"/delegations/BZ/members/{members[0]}/substitute", json=substitute
    )
    assert swapped.status_code == 200, swapped.text
    substitute_id = swapped.json()["participant_id"]
    delegation = (await secretariat.get("/delegations/BZ")).json()
    assert delegation["seats_used"] == 2 and delegation["members"] == [substitute_id, members[1]]

    event = (await registration.tap.wait_for("delegation.member_substituted"))[0]
    assert (
        event["replaced_participant_id"] == members[0] and event["participant_id"] == substitute_id
    )
    assert event["seats_used"] == 2
    cancelled = await registration.tap.wait_for("registration.cancelled")
    assert cancelled[0]["participant"]["participant_id"] == members[0]
    assert (await registration.deps.repository.get(substitute_id))["status"] == "pending_approval"

    # Replaying the same substitution changes nothing.
    replay = await secretariat.post(
        f"/delegations/BZ/members/{members[0]}/substitute", json=substitute
    )
    assert replay.status_code == 200
    await outbox_published(registration)
    await registration.tap.drain()
    assert len(registration.tap.of_type("delegation.member_substituted")) == 1
    assert len(registration.tap.of_type("delegation.member_nominated")) == 2
    assert len(registration.tap.of_type("registration.cancelled")) == 1


async def test_focal_point_manages_members_with_their_access_and_the_secretariat_accredits(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put(
        "/delegations/oim",
        json={
            "name": "Organización Internacional para las Migraciones",
            "category": "international_organisation",
            "quota": 3,
            "country": "CH",
            "focal_point": {"name": "Punto Focal", "email": "focal@oim.example", "language": "en"},
        },
    )
    access = (await secretariat.post("/delegations/oim/focal-point-key")).json()
    focal = {"Authorization": f"Bearer {access['access_token']}"}

    wrong = await secretariat.post(
        "/delegations/oim/members", json=nominee(), headers={"Authorization": "Bearer nope"}
    )
    first = await secretariat.post("/delegations/oim/members", json=nominee(), headers=focal)
    second = await secretariat.post("/delegations/oim/members", json=nominee(), headers=focal)
    assert wrong.status_code == 401
    assert first.status_code == 201 and second.status_code == 201
    first_id, second_id = first.json()["participant_id"], second.json()["participant_id"]
    # international_organisation needs no approval: the members are confirmed at once.
    assert first.json()["status"] == "confirmed"

    withdrawn = await secretariat.delete(f"/delegations/oim/members/{second_id}", headers=focal)
    assert withdrawn.json() == {
        "outcome": "withdrawn",
        "participant_id": second_id,
        "status": "cancelled",
    }
    again = await secretariat.delete(f"/delegations/oim/members/{second_id}", headers=focal)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    outsider = signup()
    await registration.send(json.dumps(outsider).encode())
    outsider_id = await participant_id_of(registration, outsider["email"])
    refused = await secretariat.delete(f"/delegations/oim/members/{outsider_id}", headers=focal)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "not_a_member"
    hijack = await secretariat.post(
        "/delegations/oim/members", json=nominee(email=outsider["email"]), headers=focal
    )
    assert (
        hijack.status_code == 409
        and hijack.json()["detail"]["code"] == "registered_in_another_category"
    )
    stored = await registration.deps.repository.get(outsider_id)
    assert stored["status"] != "cancelled" and stored["category"] == "civil_society"
    head = await secretariat.put("/delegations/oim", json={"head_of_delegation_id": first_id})
    assert head.json()["head_of_delegation_id"] == first_id and head.json()["seats_used"] == 1

    # The focal point sees each member's name and status; no contact details.
    members = await secretariat.get("/delegations/oim/members", headers=focal)
    assert members.status_code == 200, members.text
    (member,) = members.json()
    assert member["participant_id"] == first_id and member["status"] == "confirmed"
    assert member["given_name"] == "Delegada" and member["head_of_delegation"] is True
    assert member["job_title"] == "Directora de Migración" and "email" not in member
    assert member["checked_in_days"] == [] and member["rejection_reasons"] == []
    await registration.tap.wait_for("delegation.member_withdrawn")
    updated = await registration.tap.wait_for("delegation.updated")
    assert updated[-1]["changed_fields"] == ["head_of_delegation_id"]

    await registration.tap.wait_for("badge.issued", 3)
    await registration.tap.wait_for("badge.revoked")  # the withdrawn member's
    sheet = await secretariat.get("/delegations/oim/badges.pdf")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    assert "Delegada" in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(sheet.content)).pages
    )
    await outbox_published(registration)


async def test_official_delegates_count_against_their_country_quota_and_a_delegation_is_accredited_at_once(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put("/delegations/JM", json={"quota": 2})
    nominated = (await secretariat.post("/delegations/JM/members", json=nominee())).json()[
        "participant_id"
    ]
    # A sign-up through the public form, in the same country's official delegation.
    form = signup(category="official_delegate", country="JM")
    await registration.send(json.dumps(form).encode())
    await registration.tap.wait_for("accreditation.requested", 2)
    by_form = await participant_id_of(registration, form["email"])

    accredited = await secretariat.post("/delegations/JM/accreditation")
    assert [d["participant_id"] for d in accredited.json()["approved"]] == [nominated]
    approved = await secretariat.post(f"/participants/{by_form}/accreditation/approve")
    assert approved.json()["status"] == "confirmed"
    assert (await secretariat.get("/delegations/JM")).json()["members"] == [nominated, by_form]

    late = signup(category="official_delegate", country="JM")
    await registration.send(json.dumps(late).encode())
    await registration.tap.wait_for("accreditation.requested", 3)
    refused = await secretariat.post(
        f"/participants/{await participant_id_of(registration, late['email'])}/accreditation/approve"
    )
    assert (
        refused.status_code == 409 and refused.json()["detail"]["code"] == "delegation_quota_full"
    )
    await registration.tap.wait_for("registration.confirmed", 2)
    await registration.tap.wait_for("badge.issued", 2)
    await outbox_published(registration)


async def test_a_delegate_who_cancels_frees_the_delegation_seat(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put("/delegations/PA", json={"quota": 1})
    member = (await secretariat.post("/delegations/PA/members", json=nominee())).json()[
        "participant_id"
    ]
    assert (await secretariat.post("/delegations/PA/members", json=nominee())).status_code == 409

    await secretariat.post(f"/participants/{member}/cancel", json={"reason": "agenda"})

    async def seat_free() -> bool:
        return (await secretariat.get("/delegations/PA")).json()["seats_used"] == 0

    await eventually(seat_free, what="the seat is freed")
    assert (await secretariat.post("/delegations/PA/members", json=nominee())).status_code == 201
    await registration.tap.wait_for("accreditation.requested", 2)
    await outbox_published(registration)


async def test_concurrent_nominations_never_exceed_the_quota(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put("/delegations/EC", json={"quota": 2})

    responses = await asyncio.gather(
        *(secretariat.post("/delegations/EC/members", json=nominee()) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409]
    delegation = (await secretariat.get("/delegations/EC")).json()
    assert delegation["seats_used"] == 2
    assert sorted(delegation["members"]) == sorted(
        r.json()["participant_id"] for r in responses if r.status_code == 201
    )
    await registration.tap.wait_for("accreditation.requested", 2)
    await registration.tap.wait_for("delegation.nomination_refused", 2)
    await outbox_published(registration)


async def test_a_focal_points_access_is_limited_to_its_delegation_and_reissuing_it_revokes_the_old(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put("/delegations/CR", json={"quota": 2})
    await secretariat.put("/delegations/HN", json={"quota": 2})
    issued = await secretariat.post("/delegations/CR/focal-point-key")
    assert issued.status_code == 200, issued.text
    access = issued.json()
    assert set(access) == {"access_token", "token_id", "expires_at"}
    focal = {"Authorization": f"Bearer {access['access_token']}"}

    # Its own delegation: read it, and manage its members.
    own = await secretariat.get("/delegations/CR", headers=focal)
    assert own.status_code == 200 and own.json()["focal_point_access_issued_at"] is not None
    listed = await secretariat.get("/delegations", headers=focal)
    assert [d["code"] for d in listed.json()] == ["CR"]
    member = await secretariat.post("/delegations/CR/members", json=nominee(), headers=focal)
    assert member.status_code == 201, member.text
    member_id = member.json()["participant_id"]
    swapped = await secretariat.post(
        f"/delegations/CR/members/{member_id}/substitute", json=nominee(), headers=focal
    )
    assert swapped.status_code == 200, swapped.text
    withdrawn = await secretariat.delete(
        f"/delegations/CR/members/{swapped.json()['participant_id']}", headers=focal
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["outcome"] == "withdrawn"

    # Another delegation, the participant list, the secretariat's own commands: 403.
    others = await secretariat.get("/delegations/HN/members", headers=focal)
    assert others.status_code == 403
    other = await secretariat.get("/delegations/HN", headers=focal)
    assert other.status_code == 403 and other.json()["detail"]["code"] == "delegation_not_assigned"
    assert other.json()["detail"]["message_es"] and other.json()["detail"]["message_en"]
    nominated_elsewhere = await secretariat.post(
        "/delegations/HN/members", json=nominee(), headers=focal
    )
    assert nominated_elsewhere.status_code == 403
    assert (await secretariat.get("/participants", headers=focal)).status_code == 403
    assert (
        await secretariat.put("/delegations/CR", json={"quota": 9}, headers=focal)
    ).status_code == 403
    assert (
        await secretariat.post("/delegations/CR/focal-point-key", headers=focal)
    ).status_code == 403
    assert (await secretariat.get("/delegations/HN")).json()["seats_used"] == 0

    # Issued again (at once, within the same second too): the old one is refused as revoked,
    # the new one works.
    renewed = (await secretariat.post("/delegations/CR/focal-point-key")).json()
    assert renewed["token_id"] != access["token_id"]
    old = await secretariat.get("/delegations/CR", headers=focal)
    assert old.status_code == 401 and old.json()["detail"]["code"] == "token_revoked"
    new_focal = {"Authorization": f"Bearer {renewed['access_token']}"}
    assert (await secretariat.get("/delegations/CR", headers=new_focal)).status_code == 200
    again = await secretariat.post("/delegations/CR/members", json=nominee(), headers=new_focal)
    assert again.status_code == 201, again.text

    # In the audit trail: issued twice, by the secretariat, with ids and expiries, never the token.
    announced = await registration.tap.wait_for("delegation.focal_point_access_issued", 2)
    assert [e["token_id"] for e in announced] == [access["token_id"], renewed["token_id"]]
    assert (
        announced[0]["delegation_id"].endswith(":CR") and announced[0]["actor"]["kind"] == "static"
    )
    assert all(access["access_token"] not in json.dumps(e) for e in announced)
    await outbox_published(registration)


async def test_a_focal_points_access_needs_a_link_secret(
    registration: RunningRegistration, secretariat
) -> None:
    await secretariat.put("/delegations/GT", json={"quota": 1})
    registration.runtime.settings.participant_token_secret = []
    refused = await secretariat.post("/delegations/GT/focal-point-key")
    assert refused.status_code == 503
    detail = refused.json()["detail"]
    assert (
        detail["code"] == "links_unavailable"
        and "FORO_PARTICIPANT_TOKEN_SECRET" in detail["message_en"]
    )
    assert "FORO_PARTICIPANT_TOKEN_SECRET" in detail["message_es"]

"""Exhibitor applications from every type of the concept note, approval with staff sign-ups
through registration's intake, rejection with a reason, and launches on the expo stage."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.expo.common import Refused
from services.expo.deps import Expo
from services.expo.exhibitors import handlers
from shared.auth.tokens import LinkSigner
from shared.contracts.envelope import derive_id
from shared.pack import load_pack
from tests.integration.expo.conftest import (
    PARTICIPANT_SECRET,
    SECRETARIAT,
    RunningExpo,
    application,
    bearer,
)
from tests.support.bus import eventually

PACK = load_pack()


async def test_every_exhibitor_type_and_sector_of_the_concept_note_applies_into_its_zone(
    expo: RunningExpo,
) -> None:
    kinds = [(t.code, None) for t in PACK.exhibitor_types if not t.uses_sectors]
    kinds += [("company", s.code) for s in PACK.sectors]
    async with expo.http() as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/exhibitors/applications", json=application(exhibitor_type=kind, sector=sector)
                )
                for kind, sector in kinds
            )
        )
        missing_sector = await http.post("/exhibitors/applications", json=application(sector=None))
        unknown_type = await http.post(
            "/exhibitors/applications", json=application(exhibitor_type="lobbyist", sector=None)
        )

    assert [a.status_code for a in answers] == [202] * len(kinds)
    zones = {
        (kind, sector): answer.json()["zone"]
        for (kind, sector), answer in zip(kinds, answers, strict=True)
    }
    assert zones[("government", None)] == "government"
    assert zones[("ngo", None)] == zones[("migrant_association", None)] == "civil_society"
    assert zones[("job_fair_employer", None)] == "job_fair"
    assert zones[("company", "finance_remittances")] == "finance"
    assert zones[("company", "airlines_travel")] == "travel"
    assert (
        zones[("company", "paperwork_agencies")] == zones[("company", "real_estate")] == "services"
    )
    assert missing_sector.status_code == 422
    assert missing_sector.json()["detail"]["problems"][0]["field"] == "sector"
    assert unknown_type.status_code == 422
    assert "exhibitor_type" in {p["field"] for p in unknown_type.json()["detail"]["problems"]}
    applied = await expo.wait_events(
        "exhibitor.applied",
        len(kinds),
        lambda e: e["exhibitor_id"] in {a.json()["exhibitor_id"] for a in answers},
    )
    assert len(applied) == len(kinds)


async def test_approval_registers_each_staff_member_once_through_registration_intake(
    expo: RunningExpo,
) -> None:
    staff = [
        {
            "given_name": "Luis",
            "family_name": "Pérez",
            "email": f"luis.{uuid.uuid4().hex[:6]}@example.org",
        },
        {
            "given_name": "Rosa",
            "family_name": "Martínez",
            "email": f"rosa.{uuid.uuid4().hex[:6]}@example.org",
            "language": "en",
        },
    ]
    exhibitor_id, token, body = await expo.approved_exhibitor(staff=staff, staff_consented=True)
    async with expo.http() as http:
        again = await http.post(f"/exhibitors/{exhibitor_id}/approve", headers=SECRETARIAT)
        resubmitted = await http.post(
            "/exhibitors/applications", json={**body, "name": "Otro nombre"}
        )
        me = await http.get("/me", headers=bearer(token))
        forged = await http.get("/me", headers=bearer("not-a-token"))

    assert again.status_code == 409 and again.json()["detail"]["code"] == "already_decided"
    assert (
        resubmitted.status_code == 409 and resubmitted.json()["detail"]["code"] == "already_decided"
    )
    assert (
        me.status_code == 200
        and me.json()["exhibitor_id"] == exhibitor_id
        and "token_hash" not in me.json()
    )
    assert forged.status_code == 401
    assert forged.json()["detail"]["code"] == "token_malformed"

    async def both_signed_up() -> bool:
        await expo.intake.drain()
        return (
            len(
                [
                    b
                    for b in expo.intake.of_type("registration.submitted")
                    if exhibitor_id in b["submission_id"]
                ]
            )
            >= 2
        )

    await eventually(both_signed_up, what="staff sign-ups on the intake exchange")
    await expo.wait_events("exhibitor.approved", 1, lambda e: e["exhibitor_id"] == exhibitor_id)
    signups = [
        b
        for b in expo.intake.of_type("registration.submitted")
        if exhibitor_id in b["submission_id"]
    ]
    assert len(signups) == 2
    assert {s["category"] for s in signups} == {"exhibitor_staff"}
    assert {s["event_id"] for s in signups} == {
        str(derive_id(exhibitor_id, "staff", m["email"])) for m in staff
    }
    assert all(s["consents"]["privacy_policy"] for s in signups)


async def test_staff_without_privacy_consent_is_refused_and_rejection_carries_the_reason(
    expo: RunningExpo,
) -> None:
    staff = [{"given_name": "Luis", "family_name": "Pérez", "email": "luis@example.org"}]
    async with expo.http() as http:
        unconsented = await http.post("/exhibitors/applications", json=application(staff=staff))
        applied = await http.post(
            "/exhibitors/applications", json=application(exhibitor_type="ngo", sector=None)
        )
        exhibitor_id = applied.json()["exhibitor_id"]
        no_token = await http.post(
            f"/exhibitors/{exhibitor_id}/reject", json={"reason": "Fuera del ámbito del foro"}
        )
        rejected = await http.post(
            f"/exhibitors/{exhibitor_id}/reject",
            json={"reason": "Fuera del ámbito del foro"},
            headers=SECRETARIAT,
        )
        approve_after = await http.post(f"/exhibitors/{exhibitor_id}/approve", headers=SECRETARIAT)

    assert unconsented.status_code == 422
    assert unconsented.json()["detail"]["problems"][0]["code"] == "staff_consent_required"
    assert no_token.status_code == 401
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert approve_after.status_code == 409
    events = await expo.wait_events(
        "exhibitor.rejected", 1, lambda e: e["exhibitor_id"] == exhibitor_id
    )
    assert events[0]["reason"] == "Fuera del ámbito del foro"


async def test_an_exhibitor_token_reaches_its_own_routes_until_a_new_one_revokes_it(
    expo: RunningExpo,
) -> None:
    exhibitor_id, approval_token, _ = await expo.approved_exhibitor()
    other_id, other_token, _ = await expo.approved_exhibitor()
    participant_token = await expo.participant_token(await expo.confirmed_participant())
    async with expo.http() as http:
        applied = await http.post("/exhibitors/applications", json=application())
        pending_id = applied.json()["exhibitor_id"]
        approved = await http.post(f"/exhibitors/{exhibitor_id}/approve", headers=SECRETARIAT)
        first = await http.post(f"/exhibitors/{exhibitor_id}/token", headers=SECRETARIAT)
        with_first = await http.get("/me", headers=bearer(first.json()["access_token"]))
        # Two rotations in the same second: each revokes every token before it.
        second = await http.post(f"/exhibitors/{exhibitor_id}/token", headers=SECRETARIAT)
        third = await http.post(f"/exhibitors/{exhibitor_id}/token", headers=SECRETARIAT)
        old = {
            name: await http.get("/me", headers=bearer(token))
            for name, token in (
                ("approval", approval_token),
                ("first", first.json()["access_token"]),
                ("second", second.json()["access_token"]),
            )
        }
        new = bearer(third.json()["access_token"])
        me, leads = await http.get("/me", headers=new), await http.get("/me/leads.csv", headers=new)
        other = await http.get("/me", headers=bearer(other_token))
        by_participant = await http.get("/me", headers=bearer(participant_token))
        by_staff = await http.get("/me", headers=SECRETARIAT)
        by_exhibitor = await http.post(f"/exhibitors/{other_id}/token", headers=new)
        unapproved = await http.post(f"/exhibitors/{pending_id}/token", headers=SECRETARIAT)
        anonymous = await http.post(f"/exhibitors/{exhibitor_id}/token")

    assert approved.status_code == 409  # approved once, by the builder
    assert first.status_code == 200 and with_first.status_code == 200, first.text
    assert set(first.json()) == {"access_token", "token_id", "expires_at"}
    lifetime = datetime.fromisoformat(first.json()["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=179) < lifetime <= timedelta(days=180, seconds=2)
    for name, refused in old.items():
        assert refused.status_code == 401, name
        assert refused.json()["detail"]["code"] == "token_revoked", name
    assert me.status_code == 200 and me.json()["exhibitor_id"] == exhibitor_id
    assert me.json()["access"]["token_id"] == third.json()["token_id"]
    assert leads.status_code == 200
    assert other.status_code == 200 and other.json()["exhibitor_id"] == other_id
    assert by_participant.status_code == 403
    assert by_participant.json()["detail"]["permission"] == "exhibitor:self"
    assert by_staff.status_code == 403
    assert by_staff.json()["detail"]["code"] == "exhibitor_token_required"
    assert by_exhibitor.status_code == 403
    assert by_exhibitor.json()["detail"]["permission"] == "expo:manage"
    assert unapproved.status_code == 404 and unapproved.json()["detail"]["code"] == "not_found"
    assert anonymous.status_code == 401
    kept = await expo.runtime.database["revoked_tokens"].find_one(
        {"_id": f"subject:exhibitor:{exhibitor_id}"}
    )
    assert kept is not None and kept["expires_at"] > datetime.now(UTC) + timedelta(days=179)
    # Each access issued is in the audit trail: whose, which token, which one it replaced.
    issued = await expo.wait_events(
        "exhibitor.access_issued", 4, lambda e: e["exhibitor_id"] == exhibitor_id
    )
    replaced = {e["replaced_token_id"]: e["token_id"] for e in issued}
    chain, token = [], replaced[None]  # from the approval's, each the one it replaced
    while token in replaced:
        token = replaced[token]
        chain.append(token)
    assert chain == [t.json()["token_id"] for t in (first, second, third)]
    assert all(e["actor"]["kind"] == "static" for e in issued if e["replaced_token_id"])


async def test_an_expired_or_foreign_exhibitor_token_is_refused_with_its_reason(
    expo: RunningExpo,
) -> None:
    exhibitor_id, _, _ = await expo.approved_exhibitor()
    signer = LinkSigner([PARTICIPANT_SECRET])
    expired = signer.exhibitor(
        exhibitor_id, lifetime=timedelta(hours=1), now=datetime.now(UTC) - timedelta(days=1)
    )
    unknown = signer.exhibitor(str(uuid.uuid4()))
    foreign = LinkSigner(["another-platform's-link-secret"]).exhibitor(exhibitor_id)
    async with expo.http() as http:
        answers = {
            name: await http.get("/me", headers=bearer(token.token))
            for name, token in (("expired", expired), ("unknown", unknown), ("foreign", foreign))
        }

    assert answers["expired"].status_code == 401
    assert answers["expired"].json()["detail"]["code"] == "token_expired"
    assert answers["foreign"].status_code == 401
    assert answers["foreign"].json()["detail"]["code"] == "token_unknown_key"
    assert answers["unknown"].status_code == 404
    assert answers["unknown"].json()["detail"]["code"] == "exhibitor_unknown"


async def test_without_a_link_secret_nothing_is_approved_and_the_reason_says_which_setting(
    expo: RunningExpo,
) -> None:
    async with expo.http() as http:
        applied = await http.post("/exhibitors/applications", json=application())
    exhibitor_id = applied.json()["exhibitor_id"]
    unset = expo.deps.settings.model_copy(update={"participant_token_secret": []})
    deps = Expo(pack=expo.deps.pack, repository=expo.deps.repository, settings=unset)

    with pytest.raises(Refused) as refused:
        await handlers.approve_exhibitor(exhibitor_id, deps)

    assert refused.value.status == 503
    detail = refused.value.detail()
    assert detail["code"] == "link_secret_missing"
    assert "FORO_PARTICIPANT_TOKEN_SECRET" in detail["es"]
    assert "FORO_PARTICIPANT_TOKEN_SECRET" in detail["en"]
    stored = await expo.deps.repository.exhibitor(exhibitor_id)
    assert stored is not None and stored["status"] == "applied"


async def test_launch_slots_on_the_stage_never_overlap_even_when_requested_together(
    expo: RunningExpo,
) -> None:
    exhibitors = [await expo.approved_exhibitor() for _ in range(4)]
    launch = {
        "kind": "product",
        "title": "Remesa Directa",
        "day": 1,
        "starts_at": "11:00",
        "minutes": 30,
    }
    async with expo.http() as http:
        answers = await asyncio.gather(
            *(
                http.post("/me/launches", json=launch, headers=bearer(token))
                for _, token, _ in exhibitors[:3]
            )
        )
        on_opening = await http.post(
            "/me/launches",
            json={**launch, "day": 0, "starts_at": "09:50"},
            headers=bearer(exhibitors[3][1]),
        )
        programme = await http.get("/launches")

    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    refusals = [a.json()["detail"]["problems"] for a in answers if a.status_code == 409]
    assert all(p[0]["code"] == "slot_taken" for p in refusals)
    assert on_opening.status_code == 409
    assert {p["code"] for p in on_opening.json()["detail"]["problems"]} == {"stage_in_programme"}
    winner = next(a.json() for a in answers if a.status_code == 201)
    events = await expo.wait_events(
        "launch.scheduled", 1, lambda e: e["launch_id"] == winner["launch_id"]
    )
    assert events[0]["room"] == "expo_stage" and events[0]["title"] == "Remesa Directa"
    day_two = [e for e in programme.json() if e["launch_id"] == winner["launch_id"]]
    assert len(day_two) == 1
    assert json.dumps(programme.json())  # serialisable for the programme

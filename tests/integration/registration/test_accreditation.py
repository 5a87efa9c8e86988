"""Accreditation by the secretariat, against the real broker and database."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.integration.registration.conftest import (
    RunningRegistration,
    outbox_published,
    participant_id_of,
)
from tests.support.factories import signup


@pytest.fixture
def registration_settings(badge_settings):
    return badge_settings


@pytest.fixture
def pack_overrides() -> dict:
    return {"categories[6].capacity": 1}  # media: one seat, so approval meets the waitlist


async def pending_media(registration: RunningRegistration, **overrides) -> tuple[dict, str]:
    body = signup(category="media", organisation="Diario Co Latino", **overrides)
    await registration.send(json.dumps(body).encode())
    await registration.tap.wait_for("accreditation.requested")
    return body, await participant_id_of(registration, body["email"])


async def test_pending_to_approved_emits_once_even_when_approve_is_repeated(
    registration, secretariat
) -> None:
    _, participant_id = await pending_media(registration)
    url = f"/participants/{participant_id}/accreditation/approve"

    first = await secretariat.post(url)
    again = await asyncio.gather(secretariat.post(url), secretariat.post(url))

    assert first.status_code == 200 and first.json()["outcome"] == "approved"
    assert first.json()["status"] == "confirmed"
    assert [r.json()["outcome"] for r in again] == ["already_decided", "already_decided"]
    await registration.tap.wait_for("registration.confirmed")
    await registration.tap.wait_for("badge.issued")
    await outbox_published(registration)
    await registration.tap.drain()
    assert len(registration.tap.of_type("accreditation.approved")) == 1
    assert len(registration.tap.of_type("registration.confirmed")) == 1
    approved = registration.tap.of_type("accreditation.approved")[0]
    assert approved["participant"]["participant_id"] == participant_id
    stored = await registration.deps.repository.get(participant_id)
    assert stored["status"] == "confirmed" and stored["accreditation"]["status"] == "approved"


async def test_rejection_carries_a_reason_in_both_languages_and_blocks_approval(
    registration, secretariat
) -> None:
    _, participant_id = await pending_media(registration)

    rejected = await secretariat.post(
        f"/participants/{participant_id}/accreditation/reject",
        json={
            "reason_es": "Falta la carta del medio.",
            "reason_en": "The outlet's letter is missing.",
        },
    )
    repeated = await secretariat.post(
        f"/participants/{participant_id}/accreditation/reject", json={"reason_es": "Otra vez."}
    )
    approve_after = await secretariat.post(f"/participants/{participant_id}/accreditation/approve")

    assert rejected.json() == {
        "outcome": "rejected",
        "participant_id": participant_id,
        "status": "rejected",
    }
    assert repeated.json()["outcome"] == "already_decided"
    assert approve_after.status_code == 409 and approve_after.json()["detail"]["message_es"]
    event = (await registration.tap.wait_for("accreditation.rejected"))[0]
    assert event["participant"]["status"] == "rejected"
    assert event["reasons"][0]["message_es"] == "Falta la carta del medio."
    assert event["reasons"][0]["message_en"] == "The outlet's letter is missing."
    await outbox_published(registration)
    await registration.tap.drain()
    assert len(registration.tap.of_type("accreditation.rejected")) == 1
    badge = await secretariat.get(f"/participants/{participant_id}/badge.png")
    assert badge.status_code == 409 and badge.json()["detail"]["code"] == "badge_not_allowed"


async def test_an_edit_after_approval_returns_to_pending_only_for_fields_the_pack_names(
    registration, secretariat
) -> None:
    body, participant_id = await pending_media(registration, phone="+50370001111")
    await secretariat.post(f"/participants/{participant_id}/accreditation/approve")
    await registration.tap.wait_for("badge.issued")

    # The phone is not an accreditation field of `media`: the approval stands.
    await registration.send(
        json.dumps(
            {
                **signup(),
                "submission_id": body["submission_id"],
                "email": body["email"],
                "category": "media",
                "organisation": body["organisation"],
                "phone": "+50370002222",
            }
        ).encode()
    )
    await registration.tap.wait_for("registration.updated")
    assert (await registration.deps.repository.get(participant_id))["status"] == "confirmed"

    # The organisation is: back to pending, the seat and the badge go until the secretariat looks again.
    await registration.send(
        json.dumps(
            {
                **signup(),
                "submission_id": body["submission_id"],
                "email": body["email"],
                "category": "media",
                "organisation": "Otro medio",
                "phone": "+50370002222",
            }
        ).encode()
    )
    requested = await registration.tap.wait_for("accreditation.requested", 2)
    assert requested[-1]["participant"]["organisation"] == "Otro medio"
    await registration.tap.wait_for("badge.revoked")
    stored = await registration.deps.repository.get(participant_id)
    assert stored["status"] == "pending_approval" and stored["badge"] is None

    again = await secretariat.post(f"/participants/{participant_id}/accreditation/approve")
    assert again.json()["outcome"] == "approved" and again.json()["status"] == "confirmed"
    await registration.tap.wait_for("accreditation.approved", 2)
    await registration.tap.wait_for("badge.issued", 2)
    await outbox_published(registration)


async def test_approval_allocates_through_the_seat_ledger_and_a_rejection_frees_the_seat(
    registration, secretariat
) -> None:
    _, first = await pending_media(registration)
    second_body = signup(category="media", organisation="Radio YSKL")
    await registration.send(json.dumps(second_body).encode())
    await registration.tap.wait_for("accreditation.requested", 2)
    second = await participant_id_of(registration, second_body["email"])

    approved = [
        await secretariat.post(f"/participants/{pid}/accreditation/approve")
        for pid in (first, second)
    ]
    assert [r.json()["status"] for r in approved] == ["confirmed", "waitlisted"]
    await registration.tap.wait_for("registration.waitlisted")

    await secretariat.post(
        f"/participants/{first}/accreditation/reject", json={"reason_en": "Credentials withdrawn."}
    )
    promoted = await registration.tap.wait_for("registration.promoted")
    assert (
        promoted[0]["participant"]["participant_id"] == second and promoted[0]["freed_by"] == first
    )
    await registration.tap.wait_for(
        "badge.issued", 2
    )  # the first's (then revoked) and the promoted one's
    await registration.tap.wait_for("badge.revoked")
    assert (await secretariat.get(f"/participants/{second}/badge.png")).status_code == 200
    await outbox_published(registration)

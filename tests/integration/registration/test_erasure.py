"""Erasure: the participant is anonymised everywhere in registration's database, statistics keep
their counts, and personal data never reaches logs or dead-letter diagnostics (canary values)."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from shared.badges import sign_badge_token
from shared.messaging.topology import DEAD_LETTER_REASON_HEADER
from tests.integration.registration.conftest import (
    BADGE_SECRET,
    RunningRegistration,
    outbox_published,
)
from tests.support.bus import dead_letters, handled_at_least
from tests.support.factories import FORUM_ID, signup

CANARY_GIVEN = "Zorbacanary"
CANARY_FAMILY = "Quillfeathercanary"
CANARY_PHONE = "+50379998877"


@pytest.fixture
def registration_settings(badge_settings):
    return badge_settings


def totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    return {category: sum(by_status.values()) for category, by_status in counts.items()}


async def test_erased_participant_leaves_no_personal_data_and_counts_stay(
    registration: RunningRegistration, secretariat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    canary_email = f"canary.{uuid.uuid4().hex[:8]}@canary-mail.example"
    canaries = [CANARY_GIVEN, CANARY_FAMILY, canary_email, CANARY_PHONE]
    # The person is a delegate, and the delegation's focal point too.
    await secretariat.put(
        "/delegations/CR",
        json={
            "quota": 3,
            "focal_point": {
                "name": f"{CANARY_GIVEN} {CANARY_FAMILY}",
                "email": canary_email,
                "phone": CANARY_PHONE,
            },
        },
    )
    nominated = await secretariat.post(
        "/delegations/CR/members",
        json={
            "given_name": CANARY_GIVEN,
            "family_name": CANARY_FAMILY,
            "email": canary_email,
            "phone": CANARY_PHONE,
            "consents": {"privacy_policy": True, "listed_publicly": True, "photos": True},
        },
    )
    participant_id = nominated.json()["participant_id"]
    await secretariat.post(f"/participants/{participant_id}/accreditation/approve")
    consents = await secretariat.patch(
        f"/participants/{participant_id}/consents", json={"photos": False}
    )
    assert consents.json()["changed"] == ["photos"]
    bystander = signup()
    await registration.send(json.dumps(bystander).encode())
    # A malformed sign-up full of canaries: dead-lettered, and its reason must not repeat them.
    await registration.send(
        json.dumps(
            signup(
                given_name=CANARY_GIVEN,
                family_name=CANARY_FAMILY,
                email=canary_email,
                phone=CANARY_PHONE,
                country="Costa Rica",
            )
        ).encode()
    )
    await handled_at_least(registration.submitted_queue, 1, outcome="dead_lettered", timeout=45)
    issued = await registration.tap.wait_for("badge.issued", 2, timeout=45)
    token_id = next(e["token_id"] for e in issued if e["participant_id"] == participant_id)
    await outbox_published(registration)
    before = totals((await secretariat.get("/statistics/categories")).json())

    erasure = {
        "event_type": "participant.erasure_requested",
        "event_id": str(uuid.uuid4()),
        "producer": "test",
        "forum_id": FORUM_ID,
        "participant_id": participant_id,
    }
    for _ in range(2):  # delivered twice: one erasure
        await registration.send(
            json.dumps(erasure).encode(), routing_key="participant.erasure_requested"
        )
    assert (await secretariat.post(f"/participants/{participant_id}/erasure")).status_code == 202
    # A request naming nobody is dead-lettered with a reason free of personal data.
    await registration.send(
        json.dumps(
            {**erasure, "event_id": str(uuid.uuid4()), "participant_id": str(uuid.uuid4())}
        ).encode(),
        routing_key="participant.erasure_requested",
    )

    erased = await registration.tap.wait_for("participant.erased", timeout=45)
    erasure_queue = next(
        q for q in registration.runtime.queue_names if q.endswith(".erasure-requested")
    )
    await handled_at_least(erasure_queue, 3, timeout=45)
    await handled_at_least(erasure_queue, 1, outcome="dead_lettered", timeout=45)
    await registration.tap.wait_for("badge.revoked", timeout=45)
    await outbox_published(registration)
    await registration.tap.drain()

    assert len(registration.tap.of_type("participant.erased")) == 1
    assert (
        erased[0]["participant_id"] == participant_id
        and erased[0]["category"] == "official_delegate"
    )
    assert not set(erased[0]) & {"given_name", "family_name", "email", "phone"}
    database = registration.deps.repository.collection.database
    for name in await database.list_collection_names():
        async for document in database[name].find({}):
            text = json.dumps(document, default=str, ensure_ascii=False).lower()
            for canary in canaries:
                assert canary.lower() not in text, f"{name} still holds personal data"
    assert totals((await secretariat.get("/statistics/categories")).json()) == before
    stored = await registration.deps.repository.get(participant_id)
    assert (
        stored["erased"]
        and stored["status"] == "cancelled"
        and stored["category"] == "official_delegate"
    )
    assert (await secretariat.get("/delegations/CR")).json()["seats_used"] == 0

    scan = await secretariat.post(
        "/checkins",
        json={"token": sign_badge_token(BADGE_SECRET, FORUM_ID, token_id), "point": "entrance"},
    )
    assert scan.status_code == 403 and scan.json()["detail"]["code"] == "revoked_token"
    reasons = [
        m.headers[DEAD_LETTER_REASON_HEADER]
        for queue in (registration.submitted_queue, erasure_queue)
        for m in await dead_letters(registration.amqp, queue)
    ]
    assert len(reasons) == 2
    logged = caplog.text.lower()
    assert "participant.erased" in logged or participant_id in logged  # the capture works
    for canary in canaries:
        assert canary.lower() not in logged
        assert all(canary.lower() not in reason.lower() for reason in reasons)

"""People on sessions: invitations with travel support, links to registration, erasure; and
what the registration consumers do with a malformed event."""

from __future__ import annotations

import json

from shared.contracts.registration import (
    ParticipantErased,
    RegistrationConfirmed,
    RegistrationUpdated,
)
from shared.messaging.topology import DEAD_LETTER_REASON_HEADER
from tests.integration.scheduling.conftest import SLOW, RunningScheduling
from tests.support.bus import dead_letters, eventually, handled_at_least, publish_json


async def test_panelist_invitation_accepted_with_travel_support_within_the_budget_line(
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    panel = [
        {
            "name": "Carla Méndez",
            "role": "panelist",
            "email": "carla@example.org",
            "affiliation": "Remesas GT",
            "country": "GT",
        },
        {"name": "Omar Ruiz", "role": "panelist", "email": "omar@example.org", "country": "HN"},
    ]
    people = (await http.put("/programme/sessions/B2.1/people", headers=auth, json=panel)).json()[
        "people"
    ]
    carla, omar = people[0]["person_id"], people[1]["person_id"]
    base = "/programme/sessions/B2.1/people"

    invited = await http.post(
        f"{base}/{carla}/invitation", headers=auth, json={"travel_support": True}
    )
    assert invited.json()["invitation"]["status"] == "invited"
    early = await http.post(f"{base}/{carla}/travel-support", headers=auth, json={"amount": "800"})
    assert early.status_code == 409 and "accepted" in early.json()["detail"]["reason"]
    assert (await http.post(f"{base}/{carla}/invitation/accept", headers=auth)).status_code == 200
    committed = await http.post(
        f"{base}/{carla}/travel-support", headers=auth, json={"amount": "4200.50"}
    )
    assert committed.status_code == 200 and committed.json()["committed_total"] == "4200.50"

    await http.post(f"{base}/{omar}/invitation", headers=auth, json={"travel_support": True})
    await http.post(f"{base}/{omar}/invitation/accept", headers=auth)
    over = await http.post(f"{base}/{omar}/travel-support", headers=auth, json={"amount": "1000"})
    assert over.status_code == 409 and "799.50" in over.json()["detail"]["reason"]

    # Carla declines after all: her commitment is withdrawn, and the line has room for Omar.
    assert (await http.post(f"{base}/{carla}/invitation/decline", headers=auth)).status_code == 200
    assert (
        await http.post(f"{base}/{carla}/invitation/decline", headers=auth)
    ).status_code == 200  # twice: once
    assert (
        await http.post(f"{base}/{omar}/travel-support", headers=auth, json={"amount": "1000"})
    ).status_code == 200
    [withdrawn] = await scheduling.tap.wait_for("travel_support.cancelled")
    assert (
        withdrawn["amount"] == "4200.50"
        and withdrawn["committed_total"] == "0.00"
        and withdrawn["person_id"] == carla
    )
    await http.post(f"{base}/{omar}/invitation/decline", headers=auth)

    support, _ = await scheduling.tap.wait_for("travel_support.committed", 2)
    assert support["amount"] == "4200.50" and support["budget_line"] == "panelist_support"
    assert (
        support["line_amount"] == "5000.00"
        and support["person_id"] == carla
        and support["currency"] == "USD"
    )
    assert withdrawn["support_id"] == support["support_id"]
    invited_events = await scheduling.tap.wait_for("panelist.invited", 2)
    assert {e["country"] for e in invited_events} == {"GT", "HN"} and all(
        e["travel_support_requested"] for e in invited_events
    )
    assert len(await scheduling.tap.wait_for("panelist.accepted", 2)) == 2
    declined = await scheduling.tap.wait_for("panelist.declined", 2)
    assert [d["person_id"] for d in declined] == [carla, omar] and declined[0]["role"] == "panelist"
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await scheduling.tap.drain()
    assert len(scheduling.tap.of_type("travel_support.cancelled")) == 2  # Omar's 1000 too


async def test_people_link_to_registered_participants_and_an_erased_participant_is_forgotten(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    # On the programme before registering: linked when registration confirms the same e-mail.
    await http.put(
        "/programme/sessions/B4.1/people",
        headers=auth,
        json=[
            {
                "name": "Lucía Flores",
                "role": "rapporteur",
                "email": "lucia.flores@example.org",
                "country": "SV",
            },
            {"name": "Otro Orador", "role": "speaker"},
        ],
    )
    lucia = await scheduling.confirmed_participant(
        given_name="Lucía", family_name="Flores", email="lucia.flores@example.org"
    )
    participant_id = str(lucia.participant_id)

    async def linked() -> bool:
        session = await scheduling.session("B4.1")
        return session["people"][0].get("participant_id") == participant_id

    await eventually(linked, what="person linked to the participant")
    assert (
        await http.post(
            "/sessions/B4.1/signups",
            json={"participant_id": participant_id},
            headers=scheduling.as_participant(participant_id),
        )
    ).status_code == 201
    assert (await http.post("/programme/releases", headers=auth)).status_code == 201

    erased = ParticipantErased(
        producer="registration",
        forum_id=lucia.forum_id,
        participant_id=lucia.participant_id,
        category=lucia.category,
        country=lucia.country,
        previous_status="confirmed",
    )
    await scheduling.publish_event(erased)
    await scheduling.publish_event(erased)  # delivered twice: one effect
    queue = next(q for q in scheduling.runtime.queue_names if q.endswith("participant-erased"))
    await handled_at_least(queue, 2)

    session = await scheduling.session("B4.1")
    rapporteur = session["people"][0]
    assert rapporteur["role"] == "rapporteur" and rapporteur["name"] is None
    assert rapporteur["email"] is None and rapporteur.get("phone") is None and rapporteur["erased"]
    assert session["people"][1]["name"] == "Otro Orador"
    assert session["confirmed"] == [participant_id]  # the count stays
    projected = await scheduling.deps.repository.participant(participant_id)
    assert (
        projected["email"] is None
        and projected["given_name"] is None
        and projected["phone"] is None
    )
    release = await scheduling.deps.repository.latest_release(scheduling.deps.forum_id)
    b41 = next(s for s in release["sessions"] if s["code"] == "B4.1")
    assert b41["people"][0]["name"] is None and b41["signed_up"] == 1
    agenda = (await http.get("/agenda")).json()
    assert "Lucía" not in json.dumps(agenda)

    # A late snapshot from registration does not bring the data back.
    await scheduling.publish_event(
        RegistrationUpdated(producer="registration", participant=lucia, changed_fields=["phone"])
    )
    await handled_at_least(
        next(q for q in scheduling.runtime.queue_names if q.endswith("registration-updated")), 1
    )
    assert (await scheduling.deps.repository.participant(participant_id))["email"] is None

    # Registering again after the erasure (a later confirmation) is a new start.
    await scheduling.publish_event(
        RegistrationConfirmed(
            producer="registration", participant=lucia, submission_id="form-again"
        )
    )

    async def back() -> bool:
        return (await scheduling.deps.repository.participant(participant_id))[
            "email"
        ] == lucia.email

    await eventually(back, what="re-registered participant projected")


async def test_a_malformed_registration_event_is_dead_lettered_with_a_reason(
    scheduling: RunningScheduling,
) -> None:
    queue = next(q for q in scheduling.runtime.queue_names if q.endswith("registration-confirmed"))
    await publish_json(
        scheduling.amqp,
        scheduling.runtime.topology.events.name,
        "registration.confirmed",
        json.dumps(
            {"event_type": "registration.confirmed", "producer": "x", "participant": {}}
        ).encode(),
    )
    await handled_at_least(queue, 1, outcome="dead_lettered")
    [message] = await dead_letters(scheduling.amqp, queue)
    reason = message.headers[DEAD_LETTER_REASON_HEADER]
    assert "participant.participant_id: Field required" in reason and "submission_id" in reason
    assert await scheduling.deps.repository.participants.collection.count_documents({}) == 0

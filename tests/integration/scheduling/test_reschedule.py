"""Moving or cancelling a published session tells exactly the people it concerns."""

from __future__ import annotations

from tests.integration.scheduling.conftest import SLOW, RunningScheduling
from tests.support.bus import eventually


async def test_moving_a_session_publishes_one_rescheduled_event_naming_exactly_the_affected_people(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    moderator = await scheduling.confirmed_participant(
        given_name="Marta", family_name="Díaz", language="en"
    )
    attendee = await scheduling.confirmed_participant(given_name="Pedro", family_name="Gómez")
    elsewhere = await scheduling.confirmed_participant(given_name="Rosa", family_name="Sol")
    ids = [str(p.participant_id) for p in (moderator, attendee, elsewhere)]
    await scheduling.projected(*ids)

    people = [
        {
            "name": "Sam Speaker",
            "role": "speaker",
            "email": "sam@example.org",
            "affiliation": "Banco X",
            "country": "US",
            "language": "en",
        },
        # registered: linked by e-mail, and also signed up as an attendee — told once, as moderator
        {"name": "Marta Díaz", "role": "moderator", "email": moderator.email, "country": "SV"},
        {"name": "Rapporteur R", "role": "rapporteur", "email": "rr@example.org"},
    ]
    assert (
        await http.put("/programme/sessions/B2.1/people", headers=auth, json=people)
    ).status_code == 200
    for participant_id, code in ((ids[0], "B2.1"), (ids[1], "B2.1"), (ids[2], "B2.2")):
        response = await http.post(
            f"/sessions/{code}/signups",
            json={"participant_id": participant_id},
            headers=scheduling.as_participant(participant_id),
        )
        assert response.status_code == 201 and response.json()["status"] == "confirmed", (
            response.text
        )
    assert (await http.post("/programme/releases", headers=auth, json={})).status_code == 201

    moved = await http.patch(
        "/programme/sessions/B2.1",
        headers=auth,
        json={"room": "breakout_a", "starts_at": "2004-11-18T14:35:00", "expected_audience": 100},
    )
    assert moved.status_code == 200
    release = await http.post(
        "/programme/releases", headers=auth, json={"note": "B2.1 a la sala A"}
    )
    assert release.status_code == 201, release.text
    assert release.json()["changes"]["moved"] == ["B2.1"]

    events = await scheduling.tap.wait_for("session.rescheduled")
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await scheduling.tap.drain()
    assert len(scheduling.tap.of_type("session.rescheduled")) == 1
    event = events[0]
    assert event["session_code"] == "B2.1" and event["release"] == 3
    assert event["previous"]["room"] == "plenary" and event["current"]["room"] == "breakout_a"
    assert event["previous"]["starts_at"] == "2004-11-18T20:30:00Z"
    assert event["current"]["starts_at"] == "2004-11-18T20:35:00Z"
    assert event["current"]["time_zone"] == "America/El_Salvador"
    affected = {
        (a["relation"], a["name"], a["email"], a["participant_id"], a["language"])
        for a in event["affected"]
    }
    assert affected == {
        ("speaker", "Sam Speaker", "sam@example.org", None, "en"),
        ("moderator", "Marta Díaz", moderator.email, ids[0], "en"),
        ("rapporteur", "Rapporteur R", "rr@example.org", None, "es"),
        ("attendee", "Pedro Gómez", attendee.email, ids[1], "es"),
    }
    assert len(event["affected"]) == 4

    # The attendee's held time follows the move: an overlap check uses the new time.
    holds = (await scheduling.deps.repository.holds_of(scheduling.deps.attendance_id(ids[1])))[
        "holds"
    ]
    assert [(h["code"], h["starts_at"].isoformat()) for h in holds] == [
        ("B2.1", "2004-11-18T20:35:00+00:00")
    ]


async def test_cancelling_a_session_publishes_session_cancelled_with_its_people_and_attendees(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    [first, second] = await scheduling.confirm_many(2)
    for participant_id in (first, second):
        assert (
            await http.post(
                "/sessions/B1.3/signups",
                json={"participant_id": participant_id},
                headers=scheduling.as_participant(participant_id),
            )
        ).status_code == 201
    await http.put(
        "/programme/sessions/B1.3/people", headers=auth, json=[{"name": "Chair C", "role": "chair"}]
    )

    await http.post(
        "/programme/sessions/B1.3/cancel", headers=auth, json={"reason": "Ponente enfermo"}
    )
    release = await http.post("/programme/releases", headers=auth)
    assert release.json()["changes"]["cancelled"] == ["B1.3"]

    [cancelled] = await scheduling.tap.wait_for("session.cancelled")
    assert cancelled["reason"] == "Ponente enfermo"
    assert sorted((a["relation"], a["participant_id"]) for a in cancelled["affected"]) == sorted(
        [("chair", None), ("attendee", first), ("attendee", second)]
    )
    assert not scheduling.tap.of_type("session.rescheduled")
    # Attendees get their time back, and the cancelled session takes no more sign-ups.
    assert (await scheduling.deps.repository.holds_of(scheduling.deps.attendance_id(first)))[
        "holds"
    ] == []
    late = await http.post(
        "/sessions/B1.3/signups",
        json={"participant_id": first},
        headers=scheduling.as_participant(first),
    )
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]["reason"]
    agenda = (await http.get("/agenda")).json()
    b13 = next(i for i in agenda["days"][0]["items"] if i["code"] == "B1.3")
    assert b13["status"] == "cancelled"

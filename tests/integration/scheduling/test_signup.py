"""Session sign-up for confirmed participants: capacity, waitlist, promotion, overlaps."""

from __future__ import annotations

import asyncio
import json

from tests.integration.scheduling.conftest import SLOW, RunningScheduling
from tests.support.bus import eventually, handled_at_least


async def test_twenty_concurrent_sign_ups_for_the_last_three_seats_confirm_exactly_three(
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    assert (
        await http.patch("/programme/sessions/B2.4", headers=auth, json={"seats": 5})
    ).status_code == 200
    early, *crowd = await scheduling.confirm_many(22)
    second, crowd = crowd[0], crowd[1:]
    for participant_id in (early, second):
        assert (
            await http.post(
                "/sessions/B2.4/signups",
                json={"participant_id": participant_id},
                headers=scheduling.as_participant(participant_id),
            )
        ).json()["status"] == "confirmed"

    responses = await asyncio.gather(
        *(
            http.post(
                "/sessions/B2.4/signups",
                json={"participant_id": pid},
                headers=scheduling.as_participant(pid),
            )
            for pid in crowd
        )
    )
    assert all(r.status_code == 201 for r in responses), [
        r.text for r in responses if r.status_code != 201
    ]
    outcomes = [r.json()["status"] for r in responses]
    assert outcomes.count("confirmed") == 3 and outcomes.count("waitlisted") == 17
    session = await scheduling.session("B2.4")
    assert len(session["confirmed"]) == 5 and len(set(session["confirmed"])) == 5
    assert len(session["waitlist"]) == 17
    positions = sorted(
        r.json()["position"] for r in responses if r.json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, 18))

    await scheduling.tap.wait_for("session.signup_waitlisted", 17, timeout=SLOW)
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await scheduling.tap.drain()
    assert len(scheduling.tap.of_type("session.signup_confirmed")) == 5

    # A seat given up goes to the first on the waitlist.
    first_waiting = session["waitlist"][0]
    left = await http.delete(
        f"/sessions/B2.4/signups/{early}", headers=scheduling.as_participant(early)
    )
    assert left.json()["promoted"] == [first_waiting]
    [promoted] = await scheduling.tap.wait_for("session.signup_promoted")
    assert promoted["participant_id"] == first_waiting and promoted["session_code"] == "B2.4"


async def test_a_participant_cannot_hold_two_overlapping_sessions(
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    await http.post(
        "/programme/sessions",
        headers=auth,
        json={
            "code": "B1.2-A",
            "kind": "session",
            "parent": "B1",
            "title": {"es": "Taller", "en": "Workshop"},
            "starts_at": "2004-11-18T11:20:00",
            "ends_at": "2004-11-18T12:00:00",
            "room": "breakout_a",
        },
    )
    [participant, other] = await scheduling.confirm_many(2)

    assert (
        await http.post(
            "/sessions/B1.2/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).status_code == 201
    refused = await http.post(
        "/sessions/B1.2-A/signups",
        json={"participant_id": participant},
        headers=scheduling.as_participant(participant),
    )
    assert refused.status_code == 409
    assert (
        refused.json()["detail"]["overlaps"] == "B1.2"
        and "B1.2" in refused.json()["detail"]["reason"]
    )
    # Back to back is fine, and asking twice for the same session is harmless.
    assert (
        await http.post(
            "/sessions/B1.1/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).status_code == 201
    assert (
        await http.post(
            "/sessions/B1.2/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).json()["status"] == "confirmed"

    # Two overlapping sign-ups at the same moment: exactly one wins.
    both = await asyncio.gather(
        http.post(
            "/sessions/B1.2/signups",
            json={"participant_id": other},
            headers=scheduling.as_participant(other),
        ),
        http.post(
            "/sessions/B1.2-A/signups",
            json={"participant_id": other},
            headers=scheduling.as_participant(other),
        ),
    )
    assert sorted(r.status_code for r in both) == [201, 409]
    held = await scheduling.deps.repository.holds_of(scheduling.deps.attendance_id(other))
    assert len(held["holds"]) == 1

    # Giving one up frees the time for the other.
    winner = "B1.2" if both[0].status_code == 201 else "B1.2-A"
    loser = "B1.2-A" if winner == "B1.2" else "B1.2"
    assert (
        await http.delete(
            f"/sessions/{winner}/signups/{other}", headers=scheduling.as_participant(other)
        )
    ).status_code == 200
    assert (
        await http.post(
            f"/sessions/{loser}/signups",
            json={"participant_id": other},
            headers=scheduling.as_participant(other),
        )
    ).status_code == 201


async def test_only_confirmed_participants_sign_up_and_blocks_or_breaks_take_none(
    scheduling: RunningScheduling,
) -> None:
    http = scheduling.http
    stranger = "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"
    refused = await http.post(
        "/sessions/B1.1/signups",
        json={"participant_id": stranger},
        headers=scheduling.as_participant(stranger),
    )
    assert (
        refused.status_code == 403
        and "confirmed participants" in refused.json()["detail"]["reason"]
    )
    [participant] = await scheduling.confirm_many(1)
    assert (
        await http.post(
            "/sessions/B1/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).status_code == 409
    assert (
        await http.post(
            "/sessions/LUNCH1/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).status_code == 409
    assert (
        await http.post(
            "/sessions/NOPE/signups",
            json={"participant_id": participant},
            headers=scheduling.as_participant(participant),
        )
    ).status_code == 404


async def test_a_cancelled_registration_delivered_twice_frees_the_seat_once(
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    await http.patch("/programme/sessions/B2.5", headers=auth, json={"seats": 1})
    holder = await scheduling.confirmed_participant()
    [waiting, next_waiting] = await scheduling.confirm_many(2)
    await scheduling.projected(str(holder.participant_id))
    for participant_id in (str(holder.participant_id), waiting, next_waiting):
        await http.post(
            "/sessions/B2.5/signups",
            json={"participant_id": participant_id},
            headers=scheduling.as_participant(participant_id),
        )

    cancellation = await scheduling.cancel_registration(holder)
    await scheduling.publish_event(
        type(cancellation).model_validate(json.loads(cancellation.model_dump_json()))
    )
    queue = next(q for q in scheduling.runtime.queue_names if q.endswith("registration-cancelled"))
    await handled_at_least(queue, 2)
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await scheduling.tap.drain()

    assert len(scheduling.tap.of_type("session.signup_cancelled")) == 1
    promoted = scheduling.tap.of_type("session.signup_promoted")
    assert [p["participant_id"] for p in promoted] == [waiting]
    session = await scheduling.session("B2.5")
    assert session["confirmed"] == [waiting] and session["waitlist"] == [next_waiting]
    projected = await scheduling.deps.repository.participant(str(holder.participant_id))
    assert projected["status"] == "cancelled"


async def test_only_the_participant_or_the_secretariat_signs_a_participant_up(
    scheduling: RunningScheduling,
) -> None:
    http = scheduling.http
    ana, beto = await scheduling.confirm_many(2)
    # Ids derive from e-mail addresses: knowing one must not be enough to act for that person.
    anonymous = await http.post("/sessions/B2.1/signups", json={"participant_id": ana})
    impostor = await http.post(
        "/sessions/B2.1/signups",
        json={"participant_id": ana},
        headers=scheduling.as_participant(beto),
    )
    forged = await http.post(
        "/sessions/B2.1/signups",
        json={"participant_id": ana},
        headers={"Authorization": f"Bearer {ana}.0000"},
    )
    assert [anonymous.status_code, impostor.status_code, forged.status_code] == [401, 403, 401]
    by_secretariat = await http.post(
        "/sessions/B2.1/signups", json={"participant_id": ana}, headers=scheduling.secretariat
    )
    assert by_secretariat.status_code == 201
    assert (
        await http.delete(f"/sessions/B2.1/signups/{ana}", headers=scheduling.as_participant(beto))
    ).status_code == 403

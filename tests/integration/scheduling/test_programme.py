"""The programme from the pack, its conflicts, and publishing releases."""

from __future__ import annotations

import asyncio

from services.scheduling.deps import Scheduling
from services.scheduling.programme.handlers import seed_programme
from services.scheduling.releases.handlers import publish_on_start
from shared.pack import load_pack
from tests.integration.scheduling.conftest import SLOW, RunningScheduling
from tests.support.bus import eventually


async def test_default_pack_loads_into_a_conflict_free_programme_published_as_release_1(
    scheduling: RunningScheduling,
) -> None:
    published = await scheduling.tap.wait_for("programme.published")
    assert published[0]["release"] == 1 and published[0]["sessions"] == 25
    assert published[0]["changes"]["moved"] == [] and len(published[0]["changes"]["added"]) == 25

    conflicts = (
        await scheduling.http.get("/programme/conflicts", headers=scheduling.secretariat)
    ).json()
    assert conflicts["errors"] == []
    # The pack names nobody yet, so every session still lacks a rapporteur: warnings, not errors.
    assert {w["kind"] for w in conflicts["warnings"]} == {"no_rapporteur"}

    agenda = (await scheduling.http.get("/agenda")).json()
    assert agenda["time_zone"] == "America/El_Salvador" and agenda["release"] == 1
    assert {r["code"]: r["capacity"] for r in agenda["rooms"]} == {
        "plenary": 400,
        "breakout_a": 120,
        "breakout_b": 120,
        "expo_stage": 80,
    }
    day1, day2 = agenda["days"]
    assert day1["expo_hours"] == {"opens_at": "09:45", "closes_at": "18:30"}
    assert day2["expo_hours"] == {"opens_at": "08:30", "closes_at": "17:30"}
    codes1 = [i["code"] for i in day1["items"]]
    assert codes1[:3] == ["INAUG", "EXPO-OPEN", "BRK1"]
    assert {"B1", "B1.1", "B1.2", "B1.3", "B1.4", "B2", "B2.6", "LUNCH1"} <= set(codes1)
    codes2 = [i["code"] for i in day2["items"]]
    assert {"B3", "B3.1", "B4", "B4.1", "CLOSE"} <= set(codes2) and codes2[-1] == "CLOSE"
    inauguration = day1["items"][0]
    assert inauguration["starts_at"] == "2004-11-18T09:00:00-06:00"
    assert inauguration["title"] == {"es": "Inauguración del foro", "en": "Opening of the forum"}
    b12 = next(i for i in day1["items"] if i["code"] == "B1.2")
    assert len(b12["topics"]) == 7 and b12["parent"] == "B1" and b12["room"]["code"] == "plenary"

    # A restart (or a second replica) seeds nothing new and publishes no second release 1.
    seeded = await seed_programme(scheduling.deps)
    assert (seeded.added, seeded.updated) == (0, 0)
    assert await publish_on_start(scheduling.deps, seeded) is None
    assert len(await scheduling.deps.repository.draft(scheduling.deps.forum_id)) == 25


async def kinds(scheduling: RunningScheduling) -> dict[str, list[dict]]:
    found = (
        await scheduling.http.get("/programme/conflicts", headers=scheduling.secretariat)
    ).json()
    out: dict[str, list[dict]] = {}
    for conflict in found["errors"] + found["warnings"]:
        out.setdefault(conflict["kind"], []).append(conflict)
    return out


async def publish(scheduling: RunningScheduling):
    return await scheduling.http.post(
        "/programme/releases", json={"note": "test"}, headers=scheduling.secretariat
    )


async def test_each_conflict_kind_is_detected_with_its_reason_and_publishing_waits_for_the_fix(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    ana = {
        "name": "Ana Torres",
        "role": "panelist",
        "email": "ana.torres@example.org",
        "affiliation": "OIM",
    }

    # two sessions in one room at once
    response = await http.post(
        "/programme/sessions",
        headers=auth,
        json={
            "code": "X1",
            "kind": "session",
            "parent": "B2",
            "title": {"es": "Extra", "en": "Extra"},
            "starts_at": "2004-11-18T15:00:00",
            "ends_at": "2004-11-18T15:20:00",
            "room": "plenary",
            "expected_audience": 100,
        },
    )
    assert response.status_code == 201, response.text
    # one person in two places at once (X2 is in another room, at the time of B1.2)
    await http.post(
        "/programme/sessions",
        headers=auth,
        json={
            "code": "X2",
            "kind": "session",
            "parent": "B1",
            "title": {"es": "Paralela", "en": "Parallel"},
            "starts_at": "2004-11-18T11:10:00-06:00",
            "ends_at": "2004-11-18T11:30:00-06:00",
            "room": "breakout_a",
        },
    )
    assert (
        await http.put("/programme/sessions/B1.2/people", headers=auth, json=[ana])
    ).status_code == 200
    assert (
        await http.put("/programme/sessions/X2/people", headers=auth, json=[ana])
    ).status_code == 200
    # outside the venue's hours, and above the room's capacity
    assert (
        await http.patch(
            "/programme/sessions/CLOSE", headers=auth, json={"ends_at": "2004-11-19T21:00:00"}
        )
    ).status_code == 200
    assert (
        await http.patch("/programme/sessions/B2.1", headers=auth, json={"expected_audience": 450})
    ).status_code == 200

    found = await kinds(scheduling)
    room = found["room_double_booked"]
    assert [set(c["sessions"]) for c in room] == [{"B2.2", "X1"}]
    assert "plenary" in room[0]["reason_en"] and "15:00-15:25" in room[0]["reason_en"]
    person = found["person_double_booked"]
    assert person[0]["sessions"] == ["B1.2", "X2"] and "Ana Torres" in person[0]["reason_en"]
    assert found["outside_venue_hours"][0]["sessions"] == ["CLOSE"]
    assert "20:00" in found["outside_venue_hours"][0]["reason_en"]
    assert (
        found["over_capacity"][0]["sessions"] == ["B2.1"]
        and "seats 400" in found["over_capacity"][0]["reason_en"]
    )
    assert "X2" in {c["sessions"][0] for c in found["no_rapporteur"]}
    assert all(c["severity"] == "warning" for c in found["no_rapporteur"])

    fixes = [
        ("/programme/sessions/X1", {"room": "breakout_b"}),
        (
            "/programme/sessions/X2",
            {"starts_at": "2004-11-18T11:40:00", "ends_at": "2004-11-18T12:00:00"},
        ),
        ("/programme/sessions/CLOSE", {"ends_at": "2004-11-19T17:30:00"}),
        ("/programme/sessions/B2.1", {"expected_audience": 350}),
    ]
    for path, fix in fixes:
        refused = await publish(scheduling)
        assert refused.status_code == 409
        assert refused.json()["detail"]["conflicts"], "a refusal lists what to fix"
        assert (await http.patch(path, headers=auth, json=fix)).status_code == 200
    # B1.2 (11:00-11:40) and X2 moved to 11:40: back to back is no conflict.
    assert {k for k in await kinds(scheduling)} == {"no_rapporteur"}

    # The rapporteur warning clears when the block gets one; it never blocks publishing.
    rapporteur = {"name": "Luis Rivas", "role": "rapporteur", "email": "luis.rivas@example.org"}
    await http.put("/programme/sessions/B1/people", headers=auth, json=[rapporteur])
    assert not {"B1.1", "B1.2", "X2"} & {
        c["sessions"][0] for c in (await kinds(scheduling))["no_rapporteur"]
    }

    published = await publish(scheduling)
    assert published.status_code == 201, published.text
    body = published.json()
    assert body["release"] == 2
    assert body["changes"]["added"] == ["X1", "X2"]
    assert body["changes"]["people_changed"] == ["B1", "B1.2"]
    assert (await publish(scheduling)).status_code == 409  # nothing changed since release 2
    releases = (await http.get("/programme/releases", headers=auth)).json()
    assert [r["number"] for r in releases] == [2, 1]


async def test_the_secretariat_api_needs_a_token(scheduling: RunningScheduling) -> None:
    assert (await scheduling.http.get("/programme/conflicts")).status_code == 401
    assert (await scheduling.http.post("/programme/releases")).status_code == 401


async def test_a_restart_with_moved_forum_dates_moves_the_unedited_programme_and_publishes_it(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    await http.patch(
        "/programme/sessions/B2.2", headers=auth, json={"expected_audience": 200}
    )  # edited: kept
    moved = Scheduling(
        pack=load_pack(overrides={"forum.start_date": "2026-11-18"}),
        repository=scheduling.deps.repository,
        settings=scheduling.deps.settings,
    )
    seeded = await seed_programme(moved)
    assert (seeded.added, seeded.updated) == (0, 25)
    release = await publish_on_start(moved, seeded)
    assert release is not None and release["number"] == 2
    assert len(release["changes"]["moved"]) == 25
    inauguration, b22 = await scheduling.session("INAUG"), await scheduling.session("B2.2")
    assert inauguration["starts_at"].isoformat() == "2026-11-18T15:00:00+00:00"
    assert (
        b22["starts_at"].isoformat() == "2026-11-18T21:00:00+00:00"
        and b22["expected_audience"] == 200
    )
    await scheduling.tap.wait_for("session.rescheduled", 25, timeout=SLOW)


async def test_two_secretaries_publishing_at_once_make_one_release(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat
    await http.patch(
        "/programme/sessions/B2.5", headers=auth, json={"starts_at": "2004-11-18T16:35:00"}
    )
    answers = await asyncio.gather(*(publish(scheduling) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    assert [r["number"] for r in (await http.get("/programme/releases", headers=auth)).json()] == [
        2,
        1,
    ]
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await scheduling.tap.drain()
    assert len(scheduling.tap.of_type("session.rescheduled")) == 1

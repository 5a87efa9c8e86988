"""B2B meetings: requested, accepted or declined; placed clear of both parties' sessions and
meetings, with a table, even when several are accepted at once; capped per participant."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from shared.contracts.scheduling import LocalizedText, SessionSignupConfirmed, Slot
from shared.pack import load_pack
from tests.integration.expo.conftest import SECRETARIAT, RunningExpo, bearer
from tests.support.bus import eventually

PACK = load_pack()
TZ = PACK.forum.tz
DAY_ONE = PACK.forum.dates[0]


def local(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY_ONE, datetime.min.time(), TZ).replace(hour=hour, minute=minute)


def overlapping(holds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    ordered = sorted(holds, key=lambda h: h["starts_at"])
    return [
        (a["id"], b["id"]) for a, b in itertools.pairwise(ordered) if b["starts_at"] < a["ends_at"]
    ]


async def calendar(expo: RunningExpo, kind: str, party_id: str) -> list[dict[str, Any]]:
    return ((await expo.deps.repository.calendars.get(f"{kind}:{party_id}")) or {}).get("holds", [])


async def meet(
    expo: RunningExpo,
    requester_token: str,
    invitee: dict[str, str],
    invitee_token: str,
    answer: str = "accept",
) -> dict[str, Any]:
    async with expo.http() as http:
        requested = await http.post(
            "/meetings",
            json={"invitee": invitee, "topic": "Remesas productivas"},
            headers=bearer(requester_token),
        )
        assert requested.status_code == 201, requested.text
        answered = await http.post(
            f"/meetings/{requested.json()['meeting_id']}/{answer}", headers=bearer(invitee_token)
        )
    assert answered.status_code == 200, answered.text
    return answered.json()


async def test_a_meeting_is_never_placed_on_a_session_or_another_meeting(expo: RunningExpo) -> None:
    ana = await expo.confirmed_participant()
    beto = await expo.confirmed_participant()
    ana_token, beto_token = await expo.participant_token(ana), await expo.participant_token(beto)
    exhibitors = [await expo.approved_exhibitor() for _ in range(5)]

    # Ana sits in a session 09:45-10:45; Beto already meets an exhibitor at the first slot.
    session = SessionSignupConfirmed(
        producer="scheduling",
        forum_id=PACK.forum.id,
        session_code="B1.1",
        participant_id=ana,
        title=LocalizedText(es="El Fenómeno Migratorio", en="The migration phenomenon"),
        slot=Slot(
            starts_at=local(9, 45),
            ends_at=local(10, 45),
            time_zone=PACK.forum.time_zone,
            room="plenary",
        ),
    )
    await expo.publish(session)
    await expo.publish(session)  # delivered twice: one hold

    async def session_held() -> bool:
        return any(h["kind"] == "session" for h in await calendar(expo, "participant", ana))

    await eventually(session_held, what="session projected into Ana's calendar")
    first_id, first_token, _ = exhibitors[0]
    with_exhibitor = await meet(
        expo, beto_token, {"kind": "exhibitor", "id": first_id}, first_token
    )
    assert with_exhibitor["status"] == "confirmed"
    assert datetime.fromisoformat(with_exhibitor["starts_at"]) == local(9, 45)

    both = await meet(expo, ana_token, {"kind": "participant", "id": beto}, beto_token)
    assert both["status"] == "confirmed" and both["table"] >= 1
    assert datetime.fromisoformat(both["starts_at"]) == local(10, 45)

    # Four exhibitors accept Ana's requests at the same moment: four distinct, clear slots.
    async with expo.http() as http:
        requests = [
            await http.post(
                "/meetings",
                json={"invitee": {"kind": "exhibitor", "id": e_id}, "topic": "Alianza"},
                headers=bearer(ana_token),
            )
            for e_id, _, _ in exhibitors[1:]
        ]
        accepted = await asyncio.gather(
            *(
                http.post(f"/meetings/{r.json()['meeting_id']}/accept", headers=bearer(token))
                for r, (_, token, _) in zip(requests, exhibitors[1:], strict=True)
            )
        )
        wrong_side = await http.post(
            f"/meetings/{requests[0].json()['meeting_id']}/accept", headers=bearer(ana_token)
        )
        by_staff = await http.post(
            f"/meetings/{requests[0].json()['meeting_id']}/decline", headers=SECRETARIAT
        )
        staff_meetings = await http.get("/meetings", headers=SECRETARIAT)

    assert [a.json()["status"] for a in accepted] == ["confirmed"] * 4
    assert wrong_side.status_code == 403
    for refused in (by_staff, staff_meetings):  # staff act for nobody in a meeting
        assert refused.status_code == 403
        assert refused.json()["detail"]["code"] == "meeting_party_required"
    ana_holds = await calendar(expo, "participant", ana)
    assert len(ana_holds) == 6 and overlapping(ana_holds) == []
    assert overlapping(await calendar(expo, "participant", beto)) == []
    for answer in accepted:
        assert datetime.fromisoformat(answer.json()["starts_at"]) >= local(10, 45)
    confirmed = await expo.wait_events(
        "meeting.confirmed", 5, lambda e: ana in (e["requester"]["id"], e["invitee"]["id"])
    )
    assert len(confirmed) == 5
    tables = {(e["starts_at"], e["table"]) for e in await expo.events("meeting.confirmed")}
    assert len(tables) == len(
        await expo.events("meeting.confirmed")
    )  # one meeting per table and slot


async def test_declined_meetings_free_the_cap_and_the_cap_is_enforced(expo: RunningExpo) -> None:
    cap = expo.deps.settings.meeting_cap
    carla = await expo.confirmed_participant()
    carla_token = await expo.participant_token(carla)
    others = [await expo.confirmed_participant() for _ in range(cap + 1)]
    tokens = [await expo.participant_token(o) for o in others]

    declined = await meet(
        expo, carla_token, {"kind": "participant", "id": others[0]}, tokens[0], answer="decline"
    )
    assert declined["status"] == "declined" and declined["explanation"]["code"] == "declined"
    await expo.wait_events(
        "meeting.declined", 1, lambda e: e["meeting_id"] == declined["meeting_id"]
    )

    async with expo.http() as http:
        answers = [
            await http.post(
                "/meetings",
                json={"invitee": {"kind": "participant", "id": o}, "topic": "Empleo"},
                headers=bearer(carla_token),
            )
            for o in others
        ]
        unknown = await http.post(
            "/meetings",
            json={"invitee": {"kind": "participant", "id": str(uuid.uuid4())}, "topic": "Empleo"},
            headers=bearer(carla_token),
        )
    assert [a.status_code for a in answers] == [201] * cap + [409]
    assert answers[-1].json()["detail"]["code"] == "meeting_cap_reached"
    assert unknown.status_code == 404
    requested = await expo.wait_events(
        "meeting.requested", cap + 1, lambda e: e["requester"]["id"] == carla
    )
    assert len(requested) == cap + 1


async def test_a_session_signed_up_later_moves_the_meeting_off_it(expo: RunningExpo) -> None:
    dora = await expo.confirmed_participant()
    dora_token = await expo.participant_token(dora)
    exhibitor_id, exhibitor_token, _ = await expo.approved_exhibitor()
    placed = await meet(
        expo, dora_token, {"kind": "exhibitor", "id": exhibitor_id}, exhibitor_token
    )
    assert datetime.fromisoformat(placed["starts_at"]) == local(9, 45)

    session = SessionSignupConfirmed(
        producer="scheduling",
        forum_id=PACK.forum.id,
        session_code="EXPO-OPEN",
        participant_id=dora,
        title=LocalizedText(es="Inauguración de la exposición", en="Opening of the Expo"),
        slot=Slot(
            starts_at=local(9, 30),
            ends_at=local(10, 30),
            time_zone=PACK.forum.time_zone,
            room="expo_stage",
        ),
    )
    await expo.publish(session)
    moved = await expo.wait_events(
        "meeting.confirmed",
        1,
        lambda e: e["meeting_id"] == placed["meeting_id"] and e["previous_starts_at"] is not None,
    )
    assert datetime.fromisoformat(moved[0]["previous_starts_at"]) == local(9, 45)
    assert datetime.fromisoformat(moved[0]["starts_at"]) == local(10, 45)
    assert moved[0]["explanation"]["code"] == "session_conflict"
    meeting = await expo.deps.repository.meeting(placed["meeting_id"])
    assert meeting["status"] == "confirmed" and meeting["starts_at"] == local(10, 45)
    for kind, party in (("participant", dora), ("exhibitor", exhibitor_id)):
        holds = await calendar(expo, kind, party)
        assert overlapping(holds) == []
        assert [h["starts_at"] for h in holds if h["kind"] == "meeting"] == [local(10, 45)]
    old_tables = await expo.deps.repository.tables.get(
        f"tables:{local(9, 45).astimezone(UTC).isoformat()}"
    )
    assert f"meeting:{placed['meeting_id']}" not in (old_tables or {}).get("used", {}).values()

"""Booth allocation: by sector zone, deterministic, explained, never two exhibitors on a booth;
the secretariat's override; the floor plan as SVG."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from shared.contracts.expo import Explanation
from shared.pack import load_pack
from tests.integration.expo.conftest import (
    SECRETARIAT,
    RunningExpo,
    bearer,
    running_expo,
    write_pack,
)

PACK = load_pack()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
async def ten_booths(
    mongo_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningExpo]:
    """Ten finance booths, served by two replicas of expo sharing one database."""
    booths = [
        {
            "code": f"F{n:02d}",
            "zone": "finance",
            "x": 3 * (n % 5),
            "y": 4 * (n // 5),
            "width": 3,
            "height": 3,
            "size_m2": 9,
            "tier": "standard",
            "price_usd": 500,
        }
        for n in range(10)
    ]
    pack = write_pack(Path(tmp_path_factory.mktemp("pack")), booths)
    async with running_expo(mongo_url, amqp_url, pack_path=pack, replicas=2) as running:
        yield running


async def test_fifty_concurrent_requests_for_ten_booths_make_ten_assignments_and_forty_reasons(
    ten_booths: RunningExpo,
) -> None:
    expo = ten_booths
    exhibitors = await asyncio.gather(
        *(
            expo.approved_exhibitor(
                booth_preferences=random.sample([f"F{n:02d}" for n in range(10)], 2)
            )
            for _ in range(50)
        )
    )
    clients = [expo.http(app) for app in expo.replicas]
    try:
        answers = await asyncio.gather(
            *(
                clients[index % 2].post("/me/booth-request", headers=bearer(token))
                for index, (_, token, _) in enumerate(exhibitors)
            )
        )
    finally:
        for client in clients:
            await client.aclose()

    won = [a.json() for a in answers if a.status_code == 200]
    lost = [a.json() for a in answers if a.status_code == 409]
    assert len(won) == 10 and len(lost) == 40
    assert len({a["booth"] for a in won}) == 10
    assert all(a["explanation"]["es"] and a["explanation"]["en"] for a in won)
    assert {a["explanation"]["code"] for a in lost} == {"zone_full"}
    assert all("Servicios financieros" in a["explanation"]["es"] for a in lost)

    booths = await expo.deps.repository.all_booths()
    assert sorted(b["exhibitor_id"] for b in booths) == sorted(a["exhibitor_id"] for a in won)
    holders = await expo.deps.repository.exhibitors.collection.find(
        {"booth": {"$ne": None}}
    ).to_list()
    assert sorted(h["booth"] for h in holders) == sorted(b["_id"] for b in booths)
    assigned = await expo.wait_events("booth.assigned", 10)
    refused = await expo.wait_events("booth.request_refused", 40)
    assert len(assigned) == 10 and len({e["booth"] for e in assigned}) == 10
    assert len(refused) == 40

    # Asking again changes nothing: the winners keep their booth, the others hear the same reason.
    async with expo.http() as http:
        again = await asyncio.gather(
            *(http.post("/me/booth-request", headers=bearer(t)) for _, t, _ in exhibitors[:10])
        )
    assert sorted(a.status_code for a in again).count(200) == sum(
        1 for a in answers[:10] if a.status_code == 200
    )
    assert len(await expo.events("booth.assigned")) == 10


async def _allocate(expo: RunningExpo) -> dict[str, tuple[str | None, str]]:
    async with expo.http() as http:
        response = await http.post("/allocation/run", headers=SECRETARIAT)
    assert response.status_code == 200, response.text
    return {a["exhibitor_id"]: (a["booth"], a["explanation"]["en"]) for a in response.json()}


async def test_allocation_respects_zones_and_is_the_same_on_a_rerun(expo: RunningExpo) -> None:
    # The pack's finance zone: F01 sponsor, F02 premium, F03 standard.
    specs = [
        {
            "exhibitor_type": "company",
            "sector": "finance_remittances",
            "tier": "premium",
            "booth_preferences": ["F02"],
        },
        {
            "exhibitor_type": "company",
            "sector": "finance_remittances",
            "tier": "premium",
            "booth_preferences": ["F02", "T01"],
        },
        {"exhibitor_type": "company", "sector": "finance_remittances", "tier": "sponsor"},
        {"exhibitor_type": "company", "sector": "finance_remittances"},
        {"exhibitor_type": "company", "sector": "airlines_travel", "tier": "premium"},
        {"exhibitor_type": "company", "sector": "real_estate"},
        {"exhibitor_type": "company", "sector": "paperwork_agencies", "booth_preferences": ["P03"]},
        {"exhibitor_type": "government", "sector": None, "booth_preferences": ["G04"]},
        {"exhibitor_type": "international_organisation", "sector": None, "tier": "premium"},
        {"exhibitor_type": "ngo", "sector": None},
        {"exhibitor_type": "migrant_association", "sector": None},
        {"exhibitor_type": "job_fair_employer", "sector": None, "booth_preferences": ["J03"]},
    ]
    created = [
        await expo.approved_exhibitor(**spec) for spec in specs
    ]  # approval order is allocation order
    ids = [exhibitor_id for exhibitor_id, _, _ in created]

    first = await _allocate(expo)
    mine = {i: first[i] for i in ids}
    booths = {b.code: b for b in PACK.booths}
    for exhibitor_id, (booth, _) in mine.items():
        zone = (await expo.deps.repository.exhibitor(exhibitor_id))["zone"]
        assert booth is None or booths[booth].zone == zone
    assert [mine[i][0] for i in ids] == [
        "F02",
        "F03",
        "F01",
        None,
        "T02",
        "P01",
        "P03",
        "G04",
        "I01",
        "C01",
        "C02",
        "J03",
    ]
    assert "preference #1" in mine[ids[0]][1]
    assert "F02, T01" in mine[ids[1]][1]  # told why its preferences were not honoured
    assert "No free booth" in mine[ids[3]][1] and "Financial services" in mine[ids[3]][1]

    async with expo.http() as http:
        reset = await http.post(
            "/allocation/reset", headers=SECRETARIAT, json={"reason": "Nueva corrida"}
        )
    assert reset.status_code == 200 and reset.json()["released"] >= len(ids) - 1
    assert not [b for b in await expo.deps.repository.all_booths() if b["exhibitor_id"]]
    second = await _allocate(expo)
    assert {i: second[i] for i in ids} == mine


async def test_secretariat_override_and_floor_plan_svg_lists_every_assigned_exhibitor(
    expo: RunningExpo,
) -> None:
    exhibitor_id, _token, body = await expo.approved_exhibitor(
        name='Café <Nostalgia> & "Hermanos"', sector="trade_nostalgic_goods"
    )
    other_id, _, _ = await expo.approved_exhibitor(exhibitor_type="ngo", sector=None)
    async with expo.http() as http:
        taken = await http.put(
            "/booths/X01/assignment",
            headers=SECRETARIAT,
            json={"exhibitor_id": other_id, "reason": "Espacio cedido por la secretaría"},
        )
        refused = await http.put(
            "/booths/X01/assignment",
            headers=SECRETARIAT,
            json={"exhibitor_id": exhibitor_id, "reason": "Prueba"},
        )
        displaced = await http.put(
            "/booths/X01/assignment",
            headers=SECRETARIAT,
            json={"exhibitor_id": exhibitor_id, "reason": "Patrocinio", "displace": True},
        )
        svg = await http.get("/floor-plan.svg")
        svg_en = await http.get("/floorplan.svg", params={"lang": "en"})

    assert taken.status_code == 200 and taken.json()["manual"] is True
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "booth_taken"
    assert displaced.status_code == 200 and displaced.json()["explanation"]["code"] == "manual"
    assert (await expo.deps.repository.exhibitor(other_id))["booth"] is None
    await expo.wait_events(
        "booth.released", 1, lambda e: e["exhibitor_id"] == other_id and e["booth"] == "X01"
    )

    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["x-content-type-options"] == "nosniff"
    root = SafeET.fromstring(svg.content)  # well-formed, and no entity tricks allowed
    assert root.tag == f"{SVG}svg"
    # Every holder is in the index beside the plan and its booth's title; on the booth itself
    # when the name fits (a long one in a 3 m booth is left to the index).
    names = {el.text for el in root.iter(f"{SVG}text") if el.get("class") == "exhibitor"}
    listed = {el.text for el in root.iter(f"{SVG}text") if el.get("class") == "index-name"}
    assigned = {
        b["exhibitor_name"]
        for b in await expo.deps.repository.all_booths()
        if b.get("exhibitor_id")
    }
    assert assigned and listed == assigned and names <= assigned
    assert body["name"] in listed
    titles = {g.get("id"): g.findtext(f"{SVG}title") or "" for g in root.iter(f"{SVG}g")}
    assert all(
        b["exhibitor_name"] in titles[f"booth-{b['_id']}"]
        for b in await expo.deps.repository.all_booths()
        if b.get("exhibitor_id")
    )
    assert b"&lt;Nostalgia&gt; &amp;" in svg.content
    drawn = {g.get("id") for g in root.iter(f"{SVG}g") if "booth" in (g.get("class") or "")}
    assert drawn == {f"booth-{b.code}" for b in PACK.booths}
    assert b"Job fair" in svg_en.content


async def test_a_claim_left_by_a_crash_is_recorded_by_the_next_request(expo: RunningExpo) -> None:
    # By the rules this sponsor would get M01; the crashed attempt had taken M02.
    exhibitor_id, token, _ = await expo.approved_exhibitor(
        exhibitor_type="company", sector="telephony_media", tier="sponsor"
    )
    repository = expo.deps.repository
    # A request crashed after taking M02 and before writing it on the exhibitor.
    explanation = Explanation(
        code="first_free_in_zone",
        es="M02 es el primer stand libre.",
        en="M02 is the first free booth.",
    )
    claimed = await repository.claim_booth(
        "M02", exhibitor_id, "x", explanation.model_dump(), manual=False, now=expo.deps.clock()
    )
    assert claimed
    async with expo.http() as http:
        answer = await http.post("/me/booth-request", headers=bearer(token))
        again = await http.post("/me/booth-request", headers=bearer(token))
    assert answer.status_code == 200 and answer.json()["booth"] == "M02"
    assert again.json()["booth"] == "M02"
    assert await repository.booths.count_documents({"exhibitor_id": exhibitor_id}) == 1
    assert (await repository.exhibitor(exhibitor_id))["booth"] == "M02"
    await expo.wait_events("booth.assigned", 1, lambda e: e["exhibitor_id"] == exhibitor_id)
    assert (
        len(await expo.events("booth.assigned", lambda e: e["exhibitor_id"] == exhibitor_id)) == 1
    )

"""The sample run's floor (`foro up`, shared/devstack.py): the launcher applies for a few sample
exhibitors through expo's public API, approves them and runs the allocation, so the floor plan a
visitor opens shows exhibitors; run twice, it changes nothing."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET

from shared.devstack import SAMPLE_EXHIBITORS, seed_sample_exhibitors
from tests.integration.expo.conftest import API_TOKEN, RunningExpo

SVG = "{http://www.w3.org/2000/svg}"


async def test_the_sample_run_places_its_exhibitors_on_the_floor_plan(expo: RunningExpo) -> None:
    async with expo.http() as http:
        held = await seed_sample_exhibitors(http, API_TOKEN)
        assert held == ["F01", "G01", "I01", "T02"]  # each on the booth it asked for
        assert await seed_sample_exhibitors(http, API_TOKEN) == held  # a restart changes nothing

        booths = {b["code"]: b for b in (await http.get("/booths")).json()}
        assert {booths[code]["exhibitor_name"] for code in held} == {
            sample["name"] for sample in SAMPLE_EXHIBITORS
        }
        plan = await http.get("/floor-plan.svg", params={"lang": "en"})
    root = SafeET.fromstring(plan.text)
    index = [
        entry.get("data-booth")
        for entry in root.iter(f"{SVG}g")
        if entry.get("class") == "index-entry"
    ]
    assert index == held

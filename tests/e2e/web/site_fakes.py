"""The whole site's services as fakes, for the browser checks that are about the pages' markup
(the accessibility check, the screenshots): every page draws with data in it.

The fakes are the web unit tests' own (tests/unit/test_web_*.py), behind one transport:
- a member of staff's requests go to the console's fakes (people, delegations, badges, programme,
  expo, messages, reports: one table of (service, method, path) → answer), then to the fakes of
  the first pages (statistics, participants, the agenda);
- a party's requests (focal point, exhibitor, participant: the unit tests' signed tokens) and
  the signed-out visitor's go to the parties' fakes, then to the public pages' (floor plan,
  booths, the sign-up webhook), then to the first pages'.

The flows through real services are the other browser tests.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.expo.booths.floorplan import render_floor_plan
from shared.pack import load_pack
from tests.support.web_console import FakeConsoleServices, staff_token
from tests.unit import test_web_console_areas as areas
from tests.unit import test_web_console_messages as messages
from tests.unit import test_web_console_reports as reports
from tests.unit import test_web_pages as pages
from tests.unit import test_web_party as party
from tests.unit import test_web_public as public

# Ids the fakes know, for pages with path parameters.
PARTICIPANT_ID = areas.PID
DELEGATION = "SV"
MEMBER_ID = party.MEMBER
SESSION = "B1"
CAMPAIGN = "expo-hours"
MESSAGE_TYPE = "registration_confirmed"
JOB_ID = party.JOBS[0]["job_id"] if party.JOBS else "j1"
MEMORIA = "memoria-es-1"

# A party's access, as the secretariat sends it: (kind, token, their first page).
PARTIES = {
    "focal_point": (party.FOCAL, "/delegation"),
    "exhibitor": (party.EXHIBITOR, "/exhibitor"),
    "participant": (party.PARTICIPANT, "/me"),
}
# Each party's pages, with parameters filled from the fakes' ids.
PARTY_PAGES = {
    "focal_point": ["/delegation", f"/delegation/members/{MEMBER_ID}/substitute"],
    "exhibitor": ["/exhibitor", f"/exhibitor/jobs/{JOB_ID}"],
    "participant": ["/me"],
}
# The console's pages with parameters, filled from the fakes' ids.
CONSOLE_SAMPLES = [
    f"/console/people/{PARTICIPANT_ID}",
    f"/console/participants/{pages.PID}",
    f"/console/delegations/{DELEGATION}",
    f"/console/programme/sessions/{SESSION}",
    f"/console/messages/templates/{MESSAGE_TYPE}",
    f"/console/messages/campaigns/{CAMPAIGN}",
    "/console/people?q=luc&status=confirmed&category=media&country=SV",
    "/console/reports/conclusions?status=submitted",
    f"/console/rapporteur?edit={reports.DRAFT_ID}",
]


SAMPLE_EXHIBITORS = (
    "Banco Agrícola",
    "Textiles del Istmo",
    "Café de Altura",
    "Logística Centroamericana",
)


def site_booths() -> list[dict[str, Any]]:
    """The pack's booths, every third one taken: what the public page lists and the plan draws."""
    names = iter(SAMPLE_EXHIBITORS)
    return [
        {
            "code": booth.code,
            "zone": booth.zone,
            "x": booth.x,
            "y": booth.y,
            "width": booth.width,
            "height": booth.height,
            "tier": booth.tier,
            "size_m2": str(booth.size_m2),
            "exhibitor_name": next(names, None) if index % 3 == 0 else None,
        }
        for index, booth in enumerate(load_pack().booths)
    ]


def floor_plan_svg(lang: str) -> httpx.Response:
    return httpx.Response(
        200,
        content=render_floor_plan(load_pack(), site_booths(), lang),
        headers={"content-type": "image/svg+xml"},
    )


class SiteFakes:
    """One transport for every service the pages call (see the module's docstring)."""

    def __init__(self) -> None:
        self.console = FakeConsoleServices(token=staff_token(sessions=["B2.1", "B3.2"]))
        for fake in (messages.fake_services(), reports.fake_services()):
            self.console.routes.update(fake.routes)
        for (service, method, path), answer in areas.default_routes().items():
            self.console.on(service, method, path, answer)
        statistics = areas.default_routes()[("reporting", "GET", "/statistics")]
        self.console.on("reporting", "GET", "/statistics", {**pages.STATISTICS, **statistics})
        self.console.on("registration", "GET", "/checkins/points", ["entrance", "expo", "plenary"])
        self.first_pages = pages.FakeServices()
        self.parties = party.FakeServices()
        self.public = public.FakeServices()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return self.console(request)
        if request.url.path == "/floor-plan.svg":  # the pack's floor, drawn by expo's own code
            return floor_plan_svg("en" if request.url.params.get("lang") == "en" else "es")
        if (
            request.url.path == "/booths"
            and request.url.port == 8003
            and "authorization" not in request.headers
        ):
            return httpx.Response(200, json=site_booths())  # the public list, matching the plan
        if request.headers.get("authorization") == f"Bearer {self.console.token}":
            answer = self.console(request)
            if answer.status_code != 404:
                return answer
            # The first pages' fakes know their member of staff by another token.
            headers = {**request.headers, "authorization": "Bearer staff-jwt"}
            return self.first_pages(
                httpx.Request(request.method, request.url, headers=headers, content=request.content)
            )
        answer = self.parties(request)
        if answer.status_code in (401, 404):
            for fake in (self.public, self.first_pages):
                other = fake(request)
                if other.status_code not in (401, 404):
                    return other
        return answer

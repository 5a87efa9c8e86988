"""Expo's rules without a broker or a database."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime, timedelta

import defusedxml.ElementTree as SafeET

from services.expo.booths import rules as booths
from services.expo.booths.floorplan import render_floor_plan
from services.expo.calendars import rules as calendars
from services.expo.documents import CalendarDocument, StageDay
from services.expo.exhibitors import rules as exhibitors
from services.expo.jobfair import rules as jobfair
from services.expo.launches import rules as launches
from services.expo.leads import rules as leads
from shared.pack import load_pack

PACK = load_pack()
T0 = datetime(2004, 10, 1, tzinfo=UTC)


def floor() -> list[booths.BoothSlot]:
    return [booths.BoothSlot(b.code, b.zone, b.tier, b.x, b.y) for b in PACK.booths]


def applicant(
    n: int, zone: str = "finance", tier: str = "standard", prefs: tuple[str, ...] = ()
) -> booths.Applicant:
    return booths.Applicant(f"ex-{n:03d}", zone, tier, prefs, T0 + timedelta(minutes=n))


def test_every_exhibitor_type_and_sector_has_its_zone() -> None:
    assert exhibitors.exhibitor_zone(PACK, "government", None) == "government"
    assert exhibitors.exhibitor_zone(PACK, "migrant_association", None) == "civil_society"
    assert exhibitors.exhibitor_zone(PACK, "company", "telephony_media") == "telecom_media"
    assert exhibitors.exhibitor_zone(PACK, "company", "trade_nostalgic_goods") == "trade"
    assert exhibitors.exhibitor_zone(PACK, "job_fair_employer", None) == "job_fair"
    assert (
        exhibitors.application_problems(
            PACK, exhibitor_type="company", sector=None, preferences=[], staff=0
        )[0].code
        == "sector_required"
    )
    assert (
        exhibitors.application_problems(
            PACK, exhibitor_type="ngo", sector="other", preferences=["Z99"], staff=11
        )
        != []
    )


def test_allocation_is_deterministic_whatever_the_input_order() -> None:
    zones = [z.code for z in PACK.zones]
    tiers = ["standard", "premium", "sponsor"]
    rng = random.Random(7)
    codes = [b.code for b in PACK.booths]
    people = [
        applicant(n, rng.choice(zones), rng.choice(tiers), tuple(rng.sample(codes, 2)))
        for n in range(60)
    ]
    first = booths.allocate(PACK, people, floor())
    for _ in range(5):
        shuffled = people[:]
        rng.shuffle(shuffled)
        assert booths.allocate(PACK, shuffled, list(reversed(floor()))) == first
    assigned = [a.booth for a in first if a.booth]
    assert len(assigned) == len(set(assigned))
    booth_zone = {b.code: b.zone for b in PACK.booths}
    by_id = {p.exhibitor_id: p for p in people}
    for answer in first:
        if answer.booth:
            assert booth_zone[answer.booth] == by_id[answer.exhibitor_id].zone
        else:
            assert answer.explanation.code == "zone_full"


def test_preferences_first_then_tier_then_position_and_each_answer_explained() -> None:
    answers = booths.allocate(
        PACK,
        [
            applicant(1, tier="premium", prefs=("F02",)),
            applicant(2, tier="premium", prefs=("F02", "T01")),
            applicant(3, tier="sponsor"),
            applicant(4),
        ],
        floor(),
    )
    assert [a.booth for a in answers] == ["F02", "F03", "F01", None]
    assert (
        answers[0].explanation.code == "preference_honoured"
        and "n.º 1" in answers[0].explanation.es
    )
    assert "F02, T01" in answers[1].explanation.en
    assert (
        answers[3].explanation.code == "zone_full"
        and "Servicios financieros" in answers[3].explanation.es
    )


def test_first_approved_is_first_served() -> None:
    late, early = applicant(9, prefs=("F03",)), applicant(1, prefs=("F03",))
    answers = {a.exhibitor_id: a.booth for a in booths.allocate(PACK, [late, early], floor())}
    assert answers == {"ex-001": "F03", "ex-009": None}


def _docx(extra: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        if extra:
            archive.writestr(extra, b"macro")
    return buffer.getvalue()


def test_cvs_are_judged_by_their_bytes() -> None:
    assert jobfair.cv_refusal(b"%PDF-1.7 ...", 1024) == (jobfair.PDF, None)
    assert jobfair.cv_refusal(_docx(), 10_000) == (jobfair.DOCX, None)
    assert jobfair.cv_refusal(_docx("word/vbaProject.bin"), 10_000)[1].code == "cv_has_macros"
    assert jobfair.cv_refusal(b"<html>%PDF-</html>", 1024)[1].code == "cv_type_not_allowed"
    assert jobfair.cv_refusal(b"PK\x03\x04broken", 1024)[1].code == "cv_type_not_allowed"
    assert jobfair.cv_refusal(b"%PDF-" + b"0" * 2000, 1024)[1].code == "cv_too_large"
    assert jobfair.cv_refusal(b"", 1024)[1].code == "cv_empty"
    assert (
        jobfair.safe_filename("../../etc/passwd<script>.html", jobfair.PDF) == "etcpasswdscript.pdf"
    )


def test_lead_csv_neutralises_formulas() -> None:
    text = leads.leads_csv(
        [
            {
                "_id": "l1",
                "participant_id": "p1",
                "contact": {"given_name": "=cmd|' /C calc'!A0", "email": "a@b.org"},
                "notes": ["@SUM(1)"],
            }
        ]
    )
    assert "'=cmd" in text and "'@SUM" in text and "a@b.org" in text


def test_slots_stay_within_expo_hours_and_launches_never_overlap() -> None:
    grid = calendars.slot_grid(PACK, 30)
    first_day = calendars.expo_window(PACK, 0)
    assert grid[0].starts_at == first_day.starts_at and all(
        s.ends_at - s.starts_at == timedelta(minutes=30) for s in grid
    )
    slot = calendars.Slot(grid[4].starts_at, grid[4].ends_at)
    stage = StageDay.model_validate(
        {
            "_id": "forum:0",
            "launches": [
                {
                    "launch_id": "a",
                    "exhibitor_id": "x",
                    "exhibitor_name": "X",
                    "kind": "product",
                    "title": "Remesa Directa",
                    "starts_at": slot.starts_at,
                    "ends_at": slot.ends_at,
                }
            ],
        }
    )
    problems = launches.launch_problems(PACK, stage, "b", "y", slot, 0, 1)
    assert [p.code for p in problems] == ["slot_taken"]
    opening = calendars.Slot(first_day.starts_at, first_day.starts_at + timedelta(minutes=10))
    assert [p.code for p in launches.launch_problems(PACK, None, "c", "z", opening, 0, 1)] == [
        "stage_in_programme"
    ]


def test_a_hold_is_refused_on_top_of_another_and_idempotent_per_id() -> None:
    slot = calendars.slot_grid(PACK, 30)[0]
    first = calendars.reserve(None, calendars.hold_entry("meeting:1", "meeting", slot))
    assert first.result and first.change is not None
    calendar = CalendarDocument.model_validate({"_id": "c", "holds": first.change.set["holds"]})
    again = calendars.reserve(calendar, calendars.hold_entry("meeting:1", "meeting", slot))
    assert again.result and again.change is None
    overlapping = calendars.reserve(calendar, calendars.hold_entry("meeting:2", "meeting", slot))
    assert not overlapping.result and overlapping.change is None


def test_floor_plan_escapes_names_and_is_well_formed() -> None:
    booths = [
        {
            "code": b.code,
            "zone": b.zone,
            "tier": b.tier,
            "x": b.x,
            "y": b.y,
            "width": b.width,
            "height": b.height,
            "exhibitor_name": "<script>alert('x')</script> & Co" if b.code == "F01" else None,
        }
        for b in PACK.booths
    ]
    svg = render_floor_plan(PACK, booths, "en")
    root = SafeET.fromstring(svg)
    names = [
        el.text
        for el in root.iter("{http://www.w3.org/2000/svg}text")
        if el.get("class") == "exhibitor"
    ]
    assert names == ["<script>alert('x')</script> & Co"]
    assert "<script>" not in svg

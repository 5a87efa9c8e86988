"""Scheduling's rules without broker or database: conflicts, changelog, seats, held times."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from itertools import combinations

import pytest

from services.scheduling.conflicts import rules as conflicts
from services.scheduling.documents import (
    CANCELLED,
    Attendance,
    ParticipantProjection,
    SessionDocument,
    SupportLedger,
)
from services.scheduling.people import rules as people
from services.scheduling.programme.rules import seed_document
from services.scheduling.releases import rules as releases
from services.scheduling.signups import rules as signups
from shared.pack import load_pack

PACK = load_pack()
NOW = datetime(2004, 11, 1, tzinfo=UTC)
VENUE = conflicts.VenueRules.from_pack(PACK, time(8), time(20))
DAY1 = datetime(2004, 11, 18, tzinfo=PACK.forum.tz)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return (DAY1 + timedelta(days=day, hours=hour, minutes=minute)).astimezone(UTC)


def s(
    code: str, start: datetime, end: datetime, room: str | None = "breakout_a", people=(), **kw
) -> conflicts.Scheduled:
    return conflicts.Scheduled(
        code=code,
        kind=kw.pop("kind", "session"),
        start=start,
        end=end,
        room=room,
        people=tuple(people),
        **kw,
    )


def pack_documents() -> list[dict]:
    return [{**seed_document(PACK, item, NOW), "_id": item.code} for item in PACK.programme.items]


def models(documents: list[dict]) -> list[SessionDocument]:
    return [SessionDocument.model_validate(d) for d in documents]


def kinds(found: list[conflicts.Conflict]) -> set[str]:
    return {c.kind for c in found}


def test_the_default_pack_has_no_hard_conflicts_only_missing_rapporteurs() -> None:
    found = conflicts.find_conflicts(conflicts.scheduled(models(pack_documents())), VENUE)
    assert conflicts.hard(found) == []
    assert kinds(found) == {"no_rapporteur"}
    assert sorted(c.sessions[0] for c in found) == sorted(
        i.code for i in PACK.programme.items if i.kind == "session"
    )


def test_two_sessions_in_one_room_at_once_but_not_a_block_and_its_own_session() -> None:
    block = s("B9", at(10), at(12), kind="block")
    inside = s("B9.1", at(10), at(11), parent="B9")
    intruder = s("X", at(10, 30), at(11, 30))
    found = [
        c
        for c in conflicts.find_conflicts([block, inside, intruder], VENUE)
        if c.kind == "room_double_booked"
    ]
    assert {c.sessions for c in found} == {("B9", "X"), ("B9.1", "X")}
    assert (
        "10:30-11:30" in found[0].reason_en
        and found[0].severity == "error"
        and found[0].room == "breakout_a"
    )
    back_to_back = [s("A", at(10), at(11)), s("B", at(11), at(12))]
    assert "room_double_booked" not in kinds(conflicts.find_conflicts(back_to_back, VENUE))


def test_one_person_in_two_places_at_once_with_their_name_in_the_reason() -> None:
    ana = ("p-ana", "Ana Torres", "panelist")
    found = conflicts.find_conflicts(
        [
            s("A", at(10), at(11), "breakout_a", [ana]),
            s("B", at(10, 45), at(11, 30), "breakout_b", [ana]),
        ],
        VENUE,
    )
    [person] = [c for c in found if c.kind == "person_double_booked"]
    assert person.sessions == ("A", "B") and person.person_id == "p-ana"
    assert "Ana Torres" in person.reason_en and "Ana Torres" in person.reason_es


def test_sessions_outside_the_venue_hours_or_days() -> None:
    found = conflicts.find_conflicts(
        [
            s("EARLY", at(7, 30), at(9)),
            s("LATE", at(19), at(20, 30)),
            s("AFTER", at(10, day=2), at(11, day=2)),
            s("OK", at(8), at(20)),
        ],
        VENUE,
    )
    outside = {c.sessions[0]: c for c in found if c.kind == "outside_venue_hours"}
    assert set(outside) == {"EARLY", "LATE", "AFTER"}
    assert (
        "08:00-20:00" in outside["EARLY"].reason_en and "forum's days" in outside["AFTER"].reason_en
    )


def test_expected_audience_above_room_capacity_and_unknown_rooms() -> None:
    found = conflicts.find_conflicts(
        [
            s("BIG", at(10), at(11), "expo_stage", expected_audience=81),
            s("FITS", at(12), at(13), "expo_stage", expected_audience=80),
            s("NOWHERE", at(14), at(15), "attic"),
        ],
        VENUE,
    )
    assert {(c.kind, c.sessions[0]) for c in found if c.severity == "error"} == {
        ("over_capacity", "BIG"),
        ("unknown_room", "NOWHERE"),
    }


def test_a_session_without_a_rapporteur_is_a_warning_unless_its_block_has_one() -> None:
    rapporteur = ("p-r", "R", "rapporteur")
    block = s("B9", at(10), at(12), kind="block", people=[rapporteur])
    found = conflicts.find_conflicts(
        [block, s("B9.1", at(10), at(11), parent="B9"), s("B8.1", at(13), at(14), parent="B8")],
        VENUE,
    )
    [warning] = [c for c in found if c.kind == "no_rapporteur"]
    assert warning.sessions == ("B8.1",) and warning.severity == "warning"


def brute_force(sessions, keys):
    pairs = set()
    for a, b in combinations(sessions, 2):
        for key in set(keys(a)) & set(keys(b)):
            if a.start < b.end and b.start < a.end and a.parent != b.code and b.parent != a.code:
                pairs.add((key, frozenset((a.code, b.code))))
    return pairs


@pytest.mark.parametrize("seed", range(20))
def test_the_sweep_finds_exactly_the_pairs_all_pairs_comparison_finds(seed: int) -> None:
    rng = random.Random(seed)
    rooms, people = ["r1", "r2", "r3"], [f"p{i}" for i in range(6)]
    sessions = []
    for index in range(60):
        start = at(8) + timedelta(minutes=5 * rng.randrange(0, 120))
        end = start + timedelta(minutes=5 * rng.randrange(1, 24))
        who = tuple((p, p, "speaker") for p in rng.sample(people, rng.randrange(0, 3)))
        sessions.append(s(f"S{index}", start, end, rng.choice(rooms), who))
    for keys in (lambda x: [x.room], lambda x: [k for k, _, _ in x.people]):
        swept = {
            (key, frozenset((a.code, b.code)))
            for key, a, b in conflicts.overlapping_pairs(sessions, keys)
        }
        assert swept == brute_force(sessions, keys)


def test_changelog_names_added_moved_cancelled_people_changed_and_updated() -> None:
    documents = pack_documents()
    before = [releases.snapshot(d) for d in models(documents)]
    by_code = {d["code"]: d for d in documents}
    by_code["B1.2"]["starts_at"] += timedelta(minutes=10)
    by_code["B1.3"]["status"] = CANCELLED
    by_code["B2.1"]["people"] = [{"person_id": "p-x", "name": "X", "role": "speaker"}]
    by_code["B2.2"]["title"] = {"es": "Nuevo", "en": "New"}
    new = {**seed_document(PACK, PACK.programme.item("B2.3"), NOW), "code": "B2.9"}
    after = [releases.snapshot(d) for d in models([*documents, new]) if d.code != "B4.1"]
    changes = releases.changelog(before, after)
    assert changes.added == ["B2.9"] and changes.moved == ["B1.2"]
    assert (
        changes.cancelled == ["B1.3", "B4.1"]
        and changes.people_changed == ["B2.1"]
        and changes.updated == ["B2.2"]
    )


def test_a_release_announces_each_moved_session_once_with_every_affected_person_once() -> None:
    documents = pack_documents()
    previous = [releases.snapshot(d) for d in models(documents)]
    moved = next(d for d in documents if d["code"] == "B2.1")
    moved["room"] = "breakout_a"
    attendee, both = str(uuid.uuid4()), str(uuid.uuid4())
    moved["people"] = [
        {"person_id": "p-s", "name": "S", "role": "speaker", "email": "s@example.org"},
        {"person_id": "p-m", "name": "M", "role": "moderator", "participant_id": both},
    ]
    moved["confirmed"], moved["waitlist"] = [both, attendee], []
    attendees = {
        attendee: ParticipantProjection(
            given_name="A", family_name="B", email="a@example.org", language="en"
        ),
        both: ParticipantProjection(email="m@example.org", language="en"),
    }
    release = releases.build_release(PACK, 2, models(documents), previous, [], attendees, NOW)
    [published, rescheduled] = release.events
    assert published.event_type == "programme.published" and published.changes.moved == ["B2.1"]
    assert rescheduled.session_code == "B2.1" and rescheduled.previous.room == "plenary"
    assert [(a.relation, a.name, a.email, a.language) for a in rescheduled.affected] == [
        ("speaker", "S", "s@example.org", "es"),
        ("moderator", "M", "m@example.org", "en"),
        ("attendee", "A B", "a@example.org", "en"),
    ]
    again = releases.build_release(PACK, 2, models(documents), previous, [], attendees, NOW)
    assert [e.event_id for e in again.events] == [e.event_id for e in release.events]


def seat_doc(capacity: int, confirmed=(), waitlist=()) -> SessionDocument:
    return SessionDocument.model_validate(
        {
            **seed_document(PACK, PACK.programme.item("B2.1"), NOW),
            "seats": capacity,
            "confirmed": list(confirmed),
            "waitlist": list(waitlist),
        }
    )


def test_seats_then_waitlist_then_promotion_in_order() -> None:
    ids = [str(uuid.uuid4()) for _ in range(4)]
    doc = seat_doc(2)
    for participant_id in ids:
        decided = signups.take_seat(doc, participant_id, PACK, VENUE.rooms)
        assert decided.change is not None
        doc = doc.updated(decided.change.set)
    assert list(doc.confirmed) == ids[:2] and list(doc.waitlist) == ids[2:]
    again = signups.take_seat(doc, ids[3], PACK, VENUE.rooms)
    assert again.change is None and again.result == signups.SeatOutcome("waitlisted", 2)
    left = signups.give_up_seat(doc, ids[0], PACK, VENUE.rooms)
    assert left.change is not None
    assert left.result == [ids[2]] and left.change.set == {
        "confirmed": [ids[1], ids[2]],
        "waitlist": [ids[3]],
    }
    assert [e.event_type for e in left.change.events] == [
        "session.signup_cancelled",
        "session.signup_promoted",
    ]
    twice = signups.give_up_seat(doc.updated(left.change.set), ids[0], PACK, VENUE.rooms)
    assert twice.change is None and twice.result == []


def test_held_times_refuse_an_overlap_and_allow_back_to_back() -> None:
    def reserve(held: Attendance, code: str, start, end):  # type: ignore[no-untyped-def]
        return signups.reserve_time(held, "p-1", code, start, end, NOW)

    first = reserve(Attendance(), "A", at(10), at(11))
    assert first.result is None and first.change is not None
    held = Attendance.model_validate(first.change.set)
    clash = reserve(held, "B", at(10, 30), at(11, 30))
    assert clash.result == "A" and clash.change is None
    same = reserve(held, "A", at(10), at(11))
    assert same.result is None and same.change is None
    after = reserve(held, "C", at(11), at(12))
    assert after.result is None and after.change is not None
    assert [h["code"] for h in after.change.set["holds"]] == ["A", "C"]


def test_an_erased_participant_stays_erased_until_registered_again() -> None:
    erased = ParticipantProjection.model_validate(people.erase_participant(None, NOW).set)
    snapshot = {
        "forum_id": "f",
        "given_name": "Ana",
        "email": "a@example.org",
        "status": "confirmed",
    }
    # A snapshot after the erasure, or a confirmation from before it, moves only what counts.
    for late in (
        people.project_participant(erased, snapshot, NOW + timedelta(hours=1)),
        people.project_participant(erased, snapshot, NOW - timedelta(hours=1), registers=True),
    ):
        assert late is not None and late.set["status"] == "confirmed"
        assert not {"given_name", "family_name", "email", "phone", "organisation", "erased"} & set(
            late.set
        )
    assert (
        people.project_participant(erased, snapshot, NOW + timedelta(hours=1), registers=True).set[
            "email"
        ]
        == "a@example.org"
    )


def test_travel_support_never_exceeds_the_budget_line() -> None:
    from decimal import Decimal

    line = Decimal("5000.00")
    first = people.commit_support(SupportLedger(), "B1|p-a", Decimal("4000.00"), line)
    assert first.result == (Decimal("4000.00"), None) and first.change is not None
    ledger = SupportLedger.model_validate(first.change.set)
    assert people.commit_support(ledger, "B1|p-a", Decimal("4000.00"), line).change is None
    over = people.commit_support(ledger, "B2|p-b", Decimal("1000.01"), line)
    _total, refusal = over.result
    assert over.change is None and refusal is not None and "1000.00" in refusal
    withdrawn = people.cancel_support(ledger, "B1|p-a")
    assert withdrawn.result == (Decimal("4000.00"), Decimal(0)) and withdrawn.change is not None
    assert withdrawn.change.set == {"commitments": []}
    empty = SupportLedger.model_validate(withdrawn.change.set)
    again = people.cancel_support(empty, "B1|p-a")
    assert again.change is None and again.result == (None, Decimal(0))

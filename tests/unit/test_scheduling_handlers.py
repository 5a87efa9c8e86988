"""Scheduling's use cases on an in-memory repository: no broker, no database. The integration
tests prove the same paths on the real RabbitMQ and SecantusDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.scheduling.deps import Refused, Scheduling
from services.scheduling.people import handlers as people
from services.scheduling.programme import handlers as programme
from services.scheduling.releases import handlers as releases
from services.scheduling.signups import handlers as signups
from shared.contracts.registration import (
    Participant,
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
)
from tests.support.scheduling_fakes import FakeScheduleRepository, fake_scheduling

NOW = datetime(2004, 11, 1, 12, 0, tzinfo=UTC)


def participant(**details: Any) -> Participant:
    token = uuid.uuid4().hex[:8]
    fields: dict[str, Any] = {
        "participant_id": uuid.uuid4(),
        "forum_id": "crm-foro-sector-privado-migraciones",
        "given_name": "Ana",
        "family_name": f"Pérez {token}",
        "email": f"ana.{token}@example.org",
        "country": "SV",
        "category": "civil_society",
        "language": "es",
        "consents": {"privacy_policy": True},
        "status": "confirmed",
    }
    return Participant.model_validate({**fields, **details})


def confirmation(who: Participant) -> RegistrationConfirmed:
    return RegistrationConfirmed(
        producer="registration", participant=who, submission_id="form-unit", occurred_at=NOW
    )


async def seeded() -> tuple[Scheduling, FakeScheduleRepository]:
    deps, repository = fake_scheduling()
    deps.clock = lambda: NOW
    await programme.seed_programme(deps)
    return deps, repository


async def confirmed(deps: Scheduling, count: int) -> list[str]:
    people_ = [participant() for _ in range(count)]
    for who in people_:
        await people.project_registration(deps, confirmation(who))
    return [str(who.participant_id) for who in people_]


async def test_a_confirmation_delivered_twice_projects_the_participant_once_and_links_them() -> (
    None
):
    deps, repository = await seeded()
    speaker = participant()
    await people.set_people(
        deps, "B2.1", [{"name": "Ana", "role": "speaker", "email": speaker.email}]
    )
    event = confirmation(speaker)
    await people.project_registration(deps, event)
    await people.project_registration(deps, event)

    speaker_id = str(speaker.participant_id)
    projected = repository.participants.documents[speaker_id]
    assert projected["version"] == 1 and projected["processed"] == [str(event.event_id)]
    assert projected["status"] == "confirmed" and projected["registered_at"] == NOW
    session = repository.sessions.documents[deps.session_id("B2.1")]
    assert [p["participant_id"] for p in session["people"]] == [speaker_id]


async def test_seats_then_waitlist_and_a_seat_given_up_promotes_the_first_waiting() -> None:
    deps, repository = await seeded()
    await programme.edit_session(deps, "B2.4", {"seats": 2})
    ids = await confirmed(deps, 4)
    outcomes = [await signups.sign_up(deps, "B2.4", pid) for pid in ids]
    assert [(o.status, o.position) for o in outcomes] == [
        ("confirmed", 0),
        ("confirmed", 0),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    # Asking again changes nothing.
    assert (await signups.sign_up(deps, "B2.4", ids[3])).position == 2

    assert await signups.cancel_signup(deps, "B2.4", ids[0]) == [ids[2]]
    session = repository.sessions.documents[deps.session_id("B2.4")]
    assert (session["confirmed"], session["waitlist"]) == ([ids[1], ids[2]], [ids[3]])
    assert repository.attendance.documents[deps.attendance_id(ids[0])]["holds"] == []
    assert [t for t in repository.event_types() if t.startswith("session.signup")] == [
        "session.signup_confirmed",
        "session.signup_confirmed",
        "session.signup_waitlisted",
        "session.signup_waitlisted",
        "session.signup_cancelled",
        "session.signup_promoted",
    ]


async def test_an_overlapping_sign_up_is_refused_naming_the_session_held() -> None:
    deps, repository = await seeded()
    [pid] = await confirmed(deps, 1)
    await signups.sign_up(deps, "B1.2", pid)
    await programme.create_session(
        deps,
        {
            "code": "B1.2-A",
            "kind": "session",
            "parent": "B1",
            "title": {"es": "Taller", "en": "Workshop"},
            "starts_at": NOW.replace(year=2004, month=11, day=18, hour=17, minute=20),
            "ends_at": NOW.replace(year=2004, month=11, day=18, hour=18),
            "room": "breakout_a",
        },
    )
    with pytest.raises(Refused) as refused:
        await signups.sign_up(deps, "B1.2-A", pid)
    assert refused.value.status == 409 and refused.value.details == {"overlaps": "B1.2"}
    # Back to back is fine.
    assert (await signups.sign_up(deps, "B1.1", pid)).status == "confirmed"
    held = repository.attendance.documents[deps.attendance_id(pid)]["holds"]
    assert [h["code"] for h in held] == ["B1.2", "B1.1"]


async def test_only_confirmed_participants_of_the_forum_sign_up_and_not_for_a_break() -> None:
    deps, _ = await seeded()
    stranger = str(uuid.uuid4())
    with pytest.raises(Refused) as refused:
        await signups.sign_up(deps, "B2.4", stranger)
    assert refused.value.status == 403
    [pid] = await confirmed(deps, 1)
    with pytest.raises(Refused) as refused:
        await signups.sign_up(deps, "BRK1", pid)
    assert refused.value.status == 409 and "break" in refused.value.reason


async def test_a_cancelled_registration_gives_up_every_seat_and_the_waitlist_moves_up() -> None:
    deps, repository = await seeded()
    await programme.edit_session(deps, "B2.4", {"seats": 1})
    leaving, waiting = participant(), participant()
    for who in (leaving, waiting):
        await people.project_registration(deps, confirmation(who))
    leaving_id, waiting_id = str(leaving.participant_id), str(waiting.participant_id)
    await signups.sign_up(deps, "B2.4", leaving_id)
    await signups.sign_up(deps, "B2.4", waiting_id)
    await signups.sign_up(deps, "B1.1", leaving_id)
    cancelled = RegistrationCancelled(
        producer="registration",
        participant=leaving.model_copy(update={"status": "cancelled"}),
        previous_status="confirmed",
        occurred_at=NOW + timedelta(minutes=1),
    )
    await people.project_registration(deps, cancelled)
    await people.project_registration(deps, cancelled)  # twice: one effect

    b24 = repository.sessions.documents[deps.session_id("B2.4")]
    assert (b24["confirmed"], b24["waitlist"]) == ([waiting_id], [])
    assert leaving_id not in repository.sessions.documents[deps.session_id("B1.1")]["confirmed"]
    assert repository.event_types().count("session.signup_promoted") == 1
    assert repository.participants.documents[leaving_id]["status"] == "cancelled"


async def test_an_erasure_anonymises_the_projection_the_sessions_and_the_releases() -> None:
    deps, repository = await seeded()
    speaker = participant()
    await people.set_people(
        deps, "B2.1", [{"name": "Ana Speaker", "role": "speaker", "email": speaker.email}]
    )
    await people.project_registration(deps, confirmation(speaker))
    await releases.publish(deps, note="with the speaker")
    erased = ParticipantErased(
        producer="registration",
        forum_id=deps.forum_id,
        participant_id=speaker.participant_id,
        category="civil_society",
        country="SV",
        previous_status="confirmed",
        occurred_at=NOW + timedelta(hours=1),
    )
    await people.erase_participant(deps, erased)

    speaker_id = str(speaker.participant_id)
    projected = repository.participants.documents[speaker_id]
    assert projected["erased"] and projected["email"] is None and projected["status"] == "confirmed"
    [person] = repository.sessions.documents[deps.session_id("B2.1")]["people"]
    assert (person["name"], person["email"], person["erased"]) == (None, None, True)
    [release] = repository.releases.documents.values()
    named = [p for s in release["sessions"] for p in s["people"] if p["participant_id"]]
    assert [(p["name"], p["erased"]) for p in named] == [(None, True)]


async def test_a_release_announces_what_moved_and_attendees_holds_follow() -> None:
    deps, repository = await seeded()
    first = await releases.publish(deps)
    assert first["number"] == 1
    with pytest.raises(Refused, match="nothing changed"):
        await releases.publish(deps)
    [pid] = await confirmed(deps, 1)
    await signups.sign_up(deps, "B2.4", pid)
    session = repository.sessions.documents[deps.session_id("B2.4")]
    evening = timedelta(hours=2, minutes=25)  # 18:30 venue time, after the day's last session
    later = (session["starts_at"] + evening, session["ends_at"] + evening)
    await programme.edit_session(deps, "B2.4", {"starts_at": later[0], "ends_at": later[1]})

    second = await releases.publish(deps, note="moved")
    assert second["number"] == 2 and second["changes"]["moved"] == ["B2.4"]
    [moved] = [e for e in repository.published() if e["type"] == "session.rescheduled"]
    assert [a["participant_id"] for a in moved["body"]["affected"]] == [pid]
    [hold] = repository.attendance.documents[deps.attendance_id(pid)]["holds"]
    assert (hold["starts_at"], hold["ends_at"]) == later


async def test_travel_support_stays_within_the_line_and_a_decline_withdraws_it() -> None:
    deps, repository = await seeded()
    panel = [
        {"name": "Carla", "role": "panelist", "email": "carla@example.org"},
        {"name": "Omar", "role": "panelist", "email": "omar@example.org"},
    ]
    document = await people.set_people(deps, "B2.1", panel)
    carla, omar = (p["person_id"] for p in document["people"])
    for person_id in (carla, omar):
        await people.move_invitation(deps, "B2.1", person_id, "invited", travel_support=True)
        await people.move_invitation(deps, "B2.1", person_id, "accepted")
    committed = await people.commit_travel_support(deps, "B2.1", carla, Decimal("4200.50"))
    assert committed["committed_total"] == "4200.50"
    with pytest.raises(Refused, match=r"799\.50"):
        await people.commit_travel_support(deps, "B2.1", omar, Decimal("1000"))

    await people.move_invitation(deps, "B2.1", carla, "declined")
    await people.move_invitation(deps, "B2.1", carla, "declined")  # twice: withdrawn once
    assert (await people.commit_travel_support(deps, "B2.1", omar, Decimal("1000")))[
        "committed_total"
    ] == "1000.00"
    types = repository.event_types()
    assert types.count("travel_support.cancelled") == 1
    assert types.count("travel_support.committed") == 2
    ledger = repository.ledgers.documents[f"{deps.forum_id}:panelist_support"]
    assert [c["amount"] for c in ledger["commitments"]] == ["1000.00"]


async def test_seeding_twice_adds_nothing_and_keeps_the_secretariats_edits() -> None:
    deps, repository = await seeded()
    await programme.edit_session(deps, "B2.2", {"expected_audience": 200})
    again = await programme.seed_programme(deps)
    assert (again.added, again.updated) == (0, 0)
    assert repository.sessions.documents[deps.session_id("B2.2")]["expected_audience"] == 200

"""What scheduling's hot paths cost the database (issue 12), counted on the wire.

- A `registration.confirmed` of someone scheduling has not seen (every sign-up of a registration
  burst reaches scheduling as one): one insert of the projection and one indexed read of the
  sessions naming the e-mail — 2 round trips (before: 3, the projection read, then written).
- A session sign-up: the participant, the session and the attendance read at once (three reads
  in flight together), then the hold and the seat written — 5 commands, 3 waits (before: 6
  commands one after the other; the seat's write read the session again).
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from services.scheduling.deps import Scheduling
from services.scheduling.people.handlers import project_registration
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from services.scheduling.signups.handlers import sign_up
from shared.contracts.registration import RegistrationConfirmed
from tests.integration.scheduling.conftest import RunningScheduling, make_participant
from tests.support.wire import Commands

READS = [("find", "attendance"), ("find", "participants"), ("find", "sessions")]


async def test_a_confirmation_costs_two_round_trips_and_a_sign_up_five(
    scheduling: RunningScheduling, scheduling_settings: SchedulingSettings, mongo_url: str
) -> None:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[commands], tz_aware=True
    )
    try:
        repository = ScheduleRepository(client[scheduling_settings.database])
        running = scheduling.deps
        deps = Scheduling(
            pack=running.pack,
            repository=repository,
            settings=running.settings,
            clock=running.clock,
        )
        await client.admin.command("ping")
        participant = make_participant()
        participant_id = str(participant.participant_id)
        confirmed = RegistrationConfirmed(
            producer="registration", participant=participant, submission_id="form-round-trips"
        )

        commands.sent.clear()
        await project_registration(deps, confirmed)
        assert commands.sent == [("insert", "participants"), ("find", "sessions")]
        projected = await repository.participant(participant_id)
        assert projected is not None and projected["status"] == "confirmed"

        # The same event again: the insert finds it there, the general path sees the duplicate.
        commands.sent.clear()
        await project_registration(deps, confirmed)
        assert commands.sent == [
            ("insert", "participants"),
            ("find", "participants"),
            ("find", "sessions"),
        ]
        assert await repository.participant(participant_id) == projected

        # The first sign-up creates the participant's attendance; the second updates it.
        commands.sent.clear()
        first = await sign_up(deps, "B1.1", participant_id)
        assert first.status == "confirmed"
        assert sorted(commands.sent[:3]) == READS
        assert commands.sent[3:] == [("insert", "attendance"), ("update", "sessions")]

        commands.sent.clear()
        second = await sign_up(deps, "B2.4", participant_id)
        assert second.status == "confirmed"
        assert sorted(commands.sent[:3]) == READS
        assert commands.sent[3:] == [("update", "attendance"), ("update", "sessions")]

        for code in ("B1.1", "B2.4"):
            session = await repository.session(running.session_id(code))
            assert session is not None and session["confirmed"].count(participant_id) == 1
        held = await repository.holds_of(running.attendance_id(participant_id))
        assert held is not None and [h["code"] for h in held["holds"]] == ["B1.1", "B2.4"]
    finally:
        await client.close()

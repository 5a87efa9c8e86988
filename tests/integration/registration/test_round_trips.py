"""What a sign-up costs the database (issue 11): a person not seen before is confirmed, with
their badge, in two round trips — the seat taken on the category's ledger, then the participant
written once — before `registration.confirmed` can be published. Counted on the wire."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from services.registration.deps import Registration
from services.registration.intake.handlers import register_submission
from services.registration.repository import ParticipantRepository
from services.registration.settings import RegistrationSettings
from shared.contracts.registration import RegistrationSubmitted
from tests.integration.registration.conftest import RunningRegistration
from tests.support.factories import signup
from tests.support.wire import Commands


async def test_a_new_person_costs_two_round_trips_and_a_known_one_stays_correct(
    registration: RunningRegistration, registration_settings: RegistrationSettings, mongo_url: str
) -> None:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[commands], tz_aware=True
    )
    try:
        repository = ParticipantRepository(client[registration_settings.database])
        deps = Registration(
            pack=registration.deps.pack, repository=repository, clock=registration.deps.clock
        )
        await client.admin.command("ping")
        body = signup(category="civil_society")  # a category with a capacity: a ledger seat
        commands.sent.clear()
        participant_id = await register_submission(RegistrationSubmitted.model_validate(body), deps)

        assert commands.sent == [
            ("findAndModify", "seat_ledgers"),
            ("insert", "participants"),
        ]
        document = await repository.get(participant_id)
        assert document is not None
        assert document["status"] == "confirmed" and document["badge"]["token_id"]

        # The same person again with a changed name: the insert finds them known, the general
        # path updates them, and the seat stays theirs alone.
        again = {**body, "event_id": signup()["event_id"], "given_name": "Ana María"}
        assert (
            await register_submission(RegistrationSubmitted.model_validate(again), deps)
            == participant_id
        )
        # (A known person's seat request is given back at once: the ledger counts one seat.)
        ledger = await repository.seats.get(f"{body['forum_id']}:civil_society")
        assert (ledger.seats, ledger.waiting) == (1, 0)
        updated = await repository.get(participant_id)
        assert updated is not None and updated["given_name"] == "Ana María"
        assert updated["seat_ticket"] == document["seat_ticket"]
    finally:
        await client.close()

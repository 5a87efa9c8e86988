"""Every query registration issues on a hot path is answered from an index (issue 11).

SecantusDB answers an `$or` (and any filter no index covers) with a collection scan, which grows
with the forum: the queries a sign-up, a cancellation and a check-in actually send are recorded
from the wire and explained against the service's own indexes, over a few hundred participants.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from services.registration.deps import Registration
from services.registration.intake.handlers import cancel_registration, register_submission
from services.registration.repository import ParticipantFilter, ParticipantRepository
from services.registration.settings import RegistrationSettings
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from tests.integration.registration.conftest import RunningRegistration
from tests.support.factories import FORUM_ID, cancel_request, signup
from tests.support.wire import FilterRecorder, indexes_used, located_by, scans

PARTICIPANTS = 300


def crowd() -> list[dict[str, Any]]:
    """Participants as registration stores them, each with a submission, a badge and a revoked one."""
    now = datetime.now(UTC)
    return [
        {
            "_id": str(uuid.uuid4()),
            "forum_id": FORUM_ID,
            "email": f"crowd.{n}.{uuid.uuid4().hex[:6]}@example.org",
            "submission_ids": [f"crowd-form-{uuid.uuid4().hex[:10]}"],
            "given_name": "Ana",
            "family_name": f"López {n}",
            "country": "SV",
            "language": "es",
            "consents": {"privacy_policy": True, "listed_publicly": True},
            "category": "civil_society",
            "status": "confirmed",
            "created_at": now,
            "badge": {"token_id": f"tok-{uuid.uuid4().hex}"},
            "revoked_tokens": [f"old-{uuid.uuid4().hex}"],
            "version": 1,
            "processed": [],
            "outbox": [],
        }
        for n in range(PARTICIPANTS)
    ]


async def test_sign_up_cancellation_and_check_in_queries_use_indexes(
    registration: RunningRegistration, registration_settings: RegistrationSettings, mongo_url: str
) -> None:
    recorder = FilterRecorder()
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, event_listeners=[recorder])
    try:
        database = client[registration_settings.database]
        # The service's indexes, created when the `registration` fixture started it.
        repository = ParticipantRepository(database)
        people = crowd()
        await repository.collection.insert_many(people)
        deps = Registration(
            pack=registration.deps.pack, repository=repository, clock=registration.deps.clock
        )
        someone = people[PARTICIPANTS // 2]
        recorder.filters.clear()

        # A sign-up, the same submission again with a change, a cancellation by e-mail and by id,
        # one that overtakes its sign-up (parked), and that sign-up arriving.
        body = signup()
        participant_id = await register_submission(RegistrationSubmitted.model_validate(body), deps)
        await register_submission(
            RegistrationSubmitted.model_validate(
                {**body, "event_id": str(uuid.uuid4()), "given_name": "Ana María"}
            ),
            deps,
        )
        await cancel_registration(
            RegistrationCancelRequested.model_validate(cancel_request(None, email=body["email"])),
            deps,
        )
        await cancel_registration(
            RegistrationCancelRequested.model_validate(cancel_request(someone["_id"])), deps
        )
        late = signup()
        await cancel_registration(
            RegistrationCancelRequested.model_validate(cancel_request(None, email=late["email"])),
            deps,
        )
        await register_submission(RegistrationSubmitted.model_validate(late), deps)
        # A check-in: the current badge, a revoked one, a forged one.
        assert (await repository.find_by_badge_token(someone["badge"]["token_id"]))[
            "_id"
        ] == someone["_id"]
        assert (await repository.find_by_badge_token(someone["revoked_tokens"][0]))[
            "_id"
        ] == someone["_id"]
        assert await repository.find_by_badge_token(f"forged-{uuid.uuid4().hex}") is None
        assert (
            await repository.find_id(FORUM_ID, submission_id=someone["submission_ids"][0])
            == someone["_id"]
        )
        assert await repository.find_id(FORUM_ID, email=someone["email"]) == someone["_id"]
        assert await repository.get(participant_id) is not None
        # The secretariat's reads: a page of the list, by status, counts, a badge sheet.
        assert (await repository.page(ParticipantFilter(forum_id=FORUM_ID), offset=0, limit=20))[
            0
        ] > PARTICIPANTS
        await repository.page(
            ParticipantFilter(forum_id=FORUM_ID, status="confirmed"), offset=0, limit=20
        )
        await repository.counts_by_category(FORUM_ID)
        await repository.badge_holders(FORUM_ID, category="civil_society")
        # Seat bookkeeping: the first waiting (ticket order), places left and not yet counted
        # out, what participants record, the two counts a heal compares.
        await repository.first_waiting(FORUM_ID, "civil_society", start=1, skip=[], window=64)
        await repository.pending_releases("civil_society")
        await repository.seat_documents([someone["_id"], participant_id])
        await repository.count_places(FORUM_ID, "civil_society")

        issued = list(recorder.filters)
        sorts = dict(recorder.sorts)
        # The outbox relay's sweep over every collection holding an outbox.
        issued += [(name, {"outbox_pending": True}) for name in repository.stores.collections]
        collections = {name for name, _ in issued}
        assert {"participants", "seat_ledgers"} <= collections, collections

        recorder.filters.clear()
        plans = []
        for position, (name, query) in enumerate(issued):
            cursor = database[name].find(located_by(query))
            if position in sorts:
                cursor = cursor.sort(list(sorts[position].items()))
            plan = await cursor.explain()
            plans.append((name, query, plan))
        scanned = [(name, query, plan) for name, query, plan in plans if scans(plan)]
        assert not scanned, "collection scans:\n" + "\n".join(
            f"{name} {json.dumps(query, default=str)}\n  {json.dumps(plan.get('queryPlanner', plan), default=str)}"
            for name, query, plan in scanned
        )

        # Only indexes a query uses remain: each costs every write that touches it.
        used = set().union(*(indexes_used(plan) for _, _, plan in plans))
        for name in ("participants", "seat_ledgers"):
            defined = set(await database[name].index_information()) - {"_id_"}
            assert defined <= used, f"{name}: indexes no query uses: {sorted(defined - used)}"

        # The detector itself: a filter no index covers is reported as a scan on this server.
        assert scans(
            await repository.collection.find({"family_name": someone["family_name"]}).explain()
        )
    finally:
        await client.close()

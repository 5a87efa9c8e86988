"""Every query scheduling sends on its event and participant paths is answered from an index
(issue 12), and every index is used by one of them.

SecantusDB answers an `$or` (and any filter no index covers) with a collection scan, which grows
with the forum. The queries that confirmations, updates, sign-ups, a seat given up, a cancelled
registration, an erasure, a release and the feeds actually send are recorded from the wire and
explained against the service's own indexes, over a few hundred participants.

One secretariat query is left out, knowingly: linking a person put on a session to a registered
participant by e-mail (`ScheduleRepository.participant_id_by_email`) reads the forum's
participants, because an e-mail index on `participants` would cost every projected sign-up of a
registration burst, for a lookup the secretariat makes a few dozen times per forum.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from services.scheduling.deps import Scheduling
from services.scheduling.feeds.handlers import personal, release
from services.scheduling.people.handlers import erase_participant, project_registration
from services.scheduling.releases.handlers import publish
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from services.scheduling.signups.handlers import cancel_signup, sign_up
from shared.contracts.registration import (
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationUpdated,
)
from tests.integration.scheduling.conftest import RunningScheduling, make_participant
from tests.support.factories import FORUM_ID
from tests.support.wire import FilterRecorder, indexes_used, located_by, scans

PARTICIPANTS = 300
COLLECTIONS = ("sessions", "releases", "participants", "attendance", "ledgers")


def crowd() -> list[dict[str, Any]]:
    """Participants as scheduling projects them."""
    now = datetime.now(UTC)
    return [
        {
            "_id": str(uuid.uuid4()),
            "forum_id": FORUM_ID,
            "given_name": "Ana",
            "family_name": f"López {n}",
            "email": f"crowd.{n}.{uuid.uuid4().hex[:6]}@example.org",
            "language": "es",
            "country": "SV",
            "category": "civil_society",
            "status": "confirmed",
            "as_of": now,
            "status_as_of": now,
            "registered_at": now,
            "erased": False,
            "version": 1,
            "processed": [],
            "outbox": [],
        }
        for n in range(PARTICIPANTS)
    ]


async def test_event_and_participant_paths_use_indexes(
    scheduling: RunningScheduling, scheduling_settings: SchedulingSettings, mongo_url: str
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    recorder = FilterRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        database = client[scheduling_settings.database]
        # The service's indexes, created when the `scheduling` fixture started it.
        repository = ScheduleRepository(database)
        running = scheduling.deps
        deps = Scheduling(
            pack=running.pack, repository=repository, settings=running.settings, clock=running.clock
        )
        people = crowd()
        await repository.participants.collection.insert_many(people)
        for person in people[:40]:  # some seats taken, some holds kept
            await sign_up(deps, "B1.1", person["_id"])
        speaker, listener = make_participant(), make_participant()
        # A speaker on the programme by e-mail, before registration confirms them.
        assert (
            await http.put(
                "/programme/sessions/B2.1/people",
                headers=auth,
                json=[{"name": "Ana Speaker", "role": "speaker", "email": speaker.email}],
            )
        ).status_code == 200
        recorder.filters.clear()

        # Registration's events: confirmations (one the speaker's, linking them), one twice, an
        # update, a cancellation with seats to free, an erasure of the speaker.
        for who in (speaker, listener):
            confirmed = RegistrationConfirmed(
                producer="registration", participant=who, submission_id="form-plans"
            )
            await project_registration(deps, confirmed)
        await project_registration(deps, confirmed)
        await project_registration(
            deps,
            RegistrationUpdated(
                producer="registration",
                participant=listener.model_copy(update={"phone": "+50370009999"}),
                changed_fields=["phone"],
            ),
        )
        listener_id = str(listener.participant_id)
        await sign_up(deps, "B1.2", listener_id)
        await sign_up(deps, "B2.4", listener_id)
        await cancel_signup(deps, "B2.4", listener_id)
        await sign_up(deps, "B2.4", people[50]["_id"])
        await project_registration(
            deps,
            RegistrationCancelled(
                producer="registration",
                participant=listener.model_copy(update={"status": "cancelled"}),
                previous_status="confirmed",
            ),
        )
        # A release naming the speaker, then their erasure; the feeds.
        await http.post("/programme/sessions/B2.2/cancel", headers=auth, json={"reason": "x"})
        await publish(deps, note="plans")
        await erase_participant(
            deps,
            ParticipantErased(
                producer="registration",
                forum_id=FORUM_ID,
                participant_id=speaker.participant_id,
                category=speaker.category,
                country=speaker.country,
                previous_status="confirmed",
            ),
        )
        await release(deps, 1)
        await personal(deps, people[0]["_id"])

        issued = list(recorder.filters)
        sorts = dict(recorder.sorts)
        # The outbox relay's sweep over every collection holding an outbox.
        issued += [(name, {"outbox_pending": True}) for name in COLLECTIONS]
        assert {name for name, _ in issued} >= set(COLLECTIONS) - {"ledgers"}

        recorder.filters.clear()
        plans = []
        for position, (name, query) in enumerate(issued):
            cursor = database[name].find(located_by(query))
            if position in sorts:
                cursor = cursor.sort(list(sorts[position].items()))
            plans.append((name, query, await cursor.explain()))
        scanned = [(name, query, plan) for name, query, plan in plans if scans(plan)]
        assert not scanned, "collection scans:\n" + "\n".join(
            f"{name} {json.dumps(query, default=str)}\n  {json.dumps(plan.get('queryPlanner', plan), default=str)}"
            for name, query, plan in scanned
        )

        # Only indexes a query uses remain: each costs every write that touches it.
        used = set().union(*(indexes_used(plan) for _, _, plan in plans))
        for name in COLLECTIONS:
            defined = set(await database[name].index_information()) - {"_id_"}
            assert defined <= used, f"{name}: indexes no query uses: {sorted(defined - used)}"

        # The detector itself: a filter no index covers is reported as a scan on this server.
        assert scans(await database["participants"].find({"email": people[0]["email"]}).explain())
    finally:
        await client.close()

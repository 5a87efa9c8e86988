"""Every query expo sends is answered from an index, and every index is used (issue 12).

SecantusDB answers a filter no index covers with a collection scan, which grows with the forum.
The queries the attendee projection, badges, scans, consent and erasure, session holds and the
secretariat's and exhibitors' reads actually send are recorded from the wire and explained
against the service's own indexes, over a few hundred attendees and leads.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.expo.attendees.handlers import (
    change_consent,
    erase_participant,
    project_participant,
    record_badge,
)
from services.expo.calendars.handlers import hold_session
from services.expo.deps import Expo, calendar_id
from services.expo.leads.handlers import scan_badge
from services.expo.leads.rules import lead_id
from services.expo.repository import ExpoRepository
from shared.contracts.registration import (
    BadgeIssued,
    Consents,
    ParticipantConsentChanged,
    ParticipantErased,
)
from shared.contracts.scheduling import LocalizedText, SessionSignupConfirmed, Slot
from tests.integration.expo.conftest import RunningExpo, confirmation
from tests.support.factories import FORUM_ID
from tests.support.wire import FilterRecorder, indexes_used, located_by, scans

ATTENDEES = 300

# Reads of a whole collection on purpose: the floor plan draws every booth.
WHOLE = {("booths", "{}")}


def crowd(exhibitor_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Attendees as the projection stores them, each with a badge token and a lead."""
    now = datetime.now(UTC)
    attendees, leads = [], []
    for n in range(ATTENDEES):
        pid = str(uuid.uuid4())
        attendees.append(
            {
                "_id": pid,
                "forum_id": FORUM_ID,
                "status": "confirmed",
                "given_name": "Ana",
                "family_name": f"López {n}",
                "consents": {"privacy_policy": True, "share_with_exhibitors": True},
                "tokens": [f"tok-{uuid.uuid4().hex}"],
                "version": 1,
                "processed": [],
                "outbox": [],
            }
        )
        leads.append(
            {
                "_id": lead_id(exhibitor_id, pid),
                "exhibitor_id": exhibitor_id,
                "participant_id": pid,
                "contact": {"given_name": "Ana"},
                "scans": 1,
                "first_scanned_at": now,
                "last_scanned_at": now,
                "notes": [],
                "version": 1,
                "processed": [],
                "outbox": [],
            }
        )
    return attendees, leads


async def test_hot_paths_and_reads_use_indexes_and_every_index_is_used(
    expo: RunningExpo, mongo_url: str
) -> None:
    recorder = FilterRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        database = client[expo.deps.settings.database]
        # The service's indexes, created when the `expo` fixture started it.
        repository = ExpoRepository(database)
        deps = Expo(pack=expo.deps.pack, repository=repository, settings=expo.deps.settings)
        exhibitor_id, _, _ = await expo.approved_exhibitor()
        attendees, leads = crowd(exhibitor_id)
        await repository.attendees.collection.insert_many(attendees)
        await repository.leads.collection.insert_many(leads)
        recorder.filters.clear()
        recorder.sorts.clear()

        # The hot path: a confirmation, its badge, scans (new and merged), consent withdrawn.
        participant_id = str(uuid.uuid4())
        confirmed = confirmation(participant_id)
        await project_participant(confirmed, deps)
        issued = BadgeIssued(
            producer="registration",
            forum_id=FORUM_ID,
            participant_id=participant_id,
            token_id=f"tok-{uuid.uuid4().hex}",
            category="emigrant_association",
        )
        await record_badge(issued, deps)
        await repository.exhibitor(exhibitor_id)  # the exhibitor's token's check
        await scan_badge(deps, exhibitor_id, issued.token_id, None)
        await scan_badge(deps, exhibitor_id, attendees[0]["tokens"][0], "otra vez")
        await change_consent(
            ParticipantConsentChanged(
                producer="registration",
                forum_id=FORUM_ID,
                participant_id=participant_id,
                consents=Consents(privacy_policy=True, share_with_exhibitors=False),
                changed=["share_with_exhibitors"],
                occurred_at=confirmed.occurred_at + timedelta(seconds=1),
            ),
            deps,
        )
        # A session sign-up (meetings give way to it) and an erasure.
        now = datetime.now(UTC)
        session = SessionSignupConfirmed(
            producer="scheduling",
            forum_id=FORUM_ID,
            session_code="B1.1",
            participant_id=participant_id,
            title=LocalizedText(es="El Fenómeno Migratorio", en="The migration phenomenon"),
            slot=Slot(
                starts_at=now,
                ends_at=now + timedelta(hours=1),
                time_zone=deps.pack.forum.time_zone,
                room="plenary",
            ),
        )
        await hold_session(session, deps)
        erased = ParticipantErased(
            producer="registration",
            forum_id=FORUM_ID,
            participant_id=attendees[1]["_id"],
            category="emigrant_association",
            country="US",
            previous_status="confirmed",
        )
        await erase_participant(erased, deps)
        # What the secretariat, exhibitors and anyone read.
        await repository.list_exhibitors(FORUM_ID)
        await repository.list_exhibitors(FORUM_ID, "approved")
        await repository.approved_without_booth(FORUM_ID)
        await repository.free_booths()
        await repository.booth_held_by(exhibitor_id)
        await repository.all_booths()
        await repository.leads_of(exhibitor_id)
        await repository.open_jobs(FORUM_ID)
        await repository.applications_of_job(str(uuid.uuid4()))
        await repository.meetings_of_party(calendar_id("participant", participant_id))
        await repository.launches(FORUM_ID, deps.pack.forum.days)

        issued_filters = list(recorder.filters)
        sorts = dict(recorder.sorts)
        # The outbox relay's sweep over every collection holding an outbox.
        stores = expo.runtime.stores.collections
        issued_filters += [(name, {"outbox_pending": True}) for name in stores]
        # Every replica's refresh of the revoked access tokens (shared/auth/revocations.py).
        issued_filters.append(("revoked_tokens", {"expires_at": {"$gt": datetime.now(UTC)}}))
        collections = {name for name, _ in issued_filters}
        assert {"attendees", "leads", "exhibitors", "calendars", "meetings"} <= collections

        plans = []
        for position, (name, query) in enumerate(issued_filters):
            cursor = database[name].find(located_by(query))
            if position in sorts:
                cursor = cursor.sort(list(sorts[position].items()))
            plans.append((name, query, await cursor.explain()))
        scanned = [
            (name, query, plan)
            for name, query, plan in plans
            if scans(plan) and (name, json.dumps(query, default=str)) not in WHOLE
        ]
        assert not scanned, "collection scans:\n" + "\n".join(
            f"{name} {json.dumps(query, default=str)}" for name, query, _ in scanned
        )

        # Only indexes a query uses remain: each costs every write that touches it.
        used: dict[str, set[str]] = {}
        for name, _, plan in plans:
            used.setdefault(name, set()).update(indexes_used(plan))
        for name in await database.list_collection_names():
            defined = set(await database[name].index_information()) - {"_id_"}
            unused = defined - used.get(name, set())
            assert not unused, f"{name}: indexes no query uses: {sorted(unused)}"

        # The detector itself: a filter no index covers is reported as a scan on this server.
        assert scans(
            await repository.attendees.collection.find({"family_name": "López 7"}).explain()
        )
    finally:
        await client.close()

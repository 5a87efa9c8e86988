"""What expo's hot paths cost the database, counted on the wire (issue 12).

Every sign-up registration confirms reaches expo as `registration.confirmed` and `badge.issued`;
every scan at a booth resolves a badge and writes a lead. A person not seen before costs one
round trip per event (an insert, an upsert); a scan of a new contact two (the token's lookup,
the lead's insert), a scan of a known one three (the insert finds it, one atomic merge).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.expo.attendees.handlers import project_participant, record_badge
from services.expo.deps import Expo
from services.expo.leads.handlers import scan_badge
from services.expo.repository import ExpoRepository
from shared.contracts.registration import BadgeIssued, RegistrationUpdated
from tests.integration.expo.conftest import RunningExpo, confirmation
from tests.support.factories import FORUM_ID
from tests.support.wire import Commands


def badge(participant_id: str, token_id: str) -> BadgeIssued:
    return BadgeIssued(
        producer="registration",
        forum_id=FORUM_ID,
        participant_id=participant_id,
        token_id=token_id,
        category="emigrant_association",
    )


async def test_a_new_attendee_its_badge_and_a_scan_cost_one_write_each(
    expo: RunningExpo, mongo_url: str
) -> None:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[commands], tz_aware=True
    )
    try:
        repository = ExpoRepository(client[expo.deps.settings.database])
        deps = Expo(pack=expo.deps.pack, repository=repository, settings=expo.deps.settings)
        exhibitor_id, _, _ = await expo.approved_exhibitor()
        await client.admin.command("ping")
        participant_id = str(uuid.uuid4())
        confirmed = confirmation(participant_id)
        commands.take()

        # registration.confirmed for a person not seen before: one insert.
        await project_participant(confirmed, deps)
        assert commands.take() == [("insert", "attendees")]

        # badge.issued: one upsert; delivered again, the same one command and no second token.
        issued = badge(participant_id, f"tok-{uuid.uuid4().hex}")
        await record_badge(issued, deps)
        assert commands.take() == [("update", "attendees")]
        await record_badge(issued, deps)
        assert commands.take() == [("update", "attendees")]
        attendee = await repository.attendee(participant_id)
        assert attendee is not None and attendee["tokens"] == [issued.token_id]
        commands.take()

        # registration.updated of a known person: read, then one update.
        updated = RegistrationUpdated(
            producer="registration",
            participant=confirmed.participant.model_copy(update={"job_title": "Tesorera"}),
            changed_fields=["job_title"],
            occurred_at=confirmed.occurred_at + timedelta(seconds=1),
        )
        await project_participant(updated, deps)
        assert commands.take() == [("find", "attendees"), ("update", "attendees")]

        # A scan at the booth: the exhibitor the token names (the route's check), the badge's
        # token, the new lead's insert. Scanned again: the insert finds it, one atomic merge.
        assert await repository.exhibitor(exhibitor_id) is not None
        first = await scan_badge(deps, exhibitor_id, issued.token_id, "primera visita")
        assert first.stored and not first.merged
        assert commands.take() == [
            ("find", "exhibitors"),
            ("find", "attendees"),
            ("insert", "leads"),
        ]
        again = await scan_badge(deps, exhibitor_id, issued.token_id, "segunda visita")
        assert (again.merged, again.scans) == (True, 2)
        assert commands.take() == [
            ("find", "attendees"),
            ("insert", "leads"),
            ("update", "leads"),  # not a findAndModify: SecantusDB reads the whole collection
            ("find", "leads"),
        ]
        lead = await repository.leads.get(first.lead_id)
        assert lead is not None
        assert lead["notes"] == ["primera visita", "segunda visita"]
        assert lead["contact"]["job_title"] == "Tesorera"
    finally:
        await client.close()


async def test_a_badge_that_overtakes_its_confirmation_is_kept_and_the_confirmation_completes(
    expo: RunningExpo, mongo_url: str
) -> None:
    """The reverse order costs the confirmation a read: the upsert made the document."""
    participant_id = str(uuid.uuid4())
    issued = badge(participant_id, f"tok-{uuid.uuid4().hex}")
    await record_badge(issued, expo.deps)
    await project_participant(
        confirmation(participant_id, occurred_at=datetime.now(UTC)), expo.deps
    )
    attendee = await expo.deps.repository.attendee(participant_id)
    assert attendee is not None
    assert (attendee["status"], attendee["tokens"]) == ("confirmed", [issued.token_id])

"""Lead capture: a badge scan stores a lead only with the attendee's consent, one per pair;
leads are exported per exhibitor; erasure removes contact details and keeps the counts."""

from __future__ import annotations

import csv
import io
import json
import uuid

from shared.badges import new_token_id, sign_badge_token
from shared.contracts.registration import (
    BadgeIssued,
    BadgeRevoked,
    ParticipantConsentChanged,
    ParticipantErased,
    RegistrationUpdated,
)
from shared.messaging.topology import DEAD_LETTER_REASON_HEADER
from tests.integration.expo.conftest import BADGE_SECRET, RunningExpo, bearer, confirmation
from tests.support.bus import dead_letters, eventually, handled, handled_at_least, publish_json
from tests.support.factories import FORUM_ID


async def test_scan_without_consent_stores_nothing_and_with_consent_exactly_one_lead_per_pair(
    expo: RunningExpo,
) -> None:
    exhibitor_id, token, _ = await expo.approved_exhibitor()
    other_id, other_token, _ = await expo.approved_exhibitor(exhibitor_type="ngo", sector=None)
    private = await expo.confirmed_participant(share=False)
    sharing = confirmation(str(uuid.uuid4()), share=True)
    # The same event delivered twice changes the projection once.
    queue = next(q for q in expo.runtime.queue_names if q.endswith(".registration-confirmed"))
    before = handled(queue)
    await expo.publish(sharing)
    await expo.publish(sharing)
    sharing_id = str(sharing.participant.participant_id)
    await handled_at_least(queue, before + 2)
    badge = BadgeIssued(
        producer="registration",
        forum_id=FORUM_ID,
        participant_id=sharing_id,
        token_id=new_token_id(),
        category="emigrant_association",
    )
    await expo.publish(badge)

    async def token_known() -> bool:
        return await expo.deps.repository.attendee_by_token(badge.token_id) is not None

    await eventually(token_known, what="badge token projected")
    attendee = await expo.deps.repository.attendee(sharing_id)
    assert attendee["processed"].count(str(sharing.event_id)) == 1

    async with expo.http() as http:
        refused = await http.post("/me/leads/scans", json={"code": private}, headers=bearer(token))
        unknown = await http.post(
            "/me/leads/scans", json={"code": "qr-nobody-has-this"}, headers=bearer(token)
        )
        first = await http.post(
            "/me/leads/scans",
            json={"code": badge.token_id, "note": '=HYPERLINK("x")'},
            headers=bearer(token),
        )
        again = [
            await http.post("/me/leads/scans", json={"code": code}, headers=bearer(token))
            for code in (sharing_id, badge.token_id)
        ]
        by_other = await http.post(
            "/me/leads/scans", json={"code": badge.token_id}, headers=bearer(other_token)
        )
        exported = await http.get("/me/leads.csv", headers=bearer(token))
        no_token = await http.get("/me/leads.csv")

    assert refused.status_code == 200 and refused.json()["stored"] is False
    assert refused.json()["explanation"]["code"] == "no_consent"
    assert (
        unknown.json()["stored"] is False
        and unknown.json()["explanation"]["code"] == "unknown_badge"
    )
    assert first.status_code == 201 and first.json()["merged"] is False
    assert [a.json()["merged"] for a in again] == [True, True] and again[-1].json()["scans"] == 3
    assert by_other.status_code == 201  # another exhibitor's lead is its own pair

    leads = expo.deps.repository.leads.collection
    assert await leads.count_documents({"participant_id": private}) == 0
    assert (
        await leads.count_documents({"participant_id": sharing_id, "exhibitor_id": exhibitor_id})
        == 1
    )
    captured = await expo.wait_events(
        "lead.captured", 2, lambda e: e["participant_id"] == sharing_id
    )
    assert {e["exhibitor_id"] for e in captured} == {exhibitor_id, other_id}
    assert all("email" not in e for e in captured)  # contact details never leave expo

    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["email"] == sharing.participant.email and rows[0]["scans"] == "3"
    assert rows[0]["notes"].startswith("'=")  # a formula in a note is neutralised for spreadsheets
    assert no_token.status_code in (401, 403)


async def test_withdrawn_consent_and_erasure(expo: RunningExpo) -> None:
    exhibitor_id, token, _ = await expo.approved_exhibitor()
    confirmed = confirmation(str(uuid.uuid4()), share=True)
    participant_id = str(confirmed.participant.participant_id)
    await expo.publish(confirmed)
    await expo.wait_attendee(participant_id)
    async with expo.http() as http:
        stored = await http.post(
            "/me/leads/scans", json={"code": participant_id}, headers=bearer(token)
        )
        meeting = await http.post(
            "/meetings",
            headers=bearer(await expo.participant_token(participant_id)),
            json={
                "invitee": {"kind": "exhibitor", "id": exhibitor_id},
                "topic": "Soy Ana López, de Houston",
            },
        )
    assert stored.status_code == 201 and meeting.status_code == 201

    withdrawn = ParticipantConsentChanged(
        producer="registration",
        forum_id=FORUM_ID,
        participant_id=participant_id,
        changed=["share_with_exhibitors"],
        consents=confirmed.participant.consents.model_copy(update={"share_with_exhibitors": False}),
    )
    await expo.publish(withdrawn)
    await expo.wait_attendee(
        participant_id,
        consents={**confirmed.participant.consents.model_dump(), "share_with_exhibitors": False},
    )
    # A registration.updated written before the withdrawal, arriving late, does not share again.
    await expo.publish(
        RegistrationUpdated(
            producer="registration",
            changed_fields=["phone"],
            occurred_at=confirmed.occurred_at,
            participant=confirmed.participant,
        )
    )
    await handled_at_least(
        next(q for q in expo.runtime.queue_names if q.endswith(".registration-updated")), 1
    )
    assert (await expo.deps.repository.attendee(participant_id))["consents"][
        "share_with_exhibitors"
    ] is False
    async with expo.http() as http:
        after = await http.post(
            "/me/leads/scans", json={"code": participant_id}, headers=bearer(token)
        )
    assert after.json()["stored"] is False and after.json()["explanation"]["code"] == "no_consent"

    async def contact_dropped() -> bool:
        lead = await expo.deps.repository.leads.collection.find_one(
            {"participant_id": participant_id}
        )
        return lead["contact"] is None and lead.get("consent_withdrawn") is True

    await eventually(contact_dropped, what="withdrawn consent removes the lead's contact")

    erased = ParticipantErased(
        producer="registration",
        forum_id=FORUM_ID,
        participant_id=participant_id,
        category="emigrant_association",
        country="US",
        previous_status="confirmed",
    )
    await expo.publish(erased)
    await expo.publish(erased)
    await expo.wait_attendee(participant_id, erased=True)

    async def meeting_wiped() -> bool:  # the last thing the erasure handler touches
        return (await expo.deps.repository.meeting(meeting.json()["meeting_id"])).get(
            "erased"
        ) is True

    await eventually(meeting_wiped, what="erasure handled")
    lead = await expo.deps.repository.leads.collection.find_one({"participant_id": participant_id})
    attendee = await expo.deps.repository.attendee(participant_id)
    assert lead["contact"] is None and lead["scans"] == 1  # the count stays, the person goes
    assert attendee["email"] is None and attendee["family_name"] is None
    assert (await expo.deps.repository.meeting(meeting.json()["meeting_id"]))["topic"] is None
    async with expo.http() as http:
        exported = await http.get("/me/leads.csv", headers=bearer(token))
    assert confirmed.participant.email not in exported.text
    assert len(list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))) == 1


async def test_a_malformed_badge_event_is_dead_lettered_with_the_field_and_reason(
    expo: RunningExpo,
) -> None:
    queue = next(name for name in expo.runtime.queue_names if name.endswith(".badge-issued"))
    body = {
        "event_type": "badge.issued",
        "event_id": str(uuid.uuid4()),
        "producer": "registration",
        "forum_id": FORUM_ID,
        "token_id": new_token_id(),
        "category": "media",
    }
    await publish_json(
        expo.amqp, expo.runtime.topology.events.name, "badge.issued", json.dumps(body).encode()
    )
    await handled_at_least(queue, 1, outcome="dead_lettered")
    reasons = [m.headers[DEAD_LETTER_REASON_HEADER] for m in await dead_letters(expo.amqp, queue)]
    assert any("participant_id: Field required" in reason for reason in reasons)


async def test_signed_badge_tokens_are_verified_and_revoked_badges_refused(
    expo: RunningExpo,
) -> None:
    _, token, _ = await expo.approved_exhibitor()
    participant_id = await expo.confirmed_participant()
    token_id = new_token_id()
    await expo.publish(
        BadgeIssued(
            producer="registration",
            forum_id=FORUM_ID,
            participant_id=participant_id,
            token_id=token_id,
            category="emigrant_association",
        )
    )

    async def issued() -> bool:
        return await expo.deps.repository.attendee_by_token(token_id) is not None

    await eventually(issued, what="badge projected")
    signed = sign_badge_token(BADGE_SECRET, FORUM_ID, token_id)
    async with expo.http() as http:
        forged = await http.post(
            "/me/leads/scans",
            json={"code": sign_badge_token("guessed", FORUM_ID, token_id)},
            headers=bearer(token),
        )
        foreign = await http.post(
            "/me/leads/scans",
            json={"code": sign_badge_token(BADGE_SECRET, "other-forum", token_id)},
            headers=bearer(token),
        )
        scanned = await http.post("/me/leads/scans", json={"code": signed}, headers=bearer(token))
    assert (
        forged.json()["stored"] is False and forged.json()["explanation"]["code"] == "forged_token"
    )
    assert foreign.json()["explanation"]["code"] == "foreign_forum"
    assert scanned.status_code == 201

    await expo.publish(
        BadgeRevoked(
            producer="registration",
            forum_id=FORUM_ID,
            participant_id=participant_id,
            token_id=token_id,
            reason="reissued",
        )
    )

    async def revoked() -> bool:
        return await expo.deps.repository.attendee_by_token(token_id) is None

    await eventually(revoked, what="badge revoked")
    async with expo.http() as http:
        after = await http.post("/me/leads/scans", json={"code": signed}, headers=bearer(token))
    assert (
        after.json()["stored"] is False and after.json()["explanation"]["code"] == "unknown_badge"
    )

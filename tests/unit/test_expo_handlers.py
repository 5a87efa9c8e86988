"""Expo's use cases on an in-memory repository (tests/support/expo_fakes.py): no broker, no
database. The integration tests prove the same paths on the real RabbitMQ and SecantusDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.expo.attendees import handlers as attendees
from services.expo.booths import handlers as booths
from services.expo.calendars import handlers as calendars
from services.expo.calendars.rules import slot_grid
from services.expo.common import Refused
from services.expo.deps import Expo
from services.expo.documents import ExhibitorDocument
from services.expo.exhibitors import handlers as exhibitors
from services.expo.jobfair import handlers as jobfair
from services.expo.launches import handlers as launches
from services.expo.leads import handlers as leads
from services.expo.meetings import handlers as meetings
from services.expo.meetings.rules import DECLINED
from services.expo.schemas import (
    ExhibitorApplication,
    JobPost,
    LaunchRequest,
    MeetingRequest,
)
from services.expo.settings import ExpoSettings
from shared.contracts.expo import Party
from shared.contracts.registration import (
    BadgeIssued,
    BadgeRevoked,
    Consents,
    Participant,
    ParticipantConsentChanged,
    ParticipantErased,
    RegistrationConfirmed,
)
from shared.contracts.scheduling import LocalizedText, SessionSignupConfirmed, Slot
from shared.pack import load_pack
from tests.support.expo_fakes import FakeExpoRepository

PACK = load_pack()
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TOKEN = "tok-0001-badge-qr"


def deps(**settings: Any) -> Expo:
    settings.setdefault("participant_token_secret", "unit-test-link-secret")  # signs access
    return Expo(
        pack=PACK,
        repository=FakeExpoRepository(PACK),  # type: ignore[arg-type]
        settings=ExpoSettings(accept_participant_id_scans=True, **settings),
        clock=lambda: NOW,
    )


def fake(expo: Expo) -> FakeExpoRepository:
    repository = expo.repository
    assert isinstance(repository, FakeExpoRepository)
    return repository


def application(**overrides: Any) -> ExhibitorApplication:
    token = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "application_id": f"expo-form-{token}",
        "name": f"Remesas {token}",
        "exhibitor_type": "company",
        "sector": "finance_remittances",
        "country": "SV",
        "contact": {"name": "María Gómez", "email": f"expo.{token}@example.org"},
        **overrides,
    }
    return ExhibitorApplication.model_validate(body, strict=False)


async def approved(expo: Expo, **overrides: Any) -> ExhibitorDocument:
    document = await exhibitors.submit_application(application(**overrides), expo)
    stored, _ = await exhibitors.approve_exhibitor(document["_id"], expo)
    return ExhibitorDocument.model_validate(stored)


def confirmed(
    participant_id: str, *, share: bool = True, at: datetime = NOW
) -> RegistrationConfirmed:
    return RegistrationConfirmed(
        producer="registration",
        participant=Participant(
            participant_id=participant_id,
            forum_id=PACK.forum.id,
            given_name="Ana",
            family_name="López",
            email="ana.lopez@example.org",
            country="US",
            category="emigrant_association",
            language="es",
            consents=Consents(privacy_policy=True, share_with_exhibitors=share),
            status="confirmed",
        ),
        submission_id=f"form-{participant_id[:8]}",
        occurred_at=at,
    )


def badge(participant_id: str, token_id: str = TOKEN) -> BadgeIssued:
    return BadgeIssued(
        producer="registration",
        forum_id=PACK.forum.id,
        participant_id=participant_id,
        token_id=token_id,
        category="emigrant_association",
    )


# --- exhibitors and booths ---------------------------------------------------------------------


async def test_an_approval_writes_the_staff_sign_ups_with_it_once() -> None:
    expo = deps()
    staff = [{"given_name": "Luis", "family_name": "Pérez", "email": "luis@example.org"}]
    document = await exhibitors.submit_application(
        application(staff=staff, staff_consented=True), expo
    )
    assert document["status"] == "applied" and document["zone"] == "finance"
    stored, token = await exhibitors.approve_exhibitor(document["_id"], expo)
    assert stored["status"] == "approved" and token
    assert fake(expo).event_types() == [
        "exhibitor.applied",
        "exhibitor.approved",
        "exhibitor.access_issued",
        "registration.submitted",
    ]
    with pytest.raises(Refused) as again:
        await exhibitors.approve_exhibitor(document["_id"], expo)
    assert (again.value.status, again.value.detail()["code"]) == (409, "already_decided")


async def test_staff_without_consent_and_an_unknown_booth_are_refused_with_their_fields() -> None:
    expo = deps()
    staff = [{"given_name": "Luis", "family_name": "Pérez", "email": "luis@example.org"}]
    with pytest.raises(Refused) as refused:
        await exhibitors.submit_application(
            application(staff=staff, booth_preferences=["Z99"]), expo
        )
    fields = [p["field"] for p in refused.value.detail()["problems"]]
    assert fields == ["booth_preferences[0]", "staff_consented"]
    assert fake(expo).exhibitors.documents == {}


async def test_a_booth_request_takes_the_best_free_booth_once_and_allocation_skips_it() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    answer = await booths.request_booth(exhibitor.id, expo)
    assert answer.booth is not None and answer.explanation.code == "first_free_in_zone"
    assert fake(expo).booths[answer.booth]["exhibitor_id"] == exhibitor.id
    again = await booths.request_booth(exhibitor.id, expo)
    assert again.booth == answer.booth
    assert await booths.allocate_floor(expo) == []
    assert fake(expo).event_types().count("booth.assigned") == 1


async def test_a_claim_a_crash_left_unrecorded_is_recorded_by_the_next_request() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    code = next(b.code for b in PACK.booths if b.zone == "finance")
    why = {"code": "first_free_in_zone", "es": "…", "en": "…"}
    await fake(expo).claim_booth(code, exhibitor.id, exhibitor.name, why, manual=False, now=NOW)
    answer = await booths.request_booth(exhibitor.id, expo)
    assert answer.booth == code
    assert fake(expo).exhibitors.documents[exhibitor.id]["booth"] == code


async def test_a_manual_assignment_displaces_and_a_reset_keeps_it() -> None:
    expo = deps()
    first, second = await approved(expo), await approved(expo)
    taken = await booths.request_booth(first.id, expo)
    assert taken.booth is not None
    with pytest.raises(Refused):
        await booths.assign_manually(expo, taken.booth, second.id, "Patrocinador", False)
    manual = await booths.assign_manually(expo, taken.booth, second.id, "Patrocinador", True)
    assert manual.manual and fake(expo).booths[taken.booth]["exhibitor_id"] == second.id
    assert fake(expo).exhibitors.documents[first.id]["booth"] is None
    assert await booths.reset_allocation(expo, "Nueva ronda") == 0


# --- the attendee projection and leads ---------------------------------------------------------


async def test_a_confirmation_and_its_badge_make_a_scannable_attendee_whatever_the_order() -> None:
    for badge_first in (False, True):
        expo = deps()
        pid = str(uuid.uuid4())
        events = [confirmed(pid), badge(pid)]
        for event in reversed(events) if badge_first else events:
            for _ in range(2):  # each delivered twice
                if isinstance(event, BadgeIssued):
                    await attendees.record_badge(event, expo)
                else:
                    await attendees.project_participant(event, expo)
        attendee = fake(expo).attendees.documents[pid]
        assert (attendee["status"], attendee["tokens"]) == ("confirmed", [TOKEN])
        assert attendee["processed"].count(str(events[0].event_id)) == 1


async def test_a_scan_captures_once_merges_after_and_a_revoked_badge_names_nobody() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    pid = str(uuid.uuid4())
    await attendees.project_participant(confirmed(pid), expo)
    await attendees.record_badge(badge(pid), expo)
    first = await leads.scan_badge(expo, exhibitor.id, TOKEN, "café")
    again = await leads.scan_badge(expo, exhibitor.id, TOKEN, "segunda")
    assert (first.stored, first.merged, again.merged, again.scans) == (True, False, True, 2)
    lead = fake(expo).leads.documents[first.lead_id]
    assert lead["notes"] == ["café", "segunda"] and lead["contact"]["email"]
    assert fake(expo).event_types().count("lead.captured") == 1
    revoked = BadgeRevoked(
        producer="registration",
        forum_id=PACK.forum.id,
        participant_id=pid,
        token_id=TOKEN,
        reason="reissued",
    )
    await attendees.revoke_badge(revoked, expo)
    gone = await leads.scan_badge(expo, exhibitor.id, TOKEN, None)
    assert (gone.stored, gone.explanation.code) == (False, "unknown_badge")
    await attendees.record_badge(badge(pid), expo)  # a late issue of the revoked token
    assert fake(expo).attendees.documents[pid]["tokens"] == []


async def test_no_consent_no_lead_and_withdrawn_consent_or_erasure_wipes_the_contact() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    private, sharing = str(uuid.uuid4()), str(uuid.uuid4())
    await attendees.project_participant(confirmed(private, share=False), expo)
    refused = await leads.scan_badge(expo, exhibitor.id, private, None)
    assert (refused.stored, refused.explanation.code) == (False, "no_consent")
    await attendees.project_participant(confirmed(sharing), expo)
    captured = await leads.scan_badge(expo, exhibitor.id, sharing, "nota")
    withdrawn = ParticipantConsentChanged(
        producer="registration",
        forum_id=PACK.forum.id,
        participant_id=sharing,
        consents=Consents(privacy_policy=True, share_with_exhibitors=False),
        changed=["share_with_exhibitors"],
        occurred_at=NOW + timedelta(minutes=1),
    )
    await attendees.change_consent(withdrawn, expo)
    lead = fake(expo).leads.documents[captured.lead_id]
    assert (lead["contact"], lead["notes"], lead["consent_withdrawn"]) == (None, [], True)
    erased = ParticipantErased(
        producer="registration",
        forum_id=PACK.forum.id,
        participant_id=sharing,
        category="emigrant_association",
        country="US",
        previous_status="confirmed",
    )
    await attendees.erase_participant(erased, expo)
    attendee = fake(expo).attendees.documents[sharing]
    assert attendee["erased"] and attendee["email"] is None and attendee["tokens"] == []
    assert fake(expo).leads.documents[captured.lead_id]["scans"] == 1  # the count stays


# --- meetings, sessions, launches, the job fair -----------------------------------------------


async def test_an_accepted_meeting_gets_a_slot_and_a_table_and_gives_way_to_a_session() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    pid = str(uuid.uuid4())
    await attendees.project_participant(confirmed(pid), expo)
    participant = Party(kind="participant", id=pid)
    request = MeetingRequest(invitee=Party(kind="exhibitor", id=exhibitor.id), topic="Remesas")
    meeting = await meetings.request_meeting(expo, participant, request)
    accepted = await meetings.accept_meeting(expo, meeting["_id"], request.invitee)
    first_slot = slot_grid(PACK, expo.settings.meeting_minutes)[0]
    assert (accepted["status"], accepted["table"]) == ("confirmed", 1)
    assert accepted["starts_at"] == first_slot.starts_at
    session = SessionSignupConfirmed(
        producer="scheduling",
        forum_id=PACK.forum.id,
        session_code="B1.1",
        participant_id=pid,
        title=LocalizedText(es="Sesión", en="Session"),
        slot=Slot(
            starts_at=first_slot.starts_at,
            ends_at=first_slot.ends_at,
            time_zone=PACK.forum.time_zone,
            room="plenary",
        ),
    )
    await calendars.hold_session(session, expo)
    await calendars.hold_session(session, expo)  # delivered twice: moved once
    moved = fake(expo).meetings.documents[meeting["_id"]]
    assert moved["status"] == "confirmed" and moved["starts_at"] >= first_slot.ends_at
    assert fake(expo).event_types().count("meeting.confirmed") == 2


async def test_a_declined_meeting_cannot_be_accepted_and_says_its_state_in_words() -> None:
    expo = deps()
    exhibitor = await approved(expo)
    pid = str(uuid.uuid4())
    await attendees.project_participant(confirmed(pid), expo)
    request = MeetingRequest(invitee=Party(kind="exhibitor", id=exhibitor.id), topic="Remesas")
    meeting = await meetings.request_meeting(expo, Party(kind="participant", id=pid), request)
    await meetings.decline_meeting(expo, meeting["_id"], request.invitee, DECLINED)
    with pytest.raises(Refused) as late:
        await meetings.accept_meeting(expo, meeting["_id"], request.invitee)
    detail = late.value.detail()
    assert detail["es"] == "La reunión ya está declinada."
    assert detail["en"] == "The meeting is already declined."


async def test_a_meeting_with_oneself_or_past_the_cap_is_refused() -> None:
    expo = deps(meeting_cap=1)
    exhibitor = await approved(expo)
    pid = str(uuid.uuid4())
    await attendees.project_participant(confirmed(pid), expo)
    me = Party(kind="participant", id=pid)
    with pytest.raises(Refused) as same:
        await meetings.request_meeting(expo, me, MeetingRequest(invitee=me, topic="Conmigo"))
    assert same.value.status == 422
    invitee = Party(kind="exhibitor", id=exhibitor.id)
    await meetings.request_meeting(expo, me, MeetingRequest(invitee=invitee, topic="Uno"))
    with pytest.raises(Refused) as capped:
        await meetings.request_meeting(expo, me, MeetingRequest(invitee=invitee, topic="Dos"))
    assert capped.value.detail()["code"] == "meeting_cap_reached"


async def test_launches_on_the_stage_never_overlap() -> None:
    expo = deps(launches_per_exhibitor=2)
    first, second = await approved(expo), await approved(expo)
    opens = PACK.programme.days[0].expo_hours
    assert opens is not None
    start = (datetime.combine(NOW.date(), opens.opens_at) + timedelta(hours=2)).strftime("%H:%M")
    request = LaunchRequest(kind="product", title="Remesa Directa", day=0, starts_at=start)
    booked = await launches.schedule_launch(expo, first, request)
    with pytest.raises(Refused) as taken:
        await launches.schedule_launch(expo, second, request)
    assert [p["code"] for p in taken.value.detail()["problems"]] == ["slot_taken"]
    assert len(fake(expo).stage.documents[f"{PACK.forum.id}:0"]["launches"]) == 1
    assert booked["room"]


async def test_the_job_fair_from_post_to_interview() -> None:
    expo = deps()
    company = await approved(expo)
    with pytest.raises(Refused):
        await jobfair.post_job(expo, company, JobPost(title="Analista", description="x" * 20))
    employer = await approved(expo, exhibitor_type="job_fair_employer", sector=None)
    job = await jobfair.post_job(
        expo, employer, JobPost(title="Ingeniera de software", description="Desarrollo " * 3)
    )
    pid = str(uuid.uuid4())
    await attendees.project_participant(confirmed(pid), expo)
    with pytest.raises(Refused) as wrong_type:
        await jobfair.apply_to_job(expo, job["_id"], pid, b"<html>", "cv.html", None)
    assert wrong_type.value.status == 415
    sent = await jobfair.apply_to_job(expo, job["_id"], pid, b"%PDF-1.7 cv", "cv.pdf", "Hola")
    same = await jobfair.apply_to_job(expo, job["_id"], pid, b"%PDF-1.7 cv", "cv.pdf", "Hola")
    assert same["_id"] == sent["_id"]
    cv = await jobfair.cv_for_employer(expo, employer, sent["_id"])
    assert cv["filename"] == "cv.pdf"
    with pytest.raises(Refused):
        await jobfair.cv_for_employer(expo, company, sent["_id"])
    interview = await jobfair.schedule_interview(expo, employer, sent["_id"])
    assert interview["status"] == "interview_scheduled"
    assert fake(expo).event_types().count("interview.scheduled") == 1

"""Events published by the expo service: exhibitors, booths, launches, leads, B2B meetings, job fair.

Every event names people and organisations by id only, except where the reader needs a name to
show (an exhibitor's public name on a booth or a launch). Contact details of attendees never
travel in expo's events: leads stay in expo's database, exported only to the exhibitor who
captured them. Approved exhibitors' staff are registered by publishing `registration.submitted`
(see `shared.contracts.registration`) to the intake exchange, like any sign-up form. Expo consumes
registration's participant, badge, consent and erasure events, and scheduling's session sign-ups.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Event, Language, Timestamp
from shared.contracts.registration import Email, Phone

ForumId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        description="Forum (event pack) id.",
        examples=["crm-foro-sector-privado-migraciones"],
    ),
]
ExhibitorId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="expo's id of the exhibitor.",
        examples=["9a5c3e1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    ),
]
ParticipantRef = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="Registration's id of the participant.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    ),
]
BoothCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$",
        description="Booth code on the floor plan.",
        examples=["F01"],
    ),
]
PackCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$", examples=["finance"])]
ExhibitorType = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Exhibitor type code from the event pack.",
        examples=["company"],
    ),
]
Tier = Literal["standard", "premium", "sponsor"]


class Explanation(Contract):
    """Why something was decided, in both languages, for the person it concerns."""

    code: str = Field(description="Machine-readable reason.", examples=["preference_honoured"])
    es: str = Field(
        description="Explanation in Spanish.",
        examples=["Su primera preferencia, F02, estaba libre."],
    )
    en: str = Field(
        description="Explanation in English.", examples=["Your first preference, F02, was free."]
    )


class Party(Contract):
    """One side of a B2B meeting: a registered participant or an exhibitor."""

    kind: Literal["participant", "exhibitor"] = Field(
        description="What the party is.", examples=["exhibitor"]
    )
    id: uuid.UUID = Field(
        strict=False,
        description="Participant id (registration's) or exhibitor id (expo's).",
        examples=["9a5c3e1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )


# --- exhibitors -----------------------------------------------------------------------------


class _ExhibitorEvent(Event):
    forum_id: ForumId
    exhibitor_id: ExhibitorId
    name: str = Field(
        max_length=200, description="Public name of the exhibitor.", examples=["Banco Agrícola"]
    )
    exhibitor_type: ExhibitorType
    sector: PackCode | None = Field(
        None, description="Business sector code (companies only).", examples=["finance_remittances"]
    )
    zone: PackCode = Field(description="Expo zone the exhibitor belongs to.", examples=["finance"])
    language: Language = Field(
        "es", description="Language of the exhibitor's contact.", examples=["es"]
    )


class ExhibitorApplied(_ExhibitorEvent):
    """An organisation applied to exhibit; the secretariat will approve or reject it."""

    event_type: Literal["exhibitor.applied"] = "exhibitor.applied"
    staff_count: int = Field(ge=0, description="Staff members listed for the booth.", examples=[3])


class ExhibitorApproved(_ExhibitorEvent):
    """The secretariat approved the exhibitor; its staff are being registered."""

    event_type: Literal["exhibitor.approved"] = "exhibitor.approved"
    contact_email: str = Field(
        max_length=254,
        description="Business contact to tell.",
        examples=["expo@bancoagricola.example"],
    )
    staff_count: int = Field(ge=0, description="Staff sign-ups sent to registration.", examples=[3])


class ExhibitorAccessIssued(Event):
    """An exhibitor was given a new access token (at approval, or when the secretariat issued a
    new one): every earlier one is refused from now on. Ids and times only, never the token."""

    event_type: Literal["exhibitor.access_issued"] = "exhibitor.access_issued"
    forum_id: ForumId
    exhibitor_id: ExhibitorId
    token_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-]{8,64}$",
        description="The new token's id (its `jti`).",
        examples=["5f2c9a0e4b7d4c1e9a3f6b2d8c0e1a47"],
    )
    replaced_token_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_\-]{8,64}$",
        description="The token it replaces (revoked with every older one); none at approval.",
    )
    expires_at: Timestamp = Field(description="When the new token expires.")


class ExhibitorRejected(_ExhibitorEvent):
    """The secretariat rejected the application, with a reason for the applicant."""

    event_type: Literal["exhibitor.rejected"] = "exhibitor.rejected"
    contact_email: str = Field(
        max_length=254,
        description="Business contact to tell.",
        examples=["expo@bancoagricola.example"],
    )
    reason: str = Field(
        max_length=1000,
        description="The secretariat's reason.",
        examples=["Fuera del ámbito del foro"],
    )


# --- booths ---------------------------------------------------------------------------------


class BoothAssigned(Event):
    """An exhibitor holds a booth (by the allocation rules, or by the secretariat's decision)."""

    event_type: Literal["booth.assigned"] = "booth.assigned"
    forum_id: ForumId
    exhibitor_id: ExhibitorId
    exhibitor_name: str = Field(
        max_length=200, description="Name printed on the floor plan.", examples=["Banco Agrícola"]
    )
    booth: BoothCode
    zone: PackCode = Field(description="Zone of the booth.", examples=["finance"])
    tier: Tier = Field(description="Booth tier.", examples=["premium"])
    price_usd: str = Field(
        description="Booth price in US dollars (decimal text).", examples=["900"]
    )
    manual: bool = Field(
        False, description="Assigned by the secretariat, overriding the rules.", examples=[False]
    )
    explanation: Explanation = Field(description="Why this booth.")


class BoothReleased(Event):
    """A booth became free again (secretariat override or withdrawal)."""

    event_type: Literal["booth.released"] = "booth.released"
    forum_id: ForumId
    exhibitor_id: ExhibitorId
    booth: BoothCode
    reason: str | None = Field(
        None, max_length=500, description="Why.", examples=["Reasignado por la secretaría"]
    )


class BoothRequestRefused(Event):
    """No booth could be given to the exhibitor; the explanation says why."""

    event_type: Literal["booth.request_refused"] = "booth.request_refused"
    forum_id: ForumId
    exhibitor_id: ExhibitorId
    zone: PackCode = Field(description="Zone the exhibitor may be placed in.", examples=["finance"])
    explanation: Explanation


# --- launches -------------------------------------------------------------------------------


class LaunchScheduled(Event):
    """A launch (lanzamiento) of a project, product or service has a slot on the expo stage.
    The programme shows it beside the sessions."""

    event_type: Literal["launch.scheduled"] = "launch.scheduled"
    forum_id: ForumId
    launch_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the launch.",
        examples=["5b8f5c2e-1f0c-5d7e-9a57-3c7d5e3b2a10"],
    )
    exhibitor_id: ExhibitorId
    exhibitor_name: str = Field(
        max_length=200, description="Who launches, as printed.", examples=["Banco Agrícola"]
    )
    kind: Literal["project", "product", "service"] = Field(
        description="What is launched.", examples=["product"]
    )
    title: str = Field(
        max_length=200, description="Title as the exhibitor wrote it.", examples=["Remesa Directa"]
    )
    description: str | None = Field(
        None,
        max_length=1000,
        description="What is launched, in the exhibitor's words.",
        examples=["Envíos a cuentas de ahorro en origen."],
    )
    language: Language = Field(
        "es", description="Language the launch is presented in.", examples=["es"]
    )
    room: PackCode = Field(description="Room code of the expo stage.", examples=["expo_stage"])
    starts_at: Timestamp
    ends_at: Timestamp


# --- leads ----------------------------------------------------------------------------------


class LeadCaptured(Event):
    """An exhibitor scanned the badge of an attendee who consented to share contact details.
    Contact details stay in expo; repeated scans merge into this one lead."""

    event_type: Literal["lead.captured"] = "lead.captured"
    forum_id: ForumId
    lead_id: uuid.UUID = Field(
        strict=False,
        description="Lead id, derived from exhibitor and participant.",
        examples=["2d9c1c0e-3f7a-5a7e-8e0a-7b2b6a9f1c22"],
    )
    exhibitor_id: ExhibitorId
    participant_id: ParticipantRef
    scanned_at: Timestamp


# --- B2B meetings ---------------------------------------------------------------------------


class MeetingRequested(Event):
    """Someone asked for a B2B meeting; the other side accepts or declines."""

    event_type: Literal["meeting.requested"] = "meeting.requested"
    forum_id: ForumId
    meeting_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the meeting.",
        examples=["7c1f0a9e-4a39-5d0e-9a57-3c7d5e3b2a10"],
    )
    requester: Party
    invitee: Party
    topic: str = Field(
        max_length=300,
        description="What the requester wants to discuss.",
        examples=["Alianza para remesas productivas"],
    )


class MeetingConfirmed(Event):
    """The invitee accepted; the meeting has a slot and a table, clear of both parties' sessions
    and other meetings. Published again, with `previous_starts_at` and the reason, when a session
    one party signed up for later moved the meeting (sessions win)."""

    event_type: Literal["meeting.confirmed"] = "meeting.confirmed"
    forum_id: ForumId
    meeting_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the meeting.",
        examples=["7c1f0a9e-4a39-5d0e-9a57-3c7d5e3b2a10"],
    )
    requester: Party
    invitee: Party
    starts_at: Timestamp
    ends_at: Timestamp
    table: int = Field(ge=1, description="Table number in the B2B area.", examples=[4])
    previous_starts_at: Timestamp | None = Field(
        None,
        description="Set when the meeting moved: when it was before.",
        examples=["2004-11-18T15:45:00Z"],
    )
    explanation: Explanation | None = Field(None, description="Why it moved (only when it moved).")


class MeetingDeclined(Event):
    """The invitee declined, or no common slot was left (also when a session displaced a
    confirmed meeting and no other slot was free)."""

    event_type: Literal["meeting.declined"] = "meeting.declined"
    forum_id: ForumId
    meeting_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the meeting.",
        examples=["7c1f0a9e-4a39-5d0e-9a57-3c7d5e3b2a10"],
    )
    requester: Party
    invitee: Party
    explanation: Explanation


# --- job fair -------------------------------------------------------------------------------


class JobPosted(Event):
    """An employer of the job fair (bolsa de trabajo) posted a job."""

    event_type: Literal["job.posted"] = "job.posted"
    forum_id: ForumId
    job_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the job.",
        examples=["1e2d3c4b-5a69-5788-9900-aabbccddeeff"],
    )
    exhibitor_id: ExhibitorId
    employer_name: str = Field(
        max_length=200,
        description="The employer's public name.",
        examples=["Talento de Retorno S.A."],
    )
    title: str = Field(max_length=200, description="Job title.", examples=["Ingeniera de software"])
    location: str | None = Field(
        None, max_length=200, description="Where the job is.", examples=["San Salvador"]
    )


class JobApplicationReceived(Event):
    """A participant applied to a job with a CV (stored in expo, readable by the employer only)."""

    event_type: Literal["job_application.received"] = "job_application.received"
    forum_id: ForumId
    application_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the application.",
        examples=["0f0e0d0c-0b0a-5908-8706-050403020100"],
    )
    job_id: uuid.UUID = Field(
        strict=False,
        description="The job applied to.",
        examples=["1e2d3c4b-5a69-5788-9900-aabbccddeeff"],
    )
    exhibitor_id: ExhibitorId
    participant_id: ParticipantRef


class InterviewScheduled(Event):
    """The employer scheduled an interview at its booth, clear of the applicant's sessions and meetings."""

    event_type: Literal["interview.scheduled"] = "interview.scheduled"
    forum_id: ForumId
    application_id: uuid.UUID = Field(
        strict=False,
        description="expo's id of the application.",
        examples=["0f0e0d0c-0b0a-5908-8706-050403020100"],
    )
    job_id: uuid.UUID = Field(
        strict=False,
        description="The job applied to.",
        examples=["1e2d3c4b-5a69-5788-9900-aabbccddeeff"],
    )
    exhibitor_id: ExhibitorId
    participant_id: ParticipantRef
    booth: BoothCode | None = Field(
        None, description="Where: the employer's booth, when it has one.", examples=["J01"]
    )
    starts_at: Timestamp
    ends_at: Timestamp


# --- commands' parts -------------------------------------------------------------------------


class StaffMember(Contract):
    """A person who will run the booth; registered by expo with category `exhibitor_staff`."""

    given_name: str = Field(min_length=1, max_length=100, examples=["Luis"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Pérez"])
    email: Email
    phone: Phone | None = None
    job_title: str | None = Field(None, max_length=200, examples=["Ejecutivo de remesas"])
    language: Language = Field("es", examples=["es"])

"""Events published by the scheduling service (the forum's programme).

Programme changes become official when the secretariat publishes a release: `programme.published`
announces it, and every session it moves or cancels gets one `session.rescheduled` or
`session.cancelled` naming the people affected (people on the session and attendees signed up),
so the notification service can tell each of them. Session sign-ups, panelist invitations and
travel support commitments are events too; the reporting service totals them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Event, Language, Timestamp

SessionCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$",
        description="Session code as printed on the agenda.",
        examples=["B1.2"],
    ),
]
ForumId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        description="Forum (event pack) id.",
        examples=["crm-foro-sector-privado-migraciones"],
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
Role = Literal["speaker", "panelist", "moderator", "chair", "rapporteur"]
PersonId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Scheduling's id of a person on the programme.",
        examples=["p-5f2c9a1b"],
    ),
]


TITLE_EXAMPLE = {"es": "Las remesas", "en": "Remittances"}
SLOT_EXAMPLE = {
    "starts_at": "2004-11-18T20:30:00Z",
    "ends_at": "2004-11-18T21:00:00Z",
    "time_zone": "America/El_Salvador",
    "room": "plenary",
    "room_name": {"es": "Salón plenario", "en": "Plenary hall"},
}
AFFECTED_EXAMPLE = [
    {
        "relation": "speaker",
        "participant_id": None,
        "person_id": "p-5f2c9a1b0d3e4f56",
        "name": "Sam Rivera",
        "email": "sam.rivera@example.org",
        "phone": None,
        "language": "en",
    },
    {
        "relation": "attendee",
        "participant_id": "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11",
        "person_id": None,
        "name": "Ana López",
        "email": "ana.lopez@example.org",
        "phone": "+50370001234",
        "language": "es",
    },
]


class LocalizedText(Contract):
    """Human-facing text in both languages of the forum."""

    es: str = Field(description="Spanish text.", examples=["Las remesas"])
    en: str = Field(description="English text.", examples=["Remittances"])


class Slot(Contract):
    """When and where a session takes place."""

    starts_at: Timestamp = Field(description="Start (ISO 8601 with offset).")
    ends_at: Timestamp = Field(description="End (ISO 8601 with offset).")
    time_zone: str = Field(
        description="IANA time zone of the venue.", examples=["America/El_Salvador"]
    )
    room: str | None = Field(
        None, description="Room code from the event pack.", examples=["plenary"]
    )
    room_name: LocalizedText | None = Field(
        None,
        description="Room name.",
        examples=[{"es": "Sala de trabajo A", "en": "Breakout room A"}],
    )


class AffectedPerson(Contract):
    """Someone a change concerns, with what the notification service needs to reach them."""

    relation: Literal[
        "speaker", "panelist", "moderator", "chair", "rapporteur", "attendee", "waitlisted"
    ] = Field(description="How the person relates to the session.", examples=["attendee"])
    participant_id: ParticipantRef | None = Field(
        None,
        description="Registration's participant id, when the person is registered.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )
    person_id: PersonId | None = Field(
        None,
        description="Scheduling's id, for people on the session.",
        examples=["p-5f2c9a1b0d3e4f56"],
    )
    name: str | None = Field(
        None,
        max_length=200,
        description="Display name (absent once erased).",
        examples=["Ana López"],
    )
    email: str | None = Field(
        None, max_length=254, description="E-mail, when known.", examples=["ana.lopez@example.org"]
    )
    phone: str | None = Field(
        None,
        max_length=20,
        description="Mobile phone in E.164 form, when known.",
        examples=["+50370001234"],
    )
    language: Language = Field("es", description="Language the person reads.", examples=["es"])


class ChangeSummary(Contract):
    """What a release changed compared with the previous one."""

    added: list[SessionCode] = Field(
        default_factory=list, description="Sessions new in this release.", examples=[["B2.7"]]
    )
    moved: list[SessionCode] = Field(
        default_factory=list,
        description="Sessions whose time or room changed.",
        examples=[["B2.1"]],
    )
    cancelled: list[SessionCode] = Field(
        default_factory=list, description="Sessions cancelled in this release.", examples=[["B1.3"]]
    )
    people_changed: list[SessionCode] = Field(
        default_factory=list, description="Sessions whose people changed.", examples=[["B1.2"]]
    )
    updated: list[SessionCode] = Field(
        default_factory=list,
        description="Sessions whose titles, descriptions or audience changed.",
        examples=[["B2.2"]],
    )


class ProgrammePublished(Event):
    """The secretariat published a new release of the programme (the agenda everyone sees)."""

    event_type: Literal["programme.published"] = "programme.published"
    forum_id: ForumId
    release: int = Field(ge=1, description="Release number, 1 for the first.", examples=[2])
    published_at: Timestamp
    sessions: int = Field(
        ge=0, description="Scheduled (not cancelled) items in the release.", examples=[24]
    )
    warnings: int = Field(
        ge=0, description="Soft conflicts left in the release (no rapporteur...).", examples=[3]
    )
    changes: ChangeSummary = Field(
        description="The changelog against the previous release.",
        examples=[
            {
                "added": [],
                "moved": ["B2.1"],
                "cancelled": [],
                "people_changed": ["B1.2"],
                "updated": [],
            }
        ],
    )
    note: str | None = Field(
        None, max_length=500, description="The secretariat's note.", examples=["Bloque 2 movido"]
    )


class SessionRescheduled(Event):
    """A published release moved a session (time and/or room)."""

    event_type: Literal["session.rescheduled"] = "session.rescheduled"
    forum_id: ForumId
    release: int = Field(ge=1, description="Release that made the change.", examples=[2])
    session_code: SessionCode
    title: LocalizedText = Field(description="Session title.", examples=[TITLE_EXAMPLE])
    previous: Slot = Field(description="Where and when it was.", examples=[SLOT_EXAMPLE])
    current: Slot = Field(
        description="Where and when it is now.", examples=[{**SLOT_EXAMPLE, "room": "breakout_a"}]
    )
    affected: list[AffectedPerson] = Field(
        description="Everyone to tell, each once.", examples=[AFFECTED_EXAMPLE]
    )


class SessionCancelled(Event):
    """A published release cancelled a session."""

    event_type: Literal["session.cancelled"] = "session.cancelled"
    forum_id: ForumId
    release: int = Field(ge=1, description="Release that cancelled it.", examples=[2])
    session_code: SessionCode
    title: LocalizedText = Field(description="Session title.", examples=[TITLE_EXAMPLE])
    previous: Slot = Field(
        description="Where and when it was to take place.", examples=[SLOT_EXAMPLE]
    )
    reason: str | None = Field(
        None, max_length=500, description="Why, for the people affected.", examples=["Fuerza mayor"]
    )
    affected: list[AffectedPerson] = Field(
        description="Everyone to tell, each once.", examples=[AFFECTED_EXAMPLE]
    )


DraftField = Literal[
    "starts_at",
    "ends_at",
    "room",
    "title",
    "description",
    "expected_audience",
    "seats",
    "status",
    "cancel_reason",
    "people",
]
"""A field of a draft session the secretariat edits (`status`: cancelled or restored)."""

DraftVersion = Annotated[
    int,
    Field(
        ge=1,
        description="The draft session's version after the change (1 when created; each change "
        "adds one), so an audit reader orders a session's edits.",
        examples=[3],
    ),
]


class SessionDraftCreated(Event):
    """The secretariat added a session to the draft programme (the agenda changes only when a
    release publishes it). Who did it is the envelope's `actor`; what the session holds is the
    draft's, read with `GET /programme/draft`."""

    event_type: Literal["session.draft_created"] = "session.draft_created"
    forum_id: ForumId
    session_code: SessionCode
    draft_version: DraftVersion = Field(examples=[1])


class SessionDraftEdited(Event):
    """The secretariat changed a draft session: moved, retitled, resized, cancelled or restored
    it, or changed its people. Names of the fields changed only, never their values (a title or
    a reason is free text): the draft holds them."""

    event_type: Literal["session.draft_edited"] = "session.draft_edited"
    forum_id: ForumId
    session_code: SessionCode
    fields: list[DraftField] = Field(
        min_length=1,
        max_length=10,
        description="The fields the change set, sorted.",
        examples=[["ends_at", "starts_at"]],
    )
    draft_version: DraftVersion


class _Signup(Event):
    forum_id: ForumId
    session_code: SessionCode
    participant_id: ParticipantRef
    title: LocalizedText = Field(description="Session title.", examples=[TITLE_EXAMPLE])
    slot: Slot = Field(
        description="When and where the session takes place.", examples=[SLOT_EXAMPLE]
    )


class SessionSignupConfirmed(_Signup):
    """A confirmed participant holds a seat in a session."""

    event_type: Literal["session.signup_confirmed"] = "session.signup_confirmed"


class SessionSignupWaitlisted(_Signup):
    """The session is full: the participant waits and is promoted in order when a seat frees."""

    event_type: Literal["session.signup_waitlisted"] = "session.signup_waitlisted"
    position: int = Field(ge=1, description="Place on the session's waitlist.", examples=[2])


class SessionSignupPromoted(_Signup):
    """A waitlisted participant got a seat that a cancellation freed."""

    event_type: Literal["session.signup_promoted"] = "session.signup_promoted"


class SessionSignupCancelled(_Signup):
    """A participant gave up a seat or waitlist place (or lost it with their registration)."""

    event_type: Literal["session.signup_cancelled"] = "session.signup_cancelled"
    was: Literal["confirmed", "waitlisted"] = Field(
        description="What the participant held.", examples=["confirmed"]
    )


class _Panelist(Event):
    forum_id: ForumId
    session_code: SessionCode
    person_id: PersonId
    participant_id: ParticipantRef | None = Field(
        None,
        description="Registration's id, when registered.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )
    role: Role = Field(description="Role on the session.", examples=["panelist"])
    country: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="Country represented.", examples=["GT"]
    )


class PanelistInvited(_Panelist):
    """The secretariat invited someone to take part in a session."""

    event_type: Literal["panelist.invited"] = "panelist.invited"
    travel_support_requested: bool = Field(
        False, description="The invitation offers travel support.", examples=[True]
    )


class PanelistAccepted(_Panelist):
    """The invited person accepted."""

    event_type: Literal["panelist.accepted"] = "panelist.accepted"


class PanelistDeclined(_Panelist):
    """The invited person declined."""

    event_type: Literal["panelist.declined"] = "panelist.declined"


Money = Annotated[
    Decimal,
    Field(
        strict=False,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="Amount.",
        examples=["850.00"],
    ),
]


class TravelSupportCommitted(Event):
    """Money of the panelist-support budget line committed to an accepted panelist's travel."""

    event_type: Literal["travel_support.committed"] = "travel_support.committed"
    forum_id: ForumId
    support_id: uuid.UUID = Field(
        strict=False,
        description="Stable id of this commitment (one per session and person); its cancellation names it.",
        examples=["9a3f4c2e-1b7d-5e60-8f21-6c0d2b9e4a17"],
    )
    session_code: SessionCode
    person_id: PersonId
    participant_id: ParticipantRef | None = Field(
        None,
        description="Registration's id, when registered.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )
    amount: Money = Field(
        description="Amount committed (a string with two decimals in JSON).", examples=["850.00"]
    )
    currency: Literal["USD"] = Field("USD", description="ISO 4217 currency.", examples=["USD"])
    budget_line: str = Field(
        "panelist_support",
        description="Budget line code from the event pack.",
        examples=["panelist_support"],
    )
    committed_total: Money = Field(
        description="Everything committed on the line after this commitment.", examples=["2350.00"]
    )
    line_amount: Money = Field(description="The line's planned amount.", examples=["5000.00"])


class TravelSupportCancelled(Event):
    """A commitment of panelist support was withdrawn (the panelist declined): its amount is free again."""

    event_type: Literal["travel_support.cancelled"] = "travel_support.cancelled"
    forum_id: ForumId
    support_id: uuid.UUID = Field(
        strict=False,
        description="The commitment withdrawn.",
        examples=["9a3f4c2e-1b7d-5e60-8f21-6c0d2b9e4a17"],
    )
    session_code: SessionCode
    person_id: PersonId
    participant_id: ParticipantRef | None = Field(
        None,
        description="Registration's id, when registered.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )
    amount: Money = Field(
        description="Amount that was committed and is released.", examples=["850.00"]
    )
    currency: Literal["USD"] = Field("USD", description="ISO 4217 currency.", examples=["USD"])
    budget_line: str = Field(
        "panelist_support", description="Budget line code.", examples=["panelist_support"]
    )
    committed_total: Money = Field(
        description="Everything still committed on the line.", examples=["1500.00"]
    )
    line_amount: Money = Field(description="The line's planned amount.", examples=["5000.00"])
    reason: str = Field("declined", description="Why.", examples=["declined"])

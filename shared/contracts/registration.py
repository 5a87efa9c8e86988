"""Events published or consumed by the registration service.

`RegistrationSubmitted` and `RegistrationCancelRequested` are the *intake* contracts: external
sign-up forms publish them (AMQP to the intake exchange, or the signed HTTPS webhook). Everything
else is published by registration on the domain-events exchange.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from shared.contracts.envelope import Contract, Event, FieldProblem, Language, safe_key

_EMAIL = re.compile(r"^[^@\s\"'<>()\[\]\\,;:]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("is not a valid e-mail address")
    return value.lower()


Email = Annotated[
    str,
    AfterValidator(_email),
    Field(description="E-mail address; compared case-insensitively.", examples=["ana.lopez@example.org"]),
]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="Mobile phone in E.164 form, for SMS.",
        examples=["+50370001234"],
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=100)]
CountryCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.", examples=["SV"]),
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
ParticipantId = Annotated[
    uuid.UUID,
    Field(strict=False, description="foro's id of the participant.", examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"]),
]

ParticipantStatus = Literal[
    "pending_approval", "confirmed", "waitlisted", "rejected", "cancelled"
]


class Consents(Contract):
    """What the person agreed to. Only the privacy policy is required to register."""

    privacy_policy: bool = Field(
        description="Accepted the privacy policy (required: a sign-up without it is refused).",
        examples=[True],
    )
    listed_publicly: bool = Field(
        False, description="May appear in the published participant list of the Memoria.", examples=[True]
    )
    photos: bool = Field(False, description="May appear in event photos.", examples=[False])
    share_with_exhibitors: bool = Field(
        False,
        description="Exhibitors who scan the badge may keep the contact details.",
        examples=[False],
    )


class Participant(Contract):
    """Snapshot of a participant carried by registration's events, for consumers to project."""

    participant_id: ParticipantId
    forum_id: str = Field(description="Forum (event pack) id.", examples=["crm-foro-sector-privado-migraciones"])
    given_name: Name = Field(description="Given name(s).", examples=["Ana"])
    family_name: Name = Field(description="Family name(s).", examples=["López"])
    email: Email
    phone: Phone | None = None
    organisation: str | None = Field(None, max_length=200, examples=["Cámara de Comercio"])
    job_title: str | None = Field(None, max_length=200, examples=["Directora"])
    country: CountryCode
    category: Code = Field(description="Participant category code from the event pack.", examples=["business_association"])
    language: Language = Field(description="Language for everything the person reads.", examples=["es"])
    consents: Consents
    status: ParticipantStatus = Field(description="Registration status after the change.", examples=["confirmed"])


class RegistrationSubmitted(Event):
    """A sign-up from a registration form. Publish it to the intake exchange with routing key
    `registration.submitted` (or POST it to the signed webhook). Send it again to correct it:
    the same `submission_id`, or the same e-mail for the same forum, updates one participant."""

    event_type: Literal["registration.submitted"] = "registration.submitted"
    forum_id: str = Field(
        min_length=1, max_length=80, description="Forum (event pack) id.", examples=["crm-foro-sector-privado-migraciones"]
    )
    submission_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-:.]{1,100}$",
        description="The form's own id of this submission; resubmissions reuse it.",
        examples=["typeform-5f2c9a"],
    )
    category: Code = Field(
        description="Participant category code from the event pack.", examples=["business_association"]
    )
    given_name: Name = Field(description="Given name(s).", examples=["Ana"])
    family_name: Name = Field(description="Family name(s).", examples=["López"])
    email: Email
    phone: Phone | None = None
    organisation: str | None = Field(None, max_length=200, description="Organisation represented.", examples=["Cámara de Comercio de El Salvador"])
    job_title: str | None = Field(None, max_length=200, description="Position.", examples=["Directora"])
    country: CountryCode = Field(description="Country represented (ISO 3166-1 alpha-2).", examples=["SV"])
    language: Language = Field("es", description="Preferred language: es or en.", examples=["es"])
    consents: Consents
    answers: dict[Annotated[str, AfterValidator(safe_key)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict,
        max_length=30,
        description="Extra form answers, key → text (keys: letters, digits, '_' and '-').",
        examples=[{"dietary_needs": "vegetariano"}],
    )


class RegistrationCancelRequested(Event):
    """A participant (through a form) or the secretariat asks to cancel a registration.
    Name the participant by `participant_id`, or by `email` (with `forum_id`)."""

    event_type: Literal["registration.cancel_requested"] = "registration.cancel_requested"
    forum_id: str = Field(min_length=1, max_length=80, examples=["crm-foro-sector-privado-migraciones"])
    participant_id: ParticipantId | None = None
    email: Email | None = None
    reason: str | None = Field(None, max_length=500, description="Why, for the record.", examples=["Cambio de agenda"])

    @model_validator(mode="after")
    def _names_someone(self) -> RegistrationCancelRequested:
        if self.participant_id is None and self.email is None:
            raise ValueError("participant_id or email is required")
        return self


class RegistrationConfirmed(Event):
    """The participant holds a seat in their category."""

    event_type: Literal["registration.confirmed"] = "registration.confirmed"
    participant: Participant
    submission_id: str = Field(examples=["typeform-5f2c9a"])


class RegistrationWaitlisted(Event):
    """The category is full: the participant waits, and is promoted in order when a seat frees."""

    event_type: Literal["registration.waitlisted"] = "registration.waitlisted"
    participant: Participant
    position: int = Field(ge=1, description="Place on the waitlist when added.", examples=[3])


class RegistrationRejected(Event):
    """A well-formed submission that foro refuses, with reasons the person can act on."""

    event_type: Literal["registration.rejected"] = "registration.rejected"
    forum_id: str
    submission_id: str
    participant_id: ParticipantId | None = Field(None, description="Set when the e-mail already belongs to a participant.")
    email: Email
    given_name: Name
    language: Language
    reasons: list[FieldProblem] = Field(min_length=1)


class RegistrationUpdated(Event):
    """A resubmission changed a participant's details (not their seat)."""

    event_type: Literal["registration.updated"] = "registration.updated"
    participant: Participant
    changed_fields: list[str] = Field(examples=[["phone", "organisation"]])


class AccreditationRequested(Event):
    """The category needs the secretariat's approval before a seat is allocated."""

    event_type: Literal["accreditation.requested"] = "accreditation.requested"
    participant: Participant


class RegistrationCancelled(Event):
    """The registration was cancelled; a confirmed seat is freed for the waitlist."""

    event_type: Literal["registration.cancelled"] = "registration.cancelled"
    participant: Participant
    previous_status: ParticipantStatus
    reason: str | None = None


class RegistrationPromoted(Event):
    """A waitlisted participant got the seat a cancellation freed."""

    event_type: Literal["registration.promoted"] = "registration.promoted"
    participant: Participant
    freed_by: ParticipantId = Field(description="The participant whose cancellation freed the seat.")

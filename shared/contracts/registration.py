"""Events published or consumed by the registration service.

`RegistrationSubmitted` and `RegistrationCancelRequested` are the *intake* contracts: external
sign-up forms publish them (AMQP to the intake exchange, or the signed HTTPS webhook). Everything
else is published by registration on the domain-events exchange.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from shared.contracts.envelope import (
    CONTROL_OR_SURROGATE,
    SAFE_KEYS_SCHEMA,
    Contract,
    Event,
    FieldProblem,
    FreeText,
    Language,
    PersonText,
    SingleLineText,
    Timestamp,
    safe_key,
)

EMAIL_MAX_LENGTH = 254
# Regular-expression text valid in Python and ECMAScript alike: `_email` runs it, and the JSON
# schema of every e-mail field carries it, so the published contract refuses what the code refuses.
EMAIL_PATTERN = (
    "^[^@\\s\"'<>()\\[\\]\\\\,;:"  # no `\"` here: ECMAScript's unicode mode refuses it
    r"\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


def _email(value: str) -> str:
    if (
        len(value) > EMAIL_MAX_LENGTH
        or not _EMAIL.fullmatch(value)
        or CONTROL_OR_SURROGATE.search(value)
    ):
        raise ValueError("is not a valid e-mail address")
    return value.lower()


Email = Annotated[
    str,
    AfterValidator(_email),
    Field(
        description="E-mail address; compared case-insensitively.",
        examples=["ana.lopez@example.org"],
        json_schema_extra={"pattern": EMAIL_PATTERN, "maxLength": EMAIL_MAX_LENGTH},
    ),
]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        min_length=8,
        max_length=16,
        description="Mobile phone in E.164 form, for SMS.",
        examples=["+50370001234"],
    ),
]
Name = Annotated[PersonText, Field(min_length=1, max_length=100)]
Organisation = Annotated[PersonText, Field(max_length=200)]
JobTitle = Annotated[PersonText, Field(max_length=200)]
CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2 country code.",
        examples=["SV"],
    ),
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$", max_length=50)]
ParticipantId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="foro's id of the participant.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    ),
]

ParticipantStatus = Literal["pending_approval", "confirmed", "waitlisted", "rejected", "cancelled"]


class Consents(Contract):
    """What the person agreed to. Only the privacy policy is required to register."""

    privacy_policy: bool = Field(
        description="Accepted the privacy policy (required: a sign-up without it is refused).",
        examples=[True],
    )
    listed_publicly: bool = Field(
        False,
        description="May appear in the published participant list of the Memoria.",
        examples=[True],
    )
    photos: bool = Field(False, description="May appear in event photos.", examples=[False])
    share_with_exhibitors: bool = Field(
        False,
        description="Exhibitors who scan the badge may keep the contact details.",
        examples=[False],
    )


RevocationReason = Literal["cancelled", "rejected", "erased", "reissued", "not_confirmed"]
"""Why a badge stopped opening doors (`badge.revoked`)."""


class Participant(Contract):
    """Snapshot of a participant carried by registration's events, for consumers to project."""

    participant_id: ParticipantId
    forum_id: str = Field(
        description="Forum (event pack) id.", examples=["crm-foro-sector-privado-migraciones"]
    )
    given_name: Name = Field(description="Given name(s).", examples=["Ana"])
    family_name: Name = Field(description="Family name(s).", examples=["López"])
    email: Email
    phone: Phone | None = None
    organisation: Organisation | None = Field(None, examples=["Cámara de Comercio"])
    job_title: JobTitle | None = Field(None, examples=["Directora"])
    country: CountryCode
    category: Code = Field(
        description="Participant category code from the event pack.",
        examples=["business_association"],
    )
    language: Language = Field(
        description="Language for everything the person reads.", examples=["es"]
    )
    consents: Consents
    status: ParticipantStatus = Field(
        description="Registration status after the change.", examples=["confirmed"]
    )


class RegistrationSubmitted(Event):
    """A sign-up from a registration form. Publish it to the intake exchange with routing key
    `registration.submitted` (or POST it to the signed webhook). Send it again to correct it:
    the same `submission_id`, or the same e-mail for the same forum, updates one participant."""

    # What a form vendor sends (the AsyncAPI document's examples; tests feed them to the product).
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_type": "registration.submitted",
                    "schema_version": 1,
                    "event_id": "0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10",
                    "occurred_at": "2026-10-02T15:20:00Z",
                    "producer": "formvendor-typeform",
                    "correlation_id": "typeform-5f2c9a",
                    "forum_id": "crm-foro-sector-privado-migraciones",
                    "submission_id": "typeform-5f2c9a",
                    "category": "business_association",
                    "given_name": "Ana",
                    "family_name": "López",
                    "email": "ana.lopez@example.org",
                    "phone": "+50370001234",
                    "organisation": "Cámara de Comercio de El Salvador",
                    "job_title": "Directora",
                    "country": "SV",
                    "language": "es",
                    "consents": {
                        "privacy_policy": True,
                        "listed_publicly": True,
                        "photos": False,
                        "share_with_exhibitors": False,
                    },
                    "answers": {"dietary_needs": "vegetariano", "arrival_day": "2026-11-17"},
                },
                {
                    "event_type": "registration.submitted",
                    "event_id": "5c1e7f0a-8d2b-4a6e-9f3c-2b7d4e6a8c10",
                    "producer": "formvendor-jotform",
                    "forum_id": "crm-foro-sector-privado-migraciones",
                    "submission_id": "jotform-88213",
                    "category": "civil_society",
                    "given_name": "John",
                    "family_name": "Smith",
                    "email": "john.smith@example.org",
                    "country": "US",
                    "consents": {"privacy_policy": True},
                },
            ]
        }
    )

    exchange = "intake"
    event_type: Literal["registration.submitted"] = "registration.submitted"
    forum_id: SingleLineText = Field(
        min_length=1,
        max_length=80,
        description="Forum (event pack) id.",
        examples=["crm-foro-sector-privado-migraciones"],
    )
    submission_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-:.]{1,100}$",
        max_length=100,
        description="The form's own id of this submission; resubmissions reuse it.",
        examples=["typeform-5f2c9a"],
    )
    category: Code = Field(
        description="Participant category code from the event pack.",
        examples=["business_association"],
    )
    given_name: Name = Field(description="Given name(s).", examples=["Ana"])
    family_name: Name = Field(description="Family name(s).", examples=["López"])
    email: Email
    phone: Phone | None = Field(None, description="Mobile phone in E.164 form, for SMS reminders.")
    organisation: Organisation | None = Field(
        None,
        description="Organisation represented.",
        examples=["Cámara de Comercio de El Salvador"],
    )
    job_title: JobTitle | None = Field(None, description="Position.", examples=["Directora"])
    country: CountryCode = Field(
        description="Country represented (ISO 3166-1 alpha-2).", examples=["SV"]
    )
    language: Language = Field("es", description="Preferred language: es or en.", examples=["es"])
    consents: Consents
    answers: dict[
        Annotated[str, AfterValidator(safe_key)], Annotated[FreeText, Field(max_length=1000)]
    ] = Field(
        default_factory=dict,
        max_length=30,
        description="Extra form answers, key → text (keys: letters, digits, '_' and '-').",
        examples=[{"dietary_needs": "vegetariano"}],
        json_schema_extra=SAFE_KEYS_SCHEMA,
    )


CANCEL_NAMES_SOMEONE_BY = ("participant_id", "email")
"""A cancellation names the participant by one of these (at least); the schema says so too."""


class RegistrationCancelRequested(Event):
    """A participant (through a form) or the secretariat asks to cancel a registration.
    Name the participant by `participant_id`, or by `email` (with `forum_id`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in CANCEL_NAMES_SOMEONE_BY
            ],
            # What a form vendor sends (the AsyncAPI document's examples; tests feed them to the
            # product).
            "examples": [
                {
                    "event_type": "registration.cancel_requested",
                    "schema_version": 1,
                    "event_id": "9e4f2a71-3c5d-4b8e-a1f6-7d2c9b0e5a34",
                    "occurred_at": "2026-11-10T09:12:00Z",
                    "producer": "formvendor-typeform",
                    "forum_id": "crm-foro-sector-privado-migraciones",
                    "participant_id": "3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11",
                    "reason": "Cambio de agenda",
                },
                {
                    "event_type": "registration.cancel_requested",
                    "event_id": "4b7a1c92-6e0d-4f35-8a2b-c9d1e3f5a706",
                    "producer": "formvendor-jotform",
                    "forum_id": "crm-foro-sector-privado-migraciones",
                    "email": "ana.lopez@example.org",
                },
            ],
        }
    )

    exchange = "intake"
    event_type: Literal["registration.cancel_requested"] = "registration.cancel_requested"
    forum_id: SingleLineText = Field(
        min_length=1, max_length=80, examples=["crm-foro-sector-privado-migraciones"]
    )
    participant_id: ParticipantId | None = None
    email: Email | None = None
    reason: FreeText | None = Field(
        None, max_length=500, description="Why, for the record.", examples=["Cambio de agenda"]
    )

    @model_validator(mode="after")
    def _names_someone(self) -> RegistrationCancelRequested:
        if all(getattr(self, name) is None for name in CANCEL_NAMES_SOMEONE_BY):
            raise ValueError(f"{' or '.join(CANCEL_NAMES_SOMEONE_BY)} is required")
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
    forum_id: str = Field(
        description="Forum (event pack) id.", examples=["crm-foro-sector-privado-migraciones"]
    )
    submission_id: str = Field(
        description="The form's own id of the refused submission.", examples=["typeform-5f2c9a"]
    )
    participant_id: ParticipantId | None = Field(
        None, description="Set when the e-mail already belongs to a participant."
    )
    email: Email
    given_name: Name = Field(description="Given name(s), to greet the person.", examples=["Ana"])
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
    freed_by: ParticipantId = Field(
        description="The participant whose cancellation freed the seat."
    )


# --- delegations -------------------------------------------------------------------------------

DelegationCode = Annotated[
    str,
    Field(
        pattern=r"^(?:[A-Z]{2}|[a-z][a-z0-9-]{1,39})$",
        description=(
            "Delegation code: the ISO 3166-1 alpha-2 code of a member or observer country of the event "
            "pack (`SV`), or a lower-case slug for an organisation (`oim`)."
        ),
        examples=["SV"],
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
DelegationId = Annotated[
    str,
    Field(
        description="foro's id of the delegation: `<forum_id>:<code>`.",
        examples=["crm-foro-sector-privado-migraciones:SV"],
    ),
]
SeatsUsed = Annotated[
    int, Field(ge=0, description="Members holding a seat after the change.", examples=[4])
]
Quota = Annotated[
    int, Field(ge=0, description="Most members the delegation may have at once.", examples=[10])
]
CategoryCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Participant category code from the event pack.",
        examples=["official_delegate"],
    ),
]


class FocalPoint(Contract):
    """The person who manages a delegation's members (nominates, substitutes, withdraws)."""

    name: Name = Field(description="Full name.", examples=["Marta Rivas"])
    email: Email
    phone: Phone | None = Field(
        None, description="Mobile phone in E.164 form, for SMS.", examples=["+50370001234"]
    )
    language: Language = Field(
        "es", description="Language for what the focal point reads.", examples=["es"]
    )


class Delegation(Contract):
    """Snapshot of a delegation carried by the `delegation.*` events."""

    delegation_id: str = Field(
        description="foro's id of the delegation: `<forum_id>:<code>`.",
        examples=["crm-foro-sector-privado-migraciones:SV"],
    )
    forum_id: str = Field(
        description="Forum (event pack) id.", examples=["crm-foro-sector-privado-migraciones"]
    )
    code: DelegationCode
    kind: Literal["country", "organisation"] = Field(
        description="A country of the pack or an organisation.", examples=["country"]
    )
    name: SingleLineText = Field(
        min_length=1,
        max_length=200,
        description="Name on badges and lists.",
        examples=["Delegación de El Salvador"],
    )
    country: CountryCode | None = Field(
        None, description="The country (country delegations, or an organisation's seat)."
    )
    category: Code = Field(
        description="Participant category its members are registered in.",
        examples=["official_delegate"],
    )
    quota: int = Field(
        ge=0, description="Most members the delegation may have at once.", examples=[10]
    )
    members: list[ParticipantId] = Field(
        default_factory=list, description="Participant ids holding a seat."
    )
    head_of_delegation_id: ParticipantId | None = Field(
        None, description="The member who heads the delegation."
    )
    focal_point: FocalPoint | None = Field(
        None, description="Who manages the members; unset until named."
    )


class DelegationRegistered(Event):
    """The secretariat registered a delegation (a country of the pack, or an organisation)."""

    event_type: Literal["delegation.registered"] = "delegation.registered"
    delegation: Delegation


class DelegationUpdated(Event):
    """A delegation's name, quota, focal point or head of delegation changed."""

    event_type: Literal["delegation.updated"] = "delegation.updated"
    delegation: Delegation
    changed_fields: list[str] = Field(
        description="Names of the fields that changed.",
        examples=[["quota", "head_of_delegation_id"]],
    )


class DelegationMemberNominated(Event):
    """The focal point nominated a member: the person holds one of the delegation's seats and is
    registered (pending accreditation when the category requires it)."""

    event_type: Literal["delegation.member_nominated"] = "delegation.member_nominated"
    delegation_id: DelegationId
    forum_id: ForumId
    participant_id: ParticipantId
    seats_used: SeatsUsed
    quota: Quota


class DelegationMemberSubstituted(Event):
    """A member was replaced by another person in the same seat: the delegation does not grow."""

    event_type: Literal["delegation.member_substituted"] = "delegation.member_substituted"
    delegation_id: DelegationId
    forum_id: ForumId
    replaced_participant_id: ParticipantId = Field(
        description="The member who leaves (their registration is cancelled)."
    )
    participant_id: ParticipantId = Field(description="The substitute who takes the seat.")
    seats_used: SeatsUsed
    quota: Quota


class DelegationMemberWithdrawn(Event):
    """The focal point withdrew a member: the seat is free again, the registration cancelled."""

    event_type: Literal["delegation.member_withdrawn"] = "delegation.member_withdrawn"
    delegation_id: DelegationId
    forum_id: ForumId
    participant_id: ParticipantId
    seats_used: SeatsUsed
    quota: Quota


class DelegationNominationRefused(Event):
    """A nomination foro refused (the delegation is full, say), with reasons for the focal point."""

    event_type: Literal["delegation.nomination_refused"] = "delegation.nomination_refused"
    delegation_id: DelegationId
    forum_id: ForumId
    seats_used: SeatsUsed
    quota: Quota
    reasons: list[FieldProblem] = Field(
        min_length=1, description="Why, in Spanish and English, for the person to read."
    )


# --- accreditation -----------------------------------------------------------------------------


class AccreditationApproved(Event):
    """The secretariat accredited the participant. A seat is allocated next: `registration.confirmed`
    or `registration.waitlisted` follows, and tells the outcome (`participant.status` here is provisional)."""

    event_type: Literal["accreditation.approved"] = "accreditation.approved"
    participant: Participant
    submission_id: str = Field(
        description="The sign-up that was approved.", examples=["typeform-5f2c9a"]
    )


class AccreditationRejected(Event):
    """The secretariat refused the accreditation; `reasons` are written for the person to read."""

    event_type: Literal["accreditation.rejected"] = "accreditation.rejected"
    participant: Participant
    reasons: list[FieldProblem] = Field(
        min_length=1, description="Why, in Spanish and English, for the person to read."
    )


# --- badges and check-in -----------------------------------------------------------------------

BadgeTokenId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_\-]{16,64}$",
        description="Random id inside the badge's signed QR token (see `shared/badges.py`); no personal data.",
        examples=["q3Vx0cJr5T2m9bYwQe1LZg"],
    ),
]


class BadgeIssued(Event):
    """A confirmed, accredited participant got a badge. Services that scan badges (expo) keep
    token id → participant id, and verify the QR with the shared badge secret."""

    event_type: Literal["badge.issued"] = "badge.issued"
    forum_id: ForumId
    participant_id: ParticipantId
    token_id: BadgeTokenId
    category: CategoryCode


class BadgeRevoked(Event):
    """A badge token is no longer valid: scanners must refuse it from now on."""

    event_type: Literal["badge.revoked"] = "badge.revoked"
    forum_id: ForumId
    participant_id: ParticipantId
    token_id: BadgeTokenId
    reason: RevocationReason = Field(
        description="Why the badge stopped being valid (`reissued`: a new badge replaces it).",
        examples=["cancelled"],
    )


class AttendeeCheckedIn(Event):
    """First scan of a badge at a check-in point on a forum day (later scans that day change nothing).
    `event_id` is derived from participant, point and day, so it is the same on any republish."""

    event_type: Literal["attendee.checked_in"] = "attendee.checked_in"
    forum_id: ForumId
    participant_id: ParticipantId
    category: CategoryCode
    country: CountryCode
    point: Code = Field(
        description="Check-in point: `entrance`, `expo` or a room code of the pack.",
        examples=["entrance"],
    )
    day: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="Local date at the venue.",
        examples=["2026-11-18"],
    )


# --- consent and erasure -----------------------------------------------------------------------


class ParticipantConsentChanged(Event):
    """The participant's consents changed. Consumers apply them from now on: reporting drops the
    person from the published list when `listed_publicly` is false; expo stops sharing contacts with
    exhibitors when `share_with_exhibitors` is false; the photo desk honours `photos`."""

    event_type: Literal["participant.consent_changed"] = "participant.consent_changed"
    forum_id: ForumId
    participant_id: ParticipantId
    consents: Consents
    changed: list[str] = Field(
        min_length=1, description="Names of the consents that changed.", examples=[["photos"]]
    )


class ParticipantErasureRequested(Event):
    """The secretariat asks to erase a participant's personal data (right to erasure). Carries ids
    only, so that no personal data lands in a dead-letter queue."""

    exchange = "intake"
    event_type: Literal["participant.erasure_requested"] = "participant.erasure_requested"
    forum_id: ForumId
    participant_id: ParticipantId


class ParticipantErased(Event):
    """Registration anonymised the participant. Every service that holds personal data about
    `participant_id` MUST, on receipt, and idempotently:

    - delete or overwrite names, e-mail, phone, organisation, job title, free-text answers and any
      copy of them (message bodies and addresses in notification, lead-capture contacts and meeting
      requests in expo, speaker names in scheduling, entries of the published participant list in
      reporting), and stop sending anything to the person;
    - keep anonymous facts keyed by the participant id, so that statistics keep their counts:
      category, country, status, check-ins, session sign-ups;
    - never re-identify the person from other data, and ignore later events that would re-add
      personal data for this participant id unless a new `registration.submitted` re-registers them.

    The participant's badge token is revoked (`badge.revoked`, reason `erased`) and any seat is freed.
    """

    event_type: Literal["participant.erased"] = "participant.erased"
    forum_id: ForumId
    participant_id: ParticipantId
    category: Code = Field(description="Kept for statistics.", examples=["civil_society"])
    country: CountryCode = Field(description="Kept for statistics.")
    previous_status: ParticipantStatus = Field(
        description="Status before the erasure; an active registration is cancelled by it.",
        examples=["confirmed"],
    )


# --- access ------------------------------------------------------------------------------------

AccessTokenId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_\-]{8,64}$",
        description="Id of an access token (its `jti` claim); no personal data.",
        examples=["5f2c9a0e4b7d4c1e9a3f6b2d8c0e1a47"],
    ),
]


class AccessRevoked(Event):
    """An access token (a staff sign-in or a machine's API token) was revoked before it expired.
    Every service MUST refuse the token from now on: each keeps the revoked ids in its own
    `revoked_tokens` collection until `expires_at` (after which the token is refused as expired
    anyway) and its replicas refresh them in memory within seconds (`shared/auth/revocations.py`).
    Idempotent by `token_id`."""

    event_type: Literal["access.revoked"] = "access.revoked"
    token_id: AccessTokenId
    expires_at: Timestamp = Field(
        description="When the token would have expired: the revocation may be forgotten then.",
    )


PartySubject = Annotated[
    str,
    Field(
        pattern=r"^(participant|exhibitor|focal_point):[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$",
        description="Whose own links: `participant:<id>`, `exhibitor:<id>` or "
        "`focal_point:<delegation code>`.",
        examples=["participant:0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10"],
    ),
]


class AccessSubjectRevoked(Event):
    """Every access token of one party issued before `issued_before` was revoked: a participant's
    personal code that leaked, say. Their links are not stored (they went out in e-mails), so
    they are revoked by whose they are, not one id at a time; links issued afterwards work.
    Every service MUST refuse them from now on (`shared/auth/revocations.py`). Idempotent: the
    latest `issued_before` of a subject wins."""

    event_type: Literal["access.subject_revoked"] = "access.subject_revoked"
    subject: PartySubject
    issued_before: Timestamp = Field(
        description="Tokens of the subject issued at or before this time are refused."
    )
    expires_at: Timestamp = Field(
        description="When the last of those tokens would have expired: the revocation may be "
        "forgotten then.",
    )


class DelegationFocalPointAccessIssued(Event):
    """The secretariat issued the access of a delegation's focal point (a link token scoped to the
    delegation, shown once to whoever issued it): every earlier one of the delegation stops working.
    Carries the token's id and expiry, never its text."""

    event_type: Literal["delegation.focal_point_access_issued"] = (
        "delegation.focal_point_access_issued"
    )
    delegation_id: DelegationId
    forum_id: ForumId
    token_id: AccessTokenId
    issued_at: Timestamp = Field(
        description="When it was signed: the delegation's earlier focal-point tokens are revoked."
    )
    expires_at: Timestamp = Field(description="When the focal point's access expires.")


class ParticipantAccessIssued(Event):
    """The secretariat issued a participant's personal code (a link token for themselves only:
    session sign-ups, their agenda, B2B meetings, job-fair applications), shown once to whoever
    issued it. Carries its id and expiry, never its text. Links e-mailed by notification or
    scheduling are not announced one by one."""

    event_type: Literal["participant.access_issued"] = "participant.access_issued"
    forum_id: ForumId
    participant_id: ParticipantId
    token_id: AccessTokenId
    expires_at: Timestamp = Field(description="When the personal code expires.")


# --- staff accounts and API tokens (identity) ------------------------------------------------------
# Who created an account, changed its roles, disabled it or issued an API token is the envelope's
# `actor` (the signed-in account, or `cli:<operator>` at the `foro` command). These events carry
# ids, role names and permission names only: no display name, no token name, never a token's text.

Username = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9._-]{1,63}$",
        description="A staff account's id: its username, lower-cased (`account:<username>` as a subject).",
        examples=["ana-lopez"],
    ),
]
RoleName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z_]{0,39}$",
        description="A role (`shared/auth/permissions.py`: `admin`, `registrar`, `door_staff`, …).",
        examples=["registrar"],
    ),
]
PermissionName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z_]{0,39}:[a-z][a-z_]{0,39}$",
        description="A permission, `resource:action` (`shared/auth/permissions.py`).",
        examples=["participants:read"],
    ),
]
ScopeId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$",
        description="An id a staff account's tokens are narrowed to.",
    ),
]
Roles = Annotated[
    list[RoleName],
    Field(min_length=1, max_length=20, description="Role names.", examples=[["registrar"]]),
]


class AccountCreated(Event):
    """A staff account was created, with its roles and the scope claims its tokens will carry (a
    rapporteur's sessions, a focal point's delegation, an exhibitor). Its display name and its
    credentials are not part of it."""

    event_type: Literal["account.created"] = "account.created"
    username: Username
    roles: Roles
    sessions: list[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", max_length=40)]
    ] = Field(
        default_factory=list,
        description="Session codes a rapporteur's conclusions are limited to.",
        examples=[["B1.2"]],
    )
    delegation: ScopeId | None = Field(
        None,
        description="The delegation a focal point's tokens are limited to.",
        examples=["crm-foro-sector-privado-migraciones:SV"],
    )
    exhibitor: ScopeId | None = Field(
        None,
        description="The exhibitor an account's tokens are limited to.",
        examples=["9a5c3e1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    )


class AccountRolesChanged(Event):
    """A staff account's roles changed. A role taken away also revokes the account's live
    sign-ins (`access.revoked` for each, in the same write)."""

    event_type: Literal["account.roles_changed"] = "account.roles_changed"
    username: Username
    previous_roles: Roles = Field(description="The roles before the change.")
    roles: Roles = Field(description="The roles after the change.")


class AccountDisabled(Event):
    """A staff account was disabled: no sign-in from now on; its live sign-ins are revoked
    (`access.revoked` for each, in the same write)."""

    event_type: Literal["account.disabled"] = "account.disabled"
    username: Username


class AccountLinked(Event):
    """A staff account was linked to a person's identity at an organisation's OpenID Connect
    provider (`foro users link`): they sign in there and get the account's roles. Names the
    provider, not the person's subject at it."""

    event_type: Literal["account.linked"] = "account.linked"
    username: Username
    provider: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        description="The identity provider's name in REGISTRATION_OIDC_PROVIDERS.",
        examples=["cancilleria"],
    )


class AccessTokenIssued(Event):
    """An API token (a machine's) was issued: its id, roles, scope and expiry. Not its name (free
    text) nor its text (shown once to whoever issued it)."""

    event_type: Literal["access.token_issued"] = "access.token_issued"
    token_id: AccessTokenId
    roles: Roles
    scope: list[PermissionName] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The permissions it is limited to, within its roles'; absent: all its roles give.",
        examples=[["participants:read"]],
    )
    expires_at: Timestamp = Field(description="When the token expires (at most 366 days on).")

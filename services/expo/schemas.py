"""What expo's API accepts: commands from applicants, exhibitors, participants and the secretariat."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, field_validator

from shared.contracts.envelope import Contract, Language
from shared.contracts.expo import BoothCode, Party, StaffMember, Tier
from shared.contracts.registration import CountryCode, Email, Phone

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
LocalTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Local time HH:MM.",
        examples=["11:30"],
    ),
]


class Contact(Contract):
    """The exhibitor's business contact for everything about the booth."""

    name: str = Field(min_length=1, max_length=200, examples=["María Gómez"])
    email: Email
    phone: Phone | None = None


class ExhibitorApplication(Contract):
    """An application to exhibit. Send it again with the same `application_id` to correct it
    while it waits for the secretariat."""

    application_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-:.]{1,80}$",
        description="The form's own id of this application.",
        examples=["expo-form-0042"],
    )
    name: str = Field(
        min_length=2,
        max_length=200,
        description="Public name, printed on the floor plan.",
        examples=["Banco Agrícola"],
    )
    exhibitor_type: Code = Field(
        description="Exhibitor type code from the event pack.", examples=["company"]
    )
    sector: Code | None = Field(
        None, description="Business sector (companies only).", examples=["finance_remittances"]
    )
    country: CountryCode
    language: Language = "es"
    description: str | None = Field(
        None, max_length=2000, examples=["Remesas y cuentas para salvadoreños en el exterior."]
    )
    contact: Contact
    staff: list[StaffMember] = Field(
        default_factory=list, max_length=10, description="People running the booth."
    )
    staff_consented: bool = Field(
        False,
        description="The exhibitor confirms every staff member accepted the forum's privacy policy.",
        examples=[True],
    )
    tier: Tier = Field(
        "standard", description="Booth tier asked (and paid) for.", examples=["standard"]
    )
    booth_preferences: list[BoothCode] = Field(
        default_factory=list, max_length=5, description="Preferred booths, best first."
    )

    @field_validator("booth_preferences")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a booth is listed twice")
        return value


class Rejection(Contract):
    reason: str = Field(
        min_length=3,
        max_length=1000,
        examples=["El expositor no ofrece servicios a la comunidad migrante."],
    )


class BoothRequest(Contract):
    booth_preferences: list[BoothCode] | None = Field(
        None, max_length=5, description="Replace the preferences given in the application."
    )


class ManualAssignment(Contract):
    exhibitor_id: uuid.UUID = Field(strict=False)
    reason: str = Field(min_length=3, max_length=500, examples=["Patrocinador principal"])
    displace: bool = Field(False, description="Free the booth if another exhibitor holds it.")


class ReleaseBooth(Contract):
    reason: str = Field(min_length=3, max_length=500, examples=["El expositor se retiró"])


class LaunchRequest(Contract):
    kind: Literal["project", "product", "service"] = Field(examples=["product"])
    title: str = Field(min_length=3, max_length=200, examples=["Remesa Directa"])
    description: str | None = Field(None, max_length=1000)
    language: Language = "es"
    day: int = Field(ge=0, le=13, description="Forum day index, 0 for the first.", examples=[0])
    starts_at: LocalTime
    minutes: int = Field(20, ge=10, le=60, description="Length on stage.", examples=[20])


class Scan(Contract):
    code: str = Field(
        min_length=4,
        max_length=500,
        description="What the badge QR holds: the token, or a participant id.",
        examples=["b-7f3a9c"],
    )
    note: str | None = Field(
        None, max_length=300, description="The exhibitor's note about the conversation."
    )


class MeetingRequest(Contract):
    invitee: Party
    topic: str = Field(min_length=3, max_length=300, examples=["Alianza para remesas productivas"])


class JobPost(Contract):
    title: str = Field(min_length=3, max_length=200, examples=["Ingeniera de software"])
    description: str = Field(min_length=10, max_length=5000)
    location: str | None = Field(None, max_length=200, examples=["San Salvador"])

"""Events published or consumed by the notification service.

`CampaignRequested` is a secretariat command (intake exchange, routing key `campaign.requested`,
or `POST /campaigns`). `NotificationQueued`, `NotificationSent`, `NotificationFailed` and
`ContactPreferencesChanged` are published by notification on the domain-events exchange. None of them carries personal data:
recipients are named by foro's participant id, never by address or phone number.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Event, Language

Channel = Literal["email", "sms"]
DeliveryChannel = Literal["email", "sms", "webhook"]
"""What a delivery worker sends on: a person's channels, and the outbound webhooks."""
SegmentStatus = Literal["confirmed", "waitlisted", "pending_approval"]


def _confirmed_only() -> list[SegmentStatus]:
    return ["confirmed"]


def _email_only() -> list[Channel]:
    return ["email"]


MessageId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="Id of the message: uuid5 of (cause event or reminder or campaign, person, channel).",
        examples=["5c2f0b8e-7a1d-5b6e-9c3f-1f0a2b3c4d5e"],
    ),
]
MessageType = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Template name in the event pack (`templates/<message_type>.yaml`).",
        examples=["registration_confirmed"],
    ),
]
RecipientId = Annotated[
    str,
    Field(
        max_length=100,
        description="foro's id of the person (participant id), never an address.",
        examples=["3e0a3c1e-2b61-5f43-9d5c-0f1c1f0f8a11"],
    ),
]


class NotificationQueued(Event):
    """A message waits for a delivery worker: a retry after its backoff, a rate-limit deferral, a
    replay, a reminder's or a campaign's message, one the sweep recovered. The delivery workers
    consume it; a message a trigger creates is delivered at once, without one."""

    event_type: Literal["notification.queued"] = "notification.queued"
    message_id: MessageId
    message_type: MessageType
    channel: DeliveryChannel = Field(description="Delivery channel.", examples=["email"])
    recipient_id: RecipientId


class NotificationSent(Event):
    """A provider accepted the message."""

    event_type: Literal["notification.sent"] = "notification.sent"
    message_id: MessageId
    message_type: MessageType
    channel: Channel = Field(description="Delivery channel.", examples=["email"])
    recipient_id: RecipientId
    source_event_id: str = Field(
        description="The event, reminder or campaign that caused the message.",
        examples=["0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10"],
    )
    provider: str = Field(
        description="Name of the provider that accepted it.", examples=["smtp-primary"]
    )
    provider_message_id: str = Field(
        description="The provider's own id (SMTP Message-ID or the SMS gateway's id).",
        examples=["SM9f1c2a0d5e"],
    )
    attempts: int = Field(
        ge=1, description="Delivery attempts used, this one included.", examples=[1]
    )


class NotificationFailed(Event):
    """Every attempt with every provider failed; the message is kept for replay."""

    event_type: Literal["notification.failed"] = "notification.failed"
    message_id: MessageId
    message_type: MessageType
    channel: Channel = Field(description="Delivery channel.", examples=["sms"])
    recipient_id: RecipientId
    source_event_id: str = Field(
        description="The event, reminder or campaign that caused the message.",
        examples=["0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10"],
    )
    reason: str = Field(
        max_length=500,
        description="Why the last attempt failed, per provider (no personal data).",
        examples=["sms-primary: HTTP 500; sms-backup: HTTP 503"],
    )
    attempts: int = Field(ge=1, description="Delivery attempts made.", examples=[5])


PreferenceName = Literal["language", "channels", "opt_out_non_essential"]


class ContactPreferencesChanged(Event):
    """The secretariat set a person's notification preferences (`PUT
    /people/{person_id}/preferences`): the language they read, the channels they are reached on,
    whether they opted out of non-essential messages. Who did it is the envelope's `actor`."""

    event_type: Literal["contact.preferences_changed"] = "contact.preferences_changed"
    person_id: RecipientId
    fields: list[PreferenceName] = Field(
        min_length=1,
        max_length=3,
        description="The preferences set, sorted.",
        examples=[["channels"]],
    )
    language: Language | None = Field(
        None, description="The language set, when it was.", examples=["en"]
    )
    channels: list[Channel] | None = Field(
        None, max_length=2, description="The channels set, when they were.", examples=[["sms"]]
    )
    opt_out_non_essential: bool | None = Field(
        None, description="The opt-out set, when it was.", examples=[True]
    )


class Segment(Contract):
    """Who a campaign reaches; every set filter must match, an empty one matches everybody."""

    categories: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]] = Field(
        default_factory=list,
        max_length=50,
        description="Participant category codes.",
        examples=[["media"]],
    )
    countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list,
        max_length=100,
        description="ISO 3166-1 alpha-2 codes.",
        examples=[["SV", "GT"]],
    )
    languages: list[Language] = Field(
        default_factory=list, description="Languages.", examples=[["es"]]
    )
    statuses: list[SegmentStatus] = Field(
        default_factory=_confirmed_only,
        description="Registration statuses reached (confirmed only by default).",
        examples=[["confirmed", "waitlisted"]],
    )


class LocalizedText(Contract):
    es: str = Field(
        min_length=1, max_length=2000, description="Spanish text.", examples=["Cambio de sala"]
    )
    en: str = Field(
        min_length=1, max_length=2000, description="English text.", examples=["Room change"]
    )


class CampaignRequested(Event):
    """The secretariat sends an information campaign ("campaña de información") to a segment.
    Publish it to the intake exchange with routing key `campaign.requested` (or POST /campaigns).
    Sending it again is harmless: the campaign id makes it one campaign."""

    exchange = "intake"
    event_type: Literal["campaign.requested"] = "campaign.requested"
    forum_id: str = Field(
        min_length=1, max_length=80, examples=["crm-foro-sector-privado-migraciones"]
    )
    campaign_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-]{1,64}$",
        description="The secretariat's id of the campaign.",
        examples=["expo-hours-2004"],
    )
    message_type: MessageType = "info_campaign"
    segment: Segment = Field(default_factory=Segment)
    channels: list[Channel] = Field(default_factory=_email_only, min_length=1, examples=[["email"]])
    subject: LocalizedText = Field(description="Subject line (e-mail) in both languages.")
    body: LocalizedText = Field(
        description="Message text in both languages (plain text; paragraphs by blank lines)."
    )
    essential: bool = Field(
        False,
        description="Essential campaigns reach people who opted out of non-essential messages.",
        examples=[False],
    )


WebhookChange = Literal["registered", "changed", "secret_rotated", "disabled", "enabled", "removed"]


class WebhookEndpointChanged(Event):
    """An outbound webhook endpoint was registered, changed, had its secret rotated, was
    disabled (by hand, or by foro after repeated failures: `reason`), enabled again or removed.
    For the audit trail: who did it is the envelope's `actor`; never the secret."""

    event_type: Literal["webhook.endpoint_changed"] = "webhook.endpoint_changed"
    endpoint_id: str = Field(max_length=64, examples=["wh_3f9a1c2b7d"])
    change: WebhookChange = Field(examples=["registered"])
    url_host: str = Field(
        max_length=255,
        description="The endpoint's host (no path or query).",
        examples=["hooks.example.org"],
    )
    event_types: list[str] = Field(
        max_length=50,
        description="What the endpoint receives.",
        examples=[["registration.confirmed"]],
    )
    enabled: bool = Field(description="Whether it receives deliveries now.", examples=[True])
    reason: str | None = Field(
        None,
        max_length=500,
        description="Why it was disabled.",
        examples=["20 failed attempts in a row"],
    )

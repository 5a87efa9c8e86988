"""The documents notification owns, written down once: what its rules read.

Rules take these models, never raw MongoDB dicts; the use cases turn what a store read into one
with `Model.read` at the boundary (`deps.on`). A model is read-only: a rule says what changes with
a `Change` (the fields one write sets) and looks at the state after it with `updated`.

Every field a rule reads is declared; a stored field no rule reads passes through unvalidated
(`extra="allow"`), so a read never drops what is stored. Field names and values are the
documents' as they are on disk. The storage fields (`version`, `processed`, `outbox`) belong to
the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.documents import StoredDocument


class Document(StoredDocument):
    """A document of one of notification's collections."""


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    content_type: str
    text: str


class Content(BaseModel):
    """What was rendered for the person; emptied when they are erased."""

    model_config = ConfigDict(frozen=True, extra="allow")

    subject: str = ""
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra e-mail headers (List-Unsubscribe)."
    )


class MessageDocument(Document):
    """One message to one person on one channel for one cause (`messages`)."""

    id: str = Field(alias="_id")
    message_type: str
    channel: str
    person_id: str
    to: str | None = None
    language: str = "es"
    essential: bool = False
    source_event_id: str | None = None
    source_event_type: str | None = None
    correlation_id: str | None = None
    campaign_id: str | None = None
    reminder_id: str | None = None
    content: Content = Field(default_factory=Content)
    status: str
    suppressed_reason: str | None = None
    attempts: int = 0
    replays: int = 0
    deferrals: int = 0
    created_at: datetime | None = None
    touched_at: datetime | None = None
    # When a queued or retrying message is due (its claim waits for it; the safety net looks for
    # deliverable messages long past it), or when a sending one's lease ends.
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    lease_until: datetime | None = None
    lapse_noticed_at: datetime | None = None
    possibly_sent: bool = False
    history: tuple[dict[str, Any], ...] = ()
    provider: str | None = None
    provider_message_id: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    version: int = 0


class Preferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    language: str | None = None
    channels: tuple[str, ...] | None = None
    opt_out_non_essential: bool = False


class ContactDocument(Document):
    """How to reach a person (`contacts`): registration's newest snapshot of them (or an
    exhibitor's contact), their preferences, and whether triggers wait for them."""

    id: str = Field(alias="_id")
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    category: str | None = None
    country: str | None = None
    organisation: str | None = None
    status: str | None = None
    forum_id: str | None = None
    preferences: Preferences = Field(default_factory=Preferences)
    snapshot_at: datetime | None = None
    erased: bool = False
    # Set by a trigger that parked for this person (before the contact could be reached): the
    # projection that makes them reachable completes what waits (see `parked.handlers`).
    parked_triggers: bool = False

    @property
    def reachable(self) -> bool:
        """A contact a message can be sent to (an e-mail address or a phone number)."""
        return bool(self.email or self.phone)

    def person(self) -> dict[str, Any]:
        """What a template sees of the person."""
        return {
            name: getattr(self, name)
            for name in (
                "given_name",
                "family_name",
                "organisation",
                "category",
                "country",
                "language",
            )
        }


class ReminderDocument(Document):
    """A reminder for one person (`reminders`): due at `anchor + offset`, (re)scheduled by the
    newest event naming it, claimed once when due."""

    id: str = Field(alias="_id")
    key: str
    person_id: str
    message_type: str
    anchor: datetime
    due_at: datetime
    event: dict[str, Any] = Field(default_factory=dict)
    correlation_id: str | None = None
    status: str = "pending"  # pending | sending | sent | cancelled
    scheduled_by: str | None = None
    event_at: datetime | None = None
    claimed_at: datetime | None = None


class CampaignDocument(Document):
    """An information campaign (`campaigns`), expanded a batch of recipients at a time."""

    id: str = Field(alias="_id")
    request_event_id: str | None = None
    correlation_id: str | None = None
    message_type: str
    segment: dict[str, Any] = Field(default_factory=dict)
    channels: tuple[str, ...] = ("email",)
    subject: dict[str, str] = Field(default_factory=dict)
    body: dict[str, str] = Field(default_factory=dict)
    essential: bool = False
    status: str = "sending"  # sending | expanded
    cursor: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)


class ParkedTrigger(Document):
    """A trigger that named a person before their contact arrived (`parked`)."""

    id: str = Field(alias="_id")
    person_id: str
    event_id: str
    event_type: str
    event: dict[str, Any] = Field(default_factory=dict)
    parked_at: datetime | None = None
    status: str = "waiting"  # waiting | completed

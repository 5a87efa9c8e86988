"""The documents scheduling owns, written down once: what its rules read.

Rules take these models, never raw MongoDB dicts; the use cases turn what a store read into one
with `Model.read(stored)` at the boundary (the `on_…` adapters in `deps.py`). A model is
read-only: a rule says what changes with a `Change` (the fields one write sets) and builds the
fields it writes with `dump(...)`, which keeps the stored shape (only the fields the document
had, or a rule set, are written back).

- `sessions`: one `SessionDocument` per agenda item of the draft — its people and its seats;
- `releases`: one `ReleaseDocument` per published version, its sessions as `SessionSnapshot`s;
- `participants`: `ParticipantProjection`, registration's participant as scheduling keeps it;
- `attendance`: one `Attendance` per participant, the session times they hold;
- `ledgers`: `SupportLedger`, the panelist-support commitments of a budget line.

The storage fields (`version`, `processed`, `outbox`) belong to the store and pass through
(`extra="allow"`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from shared.documents import StoredDocument

PRODUCER = "scheduling"
SCHEDULED, CANCELLED = "scheduled", "cancelled"
ROLES = ("speaker", "panelist", "moderator", "chair", "rapporteur")
# Items people sign up for: not breaks (everyone), not blocks (their sessions are the unit).
SIGNUP_KINDS = frozenset({"session", "inauguration", "expo_opening", "closing"})


def session_id(forum_id: str, code: str) -> str:
    """A draft session's document id: `<forum_id>:<code>`."""
    return f"{forum_id}:{code}"


def code_of(session_doc_id: str) -> str:
    return session_doc_id.split(":", 1)[1]


class Document(StoredDocument):
    """A document of one of scheduling's collections."""


def dump_all(items: Iterable[Document]) -> list[dict[str, Any]]:
    return [item.dump() for item in items]


class Invitation(Document):
    status: str | None = None
    updated_at: datetime | None = None
    travel_support: bool = False
    travel_support_usd: str | None = None


class Person(Document):
    """Someone on a session's programme (speaker, panelist, …), registered or not."""

    person_id: str
    name: str | None = None
    role: str
    affiliation: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    participant_id: str | None = None
    invitation: Invitation | None = None
    erased: bool = False

    @property
    def key(self) -> str:
        """Who this is across sessions: the registration id when linked, else the person id."""
        return self.participant_id or self.person_id


class SessionDocument(Document):
    """One agenda item of the draft (`sessions`): the item, its people and its seats."""

    id: str | None = Field(None, alias="_id")
    forum_id: str
    code: str
    kind: str
    parent: str | None = None
    title: dict[str, Any]
    description: dict[str, Any] | None = None
    topics: list[dict[str, Any]] = Field(default_factory=list)
    starts_at: datetime
    ends_at: datetime
    room: str | None = None
    expected_audience: int = 0
    seats: int | None = None
    status: str = SCHEDULED
    cancel_reason: str | None = None
    people: tuple[Person, ...] = ()
    confirmed: tuple[str, ...] = ()
    waitlist: tuple[str, ...] = ()
    origin: str | None = None
    edited_fields: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.person_id == person_id), None)

    def lists(self, participant_id: str) -> bool:
        """Whether the participant holds a seat or waits for one here."""
        return participant_id in self.confirmed or participant_id in self.waitlist


class PublicPerson(Document):
    """A person as a release shows them: no contact details."""

    person_id: str
    name: str | None = None
    role: str
    affiliation: str | None = None
    country: str | None = None
    participant_id: str | None = None
    erased: bool = False


class SessionSnapshot(Document):
    """The published form of a session in a release: no contacts, seat counts only."""

    code: str
    kind: str
    parent: str | None = None
    title: dict[str, Any]
    description: dict[str, Any] | None = None
    topics: list[dict[str, Any]] = Field(default_factory=list)
    starts_at: datetime
    ends_at: datetime
    room: str | None = None
    expected_audience: int = 0
    status: str = SCHEDULED
    cancel_reason: str | None = None
    people: tuple[PublicPerson, ...] = ()
    seats: int | None = None
    signed_up: int = 0
    waitlisted: int = 0

    def names(self, subject: str) -> bool:
        """Whether `subject` (a person id or a participant id) is one of its people."""
        return any(subject in (p.person_id, p.participant_id) for p in self.people)


class ReleaseDocument(Document):
    """One published version of the programme (`releases`), immutable but for erasures."""

    id: str | None = Field(None, alias="_id")
    forum_id: str
    number: int
    published_at: datetime
    note: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    sessions: tuple[SessionSnapshot, ...] = ()


class ParticipantProjection(Document):
    """Registration's participant as scheduling keeps it (`participants`): who may sign up and
    how to reach them; after an erasure only what counts (status, category, …) remains."""

    id: str | None = Field(None, alias="_id")
    forum_id: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    country: str | None = None
    organisation: str | None = None
    category: str | None = None
    status: str | None = None
    as_of: datetime | None = None
    status_as_of: datetime | None = None
    registered_at: datetime | None = None
    erased: bool = False
    erased_at: datetime | None = None

    @property
    def display_name(self) -> str | None:
        parts = [self.given_name, self.family_name]
        return " ".join(p for p in parts if p) or None


class Hold(Document):
    """A session's time a participant holds (a seat or a waitlist place)."""

    code: str
    starts_at: datetime
    ends_at: datetime
    held_at: datetime | None = None


class Attendance(Document):
    """The session times one participant holds (`attendance`, id `<forum_id>:<participant_id>`)."""

    id: str | None = Field(None, alias="_id")
    participant_id: str | None = None
    holds: tuple[Hold, ...] = ()

    @classmethod
    def read_or_empty(cls, stored: Mapping[str, Any] | None) -> Attendance:
        return cls() if stored is None else cls.model_validate(stored)


class Commitment(Document):
    key: str
    amount: str  # decimal text, exact


class SupportLedger(Document):
    """The commitments on a budget line (`ledgers`, id `<forum_id>:<line>`)."""

    id: str | None = Field(None, alias="_id")
    commitments: tuple[Commitment, ...] = ()

    @classmethod
    def read_or_empty(cls, stored: Mapping[str, Any] | None) -> SupportLedger:
        return cls() if stored is None else cls.model_validate(stored)

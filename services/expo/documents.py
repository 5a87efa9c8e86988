"""The documents expo owns, written down once: what its rules read.

Rules take these models, never raw MongoDB dicts; the use cases turn what a store read into one
with `Model.read` at the boundary (`deps.on(Model, rule)`). A model is read-only: a rule says
what changes with a `Change` (the fields one write sets, in the stored shape), and looks at the
state after it with `document.updated(change.set)`.

Every field a rule reads is declared; a stored field no rule reads passes through unvalidated
(`extra="allow"`), so a read never drops what is stored. Field names and stored values are the
documents' as they are on disk: a model changes no document's shape. The storage fields
(`version`, `processed`, `outbox`) belong to the store.

Collections (see `repository.py`): `exhibitors`, `booths`, `stage` (one per forum day),
`calendars` (one per participant or exhibitor), `tables` (one per meeting slot), `attendees`
(registration's projection), `leads`, `meetings`, `jobs`, `applications`, `cvs`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import Language
from shared.contracts.expo import Explanation, Party
from shared.documents import StoredDocument


class Entry(BaseModel):
    """A part of a document (a hold, a launch, a contact)."""

    model_config = ConfigDict(frozen=True, extra="allow")


class Document(StoredDocument):
    """A document of one of expo's collections; `_id` is `id`."""

    id: str = Field(alias="_id")


# --- exhibitors and booths -------------------------------------------------------------------


class Contact(Entry):
    name: str
    email: str
    phone: str | None = None


class StaffEntry(Entry):
    given_name: str
    family_name: str
    email: str
    phone: str | None = None
    job_title: str | None = None
    language: Language = "es"


class ExhibitorAccess(Entry):
    """The exhibitor's current access token, by id: its text is shown once and never stored
    (a link-signed JWT, `shared.auth.tokens.LinkSigner.exhibitor`)."""

    token_id: str
    issued_at: datetime
    expires_at: datetime


class ExhibitorDocument(Document):
    """An exhibitor (`exhibitors`): (new) ─► applied ─► approved ─► (booth) / rejected.

    Documents approved before access tokens were signed may still hold a `token_hash`: nothing
    reads it (it passes through as an extra field), and the old key it hashes is refused."""

    forum_id: str
    application_id: str | None = None
    name: str
    exhibitor_type: str
    sector: str | None = None
    zone: str
    country: str
    language: Language = "es"
    description: str | None = None
    contact: Contact
    staff: list[StaffEntry] = Field(default_factory=list)
    tier: str = "standard"
    booth_preferences: list[str] = Field(default_factory=list)
    status: str
    applied_at: datetime | None = None
    approved_at: datetime | None = None
    updated_at: datetime | None = None
    rejection_reason: str | None = None
    access: ExhibitorAccess | None = None
    booth: str | None = None
    booth_explanation: Explanation | None = None
    booth_manual: bool = False
    booth_refusal: Explanation | None = None
    booth_history: list[str] = Field(default_factory=list)
    refusals: int = 0


class BoothDocument(Document):
    """A booth of the pack (`booths`, `_id` = its code): who holds it and why. Taken only by the
    conditional update in `ExpoRepository.claim_booth`."""

    zone: str
    tier: str
    x: int
    y: int
    width: int | None = None
    height: int | None = None
    price_usd: str
    size_m2: str | None = None
    exhibitor_id: str | None = None
    exhibitor_name: str | None = None
    explanation: Explanation | None = None
    manual: bool = False
    assigned_at: datetime | None = None


# --- the stage ---------------------------------------------------------------------------------


class Launch(Entry):
    # Declared in the order they are stored, so that `model_dump()` writes an entry back unchanged.
    launch_id: str
    exhibitor_id: str
    exhibitor_name: str
    kind: str
    title: str
    description: str | None = None
    language: str = "es"
    starts_at: datetime
    ends_at: datetime


class StageDay(Document):
    """The launches of one forum day on the expo stage (`stage`, `<forum_id>:<day>`)."""

    forum_id: str | None = None
    day: int | None = None
    launches: list[Launch] = Field(default_factory=list)


# --- calendars ----------------------------------------------------------------------------------


class Hold(Entry):
    """A busy stretch of a calendar: a session, a meeting or an interview. A session hold carries
    `as_of`, the time of the news that placed it (the newest news wins)."""

    id: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    as_of: datetime | None = None

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Tombstone(Entry):
    """A session hold given up, and as of when: an older sign-up arriving late does not return."""

    id: str
    at: datetime


class CalendarDocument(Document):
    """A participant's or an exhibitor's busy calendar (`calendars`, `<kind>:<id>`), with the
    meetings counted against its cap."""

    holds: list[Hold] = Field(default_factory=list)
    released: list[Tombstone] = Field(default_factory=list)
    meetings: list[str] = Field(default_factory=list)

    @classmethod
    def empty(cls, calendar_id: str) -> CalendarDocument:
        return cls.model_validate({"_id": calendar_id})

    def hold(self, hold_id: str) -> Hold | None:
        return next((h for h in self.holds if h.id == hold_id), None)

    def released_at(self, hold_id: str) -> datetime | None:
        return next((r.at for r in self.released if r.id == hold_id), None)


class TablesDocument(Document):
    """The meeting tables in use during one slot (`tables`, `tables:<start ISO>`): number → hold."""

    used: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None


# --- attendees and leads ----------------------------------------------------------------------


class AttendeeDocument(Document):
    """Registration's participant as expo needs it (`attendees`): who a badge token names,
    whether they are confirmed and share their contact with exhibitors."""

    forum_id: str | None = None
    status: str | None = None
    category: str | None = None
    language: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    job_title: str | None = None
    country: str | None = None
    consents: dict[str, Any] = Field(default_factory=dict)
    consents_at: datetime | None = None
    snapshot_at: datetime | None = None
    tokens: list[str] = Field(default_factory=list)
    revoked_tokens: list[str] = Field(default_factory=list)
    erased: bool = False
    erased_at: datetime | None = None

    @property
    def shares_contact(self) -> bool:
        return bool(self.consents.get("share_with_exhibitors"))


class LeadDocument(Document):
    """One exhibitor's contact with one attendee (`leads`, id derived from both): scans merge."""

    exhibitor_id: str
    participant_id: str
    contact: dict[str, Any] | None = None
    scans: int = 1
    first_scanned_at: datetime | None = None
    last_scanned_at: datetime | None = None
    notes: list[str] = Field(default_factory=list)


# --- meetings and the job fair ------------------------------------------------------------------


class MeetingDocument(Document):
    """A B2B meeting (`meetings`): requested ─► confirmed (slot and table) / declined."""

    forum_id: str | None = None
    status: str
    requester: Party
    invitee: Party
    parties: list[str]  # the calendar ids of both sides
    topic: str | None = None
    requested_at: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    table: int | None = None
    explanation: Explanation | None = None


class JobDocument(Document):
    """A job of the job fair (`jobs`)."""

    forum_id: str
    exhibitor_id: str
    employer_name: str
    title: str
    description: str | None = None
    location: str | None = None
    status: str
    posted_at: datetime | None = None


class Interview(Entry):
    starts_at: datetime
    ends_at: datetime
    booth: str | None = None


class ApplicationDocument(Document):
    """A participant's application to a job (`applications`, id derived from job and person)."""

    forum_id: str | None = None
    job_id: str
    exhibitor_id: str
    participant_id: str
    cv_id: str | None = None
    cv_history: list[str] = Field(default_factory=list)
    note: str | None = None
    received_at: datetime | None = None
    status: str | None = None
    interview: Interview | None = None
    erased: bool = False

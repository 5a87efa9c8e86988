"""The documents registration owns, written down once: what its rules read.

Rules take these models, never raw MongoDB dicts; the use cases turn what the store read into
one with `ParticipantDocument.read` at the boundary. A model is read-only: a rule says what
changes with a `Change` (the fields one write sets), and looks at the state after it with
`document.updated(change.set)`.

Every field a rule reads is declared; a stored field no rule reads (`parked_at`, say) passes
through unvalidated (`extra="allow"`), so a read never drops what is stored. Field names and
stored values are the documents' as they are on disk: a model changes no document's shape. The
storage fields (`version`, `processed`, `outbox`) belong to the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.registration import Delegation, Participant
from shared.documents import StoredDocument

ALLOCATING = "allocating"
"""Accepted, its seat not yet recorded: never stored by a sign-up of a new person (seat and
participant are decided together), only on the general path between two writes."""


class Badge(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    token_id: str
    issued_at: datetime | None = None
    category: str | None = None


class Accreditation(BaseModel):
    """The secretariat's decision on a participant whose category needs one (`accreditation`).

    An approval keeps what resumes its seat allocation after a crash (`ApprovalCause.of`)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: str | None = None  # pending | approved | rejected
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    approval_event_id: str | None = None
    correlation_id: str | None = None
    submission_id: str | None = None


class Checkin(BaseModel):
    """One check-in (`checkins[]`): the first scan of the person's badge at a point on a day."""

    model_config = ConfigDict(frozen=True, extra="allow")

    # Declared in the order they are stored, so that `model_dump()` writes an entry back unchanged.
    id: str
    point: str
    day: str  # the venue's local date, ISO 8601: stored as text
    at: datetime


class SeatRelease(BaseModel):
    """A place a participant left (`seat_releases[]`) that its category's ledger still counts.

    `ticket` and `seat` say which place and what kind; both None for a place taken but not yet
    recorded on the document (it left while `allocating`): the ledger finds it by participant."""

    model_config = ConfigDict(frozen=True, extra="allow")

    category: str
    ticket: int | None = None
    seat: bool | None = None
    at: datetime | None = None


class ParticipantDocument(StoredDocument):
    """One person in one forum (`participants`), or a cancellation waiting for its sign-up."""

    id: str = Field(alias="_id")
    # None: no participant yet, only `parked_cancellation` (see `intake.rules.is_parked`).
    status: str | None = None
    forum_id: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    job_title: str | None = None
    country: str | None = None
    language: str | None = None
    category: str | None = None
    consents: dict[str, Any] = Field(default_factory=dict)
    answers: dict[str, Any] = Field(default_factory=dict)
    submission_ids: list[str] = Field(default_factory=list)
    rejection_reasons: list[dict[str, Any]] = Field(default_factory=list)
    erased: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The take number of the place held in `category`'s seat ledger (capacity-limited
    # categories): a waiter's place in the queue, and what a release gives back.
    seat_ticket: int | None = None
    # Places this document left whose ledger is not updated yet (see `seats.rules`): written
    # with the change that ends the place, cleared once the ledger has it. None when none.
    seat_releases: list[SeatRelease] | None = None
    # Takes (`<category>:<ticket>`) given back while unrecorded: never recorded here after.
    voided_seats: list[str] = Field(default_factory=list)
    # The promotion claim that gave this participant its seat (see `domain_seats.promote`).
    promoted_by: str | None = None
    previous_status: str | None = None
    cancel_reason: str | None = None
    accreditation: Accreditation | None = None
    badge: Badge | None = None
    revoked_tokens: list[str] = Field(default_factory=list)
    checkins: list[Checkin] = Field(default_factory=list)
    erased_at: datetime | None = None
    # The person's own links (`access/`): when a personal code was last issued here, and the
    # time before which every link of theirs is revoked.
    access_issued_at: datetime | None = None
    access_revoked_before: datetime | None = None
    parked_cancellation: dict[str, Any] | None = None

    def detail(self, name: str) -> Any:
        return getattr(self, name)

    def snapshot(self) -> Participant:
        """What registration's events carry about the person (an allocating one is confirmed)."""
        return Participant.model_validate(
            {
                "participant_id": self.id,
                "forum_id": self.forum_id,
                "given_name": self.given_name,
                "family_name": self.family_name,
                "email": self.email,
                "phone": self.phone,
                "organisation": self.organisation,
                "job_title": self.job_title,
                "country": self.country,
                "category": self.category,
                "language": self.language,
                "consents": self.consents,
                "status": "confirmed" if self.status == ALLOCATING else self.status,
            },
            strict=False,
        )


class SeatTake(BaseModel):
    """A place given by a seat ledger (`open[]`): a seat, or a waitlist place at `position`."""

    model_config = ConfigDict(frozen=True, extra="allow")

    participant_id: str
    ticket: int
    seat: bool
    position: int = 0
    at: datetime | None = None


class SeatClaim(BaseModel):
    """A free seat on its way to the first waiting (`claims[]`): counted as theirs already."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    participant_id: str
    ticket: int
    freed_by: str | None = None
    correlation_id: str | None = None
    at: datetime | None = None


class SeatLedger(BaseModel):
    """A capacity-limited category's seats (`seat_ledgers`): counters, not membership.

    Who holds a place is written on the participant documents (status, category and
    `seat_ticket`); the ledger counts places held as seats and on the waitlist, hands out
    tickets in arrival order, and keeps the few operations under way: takes not yet recorded on
    their participant (`open`, also what answers a redelivered sign-up) and promotions not yet
    written (`claims`). Its size does not grow with the category (see `seats.rules`)."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    id: str | None = Field(None, alias="_id")
    seats: int = 0
    waiting: int = 0
    tickets: int = 0
    head: int = 1  # nobody waits with a lower ticket: where the first waiting is looked for
    open: tuple[SeatTake, ...] = ()
    claims: tuple[SeatClaim, ...] = ()
    last_freed: str | None = None

    @classmethod
    def read(cls, stored: Mapping[str, Any] | None) -> SeatLedger:
        """A ledger as the store read it; an absent one is empty."""
        return cls() if stored is None else cls.model_validate(stored)

    def take_of(self, participant_id: str) -> SeatTake | None:
        """The open take of `participant_id`: what `take_seat` gave them."""
        return next((t for t in self.open if t.participant_id == participant_id), None)

    def owes_seats(self, capacity: int) -> bool:
        """A seat is free while someone waits: the first waiting is due a promotion."""
        return self.seats < capacity and self.waiting > 0


class DelegationDocument(StoredDocument):
    """A country's or an organisation's delegation (`delegations`): its own quota ledger.

    `members` hold its `quota` seats; `nominations` maps a nominated member to the id of the
    sign-up the nomination made (a retried call completes that very sign-up), `substitutions` a
    substitute to whom they replaced (a replayed substitution is recognised). Of the focal
    point's access (a link token, shown once) only when the latest was issued and expires is
    kept: every earlier one is revoked.
    """

    id: str = Field(alias="_id")  # `<forum_id>:<code>`
    forum_id: str
    code: str
    kind: str  # country | organisation
    name: str
    country: str | None = None
    category: str
    quota: int
    members: list[str] = Field(default_factory=list)
    nominations: dict[str, str] = Field(default_factory=dict)
    substitutions: dict[str, str] = Field(default_factory=dict)
    head_of_delegation_id: str | None = None
    # As the secretariat sent it (name, email, phone, language): compared with and replaced by
    # what it sends next, so kept as that mapping.
    focal_point: dict[str, Any] | None = None
    focal_point_access_issued_at: datetime | None = None
    focal_point_access_expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def snapshot(self) -> Delegation:
        """What the `delegation.*` events carry about it (validated as the contract says)."""
        return Delegation.model_validate(
            {
                "delegation_id": self.id,
                "forum_id": self.forum_id,
                "code": self.code,
                "kind": self.kind,
                "name": self.name,
                "country": self.country,
                "category": self.category,
                "quota": self.quota,
                "members": list(self.members),
                "head_of_delegation_id": self.head_of_delegation_id,
                "focal_point": self.focal_point,
            }
        )

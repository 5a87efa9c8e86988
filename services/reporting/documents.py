"""The documents reporting owns, written down once: what its rules read.

Rules take these models, never raw MongoDB dicts; the use cases turn what a store read into one
with `Model.read(stored)` at the boundary (the `on_…` adapters in `deps.py`, and the fold of
`projections/fold.py`). A model is read-only: a rule says what changes with a `Change` (the
fields one write sets) and looks at the state after it with `document.updated(change.set)`.

Projections (dropped and refilled by a rebuild; no outbox, so not `AggregateStore`s):
- `participants`: one `ParticipantState` per participant — status, category, country, language,
  consent to be listed, first check-in per point and day; names only of people who agreed to be
  listed;
- `entities`: one `EntityState` per exhibitor, booth, launch, lead, meeting, job post,
  application, session, session sign-up and message — its latest status and a few attributes;
- `event_ledger`: one `{_id: event id, type, occurred_at, forum_id}` per consumed event.

The audit trail (`audit/`; rewritten by a rebuild, never dropped): `audit`, one entry per
consumed event — its id, type, time, producer, correlation id, actor and the ids it concerns, ids
only — and `audit_erasures`, the erased participants' ids.

Reporting's own records (kept by a rebuild; `AggregateStore`s with an outbox):
- `conclusions`: `Conclusion`; `action_items`: `ActionItem`; `budget_lines`: `BudgetLine`
  with its `BudgetEntry`s; `reports`: `ReportRecord`, each generated version of a document
  (`report_files` holds their contents by SHA-256).

Statistics read thousands of participant documents at once: they count the stored dicts as
they are (`projections/statistics.py`), without building a model per document.

The storage fields (`version`, `processed`, `outbox`) belong to the store and pass through
(`extra="allow"`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from shared.documents import StoredDocument

STORAGE_FIELDS = ("version", "processed", "outbox", "outbox_pending")


class Document(StoredDocument):
    """A document of one of reporting's collections."""


# --- projections ---------------------------------------------------------------------------


class CheckIn(Document):
    """The first scan of a participant at a point on a day."""

    day: str
    point: str
    as_of: str  # the scan's stamp (`EventView.stamp`): UTC time, then the event id


class ParticipantState(Document):
    """One participant as reporting counts them (`participants`)."""

    id: str = Field(alias="_id")
    forum_id: str
    status: str | None = None
    status_as_of: str = ""
    consent_as_of: str = ""
    # The earliest registration snapshot's stamp: when the sign-up was first recorded (the
    # Memoria's sign-ups over time); the earliest whatever order the events arrive in.
    registered_as_of: str = ""
    category: str | None = None
    country: str | None = None
    language: str | None = None
    listed_publicly: bool = False
    erased: bool = False
    checkins: dict[str, CheckIn] = Field(default_factory=dict)
    # Only of people whose latest snapshot says they agreed to be listed, and never after erasure.
    given_name: str | None = None
    family_name: str | None = None
    organisation: str | None = None

    @classmethod
    def blank(cls, participant_id: str, forum_id: str) -> ParticipantState:
        """Every field a participant document has, whichever event creates it."""
        return cls.model_validate(
            {
                "_id": participant_id,
                "forum_id": forum_id,
                **{
                    name: field.get_default(call_default_factory=True)
                    for name, field in cls.model_fields.items()
                    if name not in ("id", "forum_id")
                },
            }
        )


class EntityState(Document):
    """Another service's entity (`entities`): its newest status, and each attribute as the newest
    event carrying it said."""

    id: str = Field(alias="_id")
    forum_id: str
    kind: str
    status: str
    last_event: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    attributes_as_of: dict[str, str] = Field(default_factory=dict)
    as_of: str = ""


# --- reporting's own records -----------------------------------------------------------------


class Conclusion(Document):
    """A rapporteur's conclusion of a session (`conclusions`): draft ─► submitted ─► approved."""

    id: str = Field(alias="_id")
    forum_id: str
    session_code: str
    texts: dict[str, dict[str, str]]
    status: str = "draft"
    rapporteur: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None


class ActionItem(Document):
    """A line of the action plan (`action_items`), with its progress notes and reminders."""

    id: str = Field(alias="_id")
    forum_id: str
    title: dict[str, str]
    owner: dict[str, Any]
    deadline: str  # ISO date, on the forum's calendar
    conclusion_ids: list[str] = Field(default_factory=list)
    status: str = "planned"
    notes: list[dict[str, Any]] = Field(default_factory=list)
    follow_ups: list[str] = Field(default_factory=list)  # deadlines its owner was reminded of
    overdue: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    followed_up_at: datetime | None = None


class BudgetEntry(Document):
    """A commitment or an expense on a budget line; a newer `as_of` replaces it."""

    kind: str  # "commitment" | "expense"
    amount_cents: int
    description: str
    as_of: str
    source: str


class BudgetLine(Document):
    """A line of the forum's budget (`budget_lines`): its entries and the alerts it raised."""

    id: str | None = Field(None, alias="_id")
    forum_id: str
    line: str
    planned_cents: int
    currency: str
    entries: dict[str, BudgetEntry] = Field(default_factory=dict)
    alerted: list[int] = Field(default_factory=list)

    @property
    def consumed_cents(self) -> int:
        return sum(entry.amount_cents for entry in self.entries.values())

    @property
    def executed_cents(self) -> int:
        return sum(e.amount_cents for e in self.entries.values() if e.kind == "expense")


class ReportRecord(Document):
    """A generated version of the Memoria or the base document (`reports`)."""

    id: str = Field(alias="_id")
    forum_id: str
    kind: str  # "memoria" | "base_document"
    language: str
    files: list[dict[str, Any]]  # {format, sha256, size}
    final: bool = False
    generated_at: datetime | None = None

"""Events published by the reporting service: conclusions, the action plan, the budget and the
documents it generates (the Memoria and the base document).

Reporting consumes every other service's events; it publishes only these.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Event, Language

ConclusionId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="Id of the conclusion.",
        examples=["5a1d7c52-8d2b-5a55-9b4e-0e2a6b1f3c21"],
    ),
]
ActionItemId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="Id of the action item.",
        examples=["9c0e2d11-77a4-5e2b-8a0f-4b6f2a3d1e90"],
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
SessionCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="Programme item code the conclusion belongs to.",
        examples=["B2.1"],
    ),
]
Day = Annotated[
    date, Field(strict=False, description="A date (YYYY-MM-DD).", examples=["2005-06-30"])
]
Cents = Annotated[
    int, Field(description="Amount in cents of the budget currency.", examples=[412_500])
]

ConclusionStatus = Literal["draft", "submitted", "approved"]
OWNER_EXAMPLE = {
    "kind": "country",
    "code": "SV",
    "name": "El Salvador",
    "contact_email": "focal@rree.gob.sv",
    "language": "es",
}
ActionItemStatus = Literal["planned", "in_progress", "done", "cancelled"]
OwnerKind = Literal["country", "organisation", "sector"]


class ConclusionText(Contract):
    """A conclusion in one language: the rapporteur's three headings."""

    title: str = Field(
        min_length=1,
        max_length=300,
        description="Headline of the conclusion.",
        examples=["Remesas productivas"],
    )
    key_issues: str = Field(
        "", max_length=10_000, description="Key issues raised.", examples=["Costo de los envíos."]
    )
    discussion: str = Field(
        "",
        max_length=20_000,
        description="Summary of the discussion.",
        examples=["Los panelistas…"],
    )
    way_forward: str = Field(
        "", max_length=10_000, description="The way forward agreed.", examples=["Crear un fondo…"]
    )


class ConclusionEvent(Event):
    """Fields every conclusion event carries."""

    forum_id: ForumId
    conclusion_id: ConclusionId
    session_code: SessionCode
    languages: list[Language] = Field(
        min_length=1, description="Languages the conclusion is written in.", examples=[["es", "en"]]
    )
    texts: dict[Language, ConclusionText] = Field(
        description="The conclusion, by language.",
        examples=[
            {
                "es": {
                    "title": "Remesas productivas",
                    "key_issues": "Costo de los envíos.",
                    "discussion": "Los panelistas…",
                    "way_forward": "Crear un fondo…",
                }
            }
        ],
    )


class ConclusionDrafted(ConclusionEvent):
    """A rapporteur saved a draft of a session's conclusion (first save or edit)."""

    event_type: Literal["conclusion.drafted"] = "conclusion.drafted"


class ConclusionSubmitted(ConclusionEvent):
    """The rapporteur submitted the conclusion to the secretariat for approval."""

    event_type: Literal["conclusion.submitted"] = "conclusion.submitted"


class ConclusionApproved(ConclusionEvent):
    """The secretariat approved the conclusion: it appears in the Memoria."""

    event_type: Literal["conclusion.approved"] = "conclusion.approved"


class ActionOwner(Contract):
    """Who carries an action item forward: a country, an organisation or a sector."""

    kind: OwnerKind = Field(description="What the owner is.", examples=["country"])
    code: str = Field(
        min_length=1,
        max_length=80,
        description="Country code, organisation or sector code.",
        examples=["SV"],
    )
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name of the owner.",
        examples=["El Salvador"],
    )
    contact_email: str | None = Field(
        None, max_length=254, description="Where follow-ups go.", examples=["focal@rree.gob.sv"]
    )
    language: Language = Field(
        "es", description="Language of follow-ups to the owner.", examples=["es"]
    )


class ActionItemEvent(Event):
    forum_id: ForumId
    action_item_id: ActionItemId
    title: dict[Language, str] = Field(
        description="Title of the line of action, by language.",
        examples=[{"es": "Fondo de remesas", "en": "Remittance fund"}],
    )
    owner: ActionOwner = Field(
        description="Who carries the item forward.", examples=[OWNER_EXAMPLE]
    )
    deadline: Day = Field(description="Date by which the item is due (forum's local calendar).")
    status: ActionItemStatus = Field(description="Status after the change.", examples=["planned"])
    conclusion_ids: list[Annotated[uuid.UUID, Field(strict=False)]] = Field(
        default_factory=list,
        description="Conclusions the item derives from.",
        examples=[["5a1d7c52-8d2b-5a55-9b4e-0e2a6b1f3c21"]],
    )


class ActionItemCreated(ActionItemEvent):
    """A line of action was added to the action plan."""

    event_type: Literal["action_item.created"] = "action_item.created"


class ActionItemUpdated(ActionItemEvent):
    """An action item changed: status, deadline, owner or a new progress note."""

    event_type: Literal["action_item.updated"] = "action_item.updated"
    note: str | None = Field(
        None,
        max_length=5000,
        description="Progress note added with this change.",
        examples=["Convenio firmado."],
    )
    evidence_url: str | None = Field(
        None,
        max_length=1000,
        description="Link to the evidence.",
        examples=["https://example.org/convenio.pdf"],
    )


class ActionItemFollowUpDue(Event):
    """An action item is past its deadline and not done: remind its owner (once per deadline).
    Notification sends it to `owner.contact_email` in `owner.language`."""

    event_type: Literal["action_item.follow_up_due"] = "action_item.follow_up_due"
    forum_id: ForumId
    action_item_id: ActionItemId
    title: str = Field(description="Title in the owner's language.", examples=["Fondo de remesas"])
    owner: ActionOwner = Field(
        description="Whom to remind: e-mail and language.", examples=[OWNER_EXAMPLE]
    )
    deadline: Day = Field(description="The deadline that passed.")
    days_overdue: int = Field(ge=1, description="Days since the deadline.", examples=[3])
    status: ActionItemStatus = Field(
        description="Status of the item (open).", examples=["in_progress"]
    )


class BudgetThresholdCrossed(Event):
    """A budget line's consumption (expenses and open commitments) reached 80 % or 100 % of plan."""

    event_type: Literal["budget.threshold_crossed"] = "budget.threshold_crossed"
    forum_id: ForumId
    line: str = Field(description="Budget line code from the pack.", examples=["panelist_support"])
    threshold_percent: Literal[80, 100] = Field(description="The threshold crossed.", examples=[80])
    planned_cents: Cents
    consumed_cents: Cents
    currency: str = Field(
        "USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency.", examples=["USD"]
    )


class BudgetEntryRecorded(Event):
    """The secretariat recorded a commitment or an expense on a budget line (or, with the same
    entry id and a later date, replaced one): who changed the line, by how much. The entry's
    description stays in reporting; entries other services' events cause are not announced again."""

    event_type: Literal["budget.entry_recorded"] = "budget.entry_recorded"
    forum_id: ForumId
    line: str = Field(description="Budget line code from the pack.", examples=["panelist_support"])
    entry_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-]{1,64}$",
        description="The entry's id on its line (the request's idempotency key, prefixed).",
        examples=["manual-hotel-b3"],
    )
    kind: Literal["commitment", "expense"] = Field(
        description="An open commitment or an executed expense.", examples=["expense"]
    )
    amount_cents: Cents
    consumed_cents: Cents = Field(
        description="The line's consumption (expenses and open commitments) after the entry.",
        examples=[410_000],
    )
    currency: str = Field(
        "USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency.", examples=["USD"]
    )


class ReportFile(Contract):
    format: Literal["html", "pdf"] = Field(description="File format.", examples=["pdf"])
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="Content hash of the file.",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    )
    size: int = Field(ge=0, description="Bytes.", examples=[183_204])


class ReportGenerated(Event):
    """A version of a forum document was generated and stored (Memoria or base document)."""

    event_type: Literal["report.generated"] = "report.generated"
    forum_id: ForumId
    report_id: str = Field(description="Id of this version.", examples=["memoria-es-3f2a9c1b0d4e"])
    kind: Literal["memoria", "base_document"] = Field(
        description="Which document.", examples=["memoria"]
    )
    language: Language = Field(description="Language of this version.", examples=["es"])
    files: list[ReportFile] = Field(
        min_length=1,
        description="The renderings, each with its hash (GET /memoria/{report_id}.{format}).",
        examples=[
            [
                {
                    "format": "pdf",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 183204,
                }
            ]
        ],
    )
    final: bool = Field(
        False,
        description="Generated at the end of the forum (the published version).",
        examples=[True],
    )

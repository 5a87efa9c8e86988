"""The action plan: lines of action, progress notes, follow-ups (secretariat)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.reporting.action_plan import handlers, rules
from services.reporting.common import RuleViolation
from services.reporting.conclusions.api import Lang, public, refused
from services.reporting.deps import Deps
from services.reporting.documents import ActionItem
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.reporting import ActionItemStatus, ActionOwner

router = APIRouter(tags=["secretariat"])


class ActionItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[Lang, str] = Field(
        min_length=1, examples=[{"es": "Fondo de remesas", "en": "Remittance fund"}]
    )
    owner: ActionOwner
    deadline: date = Field(examples=["2005-06-30"])
    conclusion_ids: list[uuid.UUID] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not text.strip() for text in value.values()):
            raise ValueError("a title must not be blank")
        return value


class ActionItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ActionItemStatus | None = None
    deadline: date | None = None
    owner: ActionOwner | None = None
    note: str | None = Field(None, max_length=5000)
    evidence_url: str | None = Field(None, max_length=1000, pattern=r"^https?://")
    conclusion_ids: list[uuid.UUID] | None = None


@router.get(
    "/action-items",
    summary="The action plan, by deadline, overdue flagged",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
async def list_action_items(deps: Deps) -> list[dict[str, Any]]:
    today = deps.today()
    return [
        public({**item, "overdue": rules.is_overdue(ActionItem.model_validate(item), today)})
        for item in await deps.repository.list_action_items(deps.forum_id)
    ]


@router.post(
    "/action-items",
    status_code=status.HTTP_201_CREATED,
    summary="Add a line of action",
    dependencies=[Depends(require(Permission.ACTION_PLAN_WRITE))],
)
async def create_action_item(deps: Deps, body: ActionItemBody) -> dict[str, Any]:
    try:
        document = await handlers.create_action_item(
            deps,
            title={str(lang): text for lang, text in body.title.items()},
            owner=body.owner.model_dump(),
            deadline=body.deadline.isoformat(),
            conclusion_ids=[str(c) for c in body.conclusion_ids],
        )
    except RuleViolation as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    return public(document)


@router.patch(
    "/action-items/{item_id}",
    summary="Change status, deadline or owner; add a progress note",
    dependencies=[Depends(require(Permission.ACTION_PLAN_WRITE))],
)
async def patch_action_item(
    deps: Deps, item_id: uuid.UUID, body: ActionItemPatch
) -> dict[str, Any]:
    change = rules.ItemUpdate(
        status=body.status,
        deadline=body.deadline,
        owner=body.owner.model_dump() if body.owner else None,
        note=body.note,
        evidence_url=body.evidence_url,
        conclusion_ids=None
        if body.conclusion_ids is None
        else [str(c) for c in body.conclusion_ids],
    )
    try:
        document = await handlers.update_action_item(deps, str(item_id), change)
    except RuleViolation as error:
        raise refused(error) from None
    return public(document)


@router.post(
    "/action-items/follow-ups",
    summary="Run the overdue check now",
    dependencies=[Depends(require(Permission.ACTION_PLAN_WRITE))],
)
async def run_follow_ups(deps: Deps) -> dict[str, int]:
    return {"reminders": await handlers.check_follow_ups(deps)}

"""The budget against plan, and the secretariat's entries (secretariat)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.budget import handlers
from services.reporting.common import RuleViolation
from services.reporting.deps import Deps
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])


class BudgetEntryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: str = Field(examples=["panelist_support"])
    kind: Literal["commitment", "expense"]
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2, examples=["1250.00"])
    description: str = Field(min_length=1, max_length=300, examples=["Pasajes de panelistas B3"])
    entry_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_\-]{1,50}$", description="Idempotency key."
    )


async def execution(deps: Deps) -> dict[str, Any]:
    return {"currency": deps.pack.budget.currency, "lines": await handlers.budget_execution(deps)}


@router.get(
    "/budget",
    summary="Executed against planned, per line",
    dependencies=[Depends(require(Permission.BUDGET_READ))],
)
async def get_budget(deps: Deps) -> dict[str, Any]:
    return await execution(deps)


@router.post(
    "/budget/entries",
    status_code=status.HTTP_201_CREATED,
    summary="Record a commitment or an expense",
    dependencies=[Depends(require(Permission.BUDGET_WRITE))],
)
async def add_budget_entry(deps: Deps, body: BudgetEntryBody) -> dict[str, Any]:
    try:
        await handlers.record_budget_entry(
            deps,
            body.line,
            body.kind,
            int(body.amount * 100),
            body.description,
            entry_id=body.entry_id,
        )
    except RuleViolation as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    return await execution(deps)

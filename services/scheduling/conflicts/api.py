"""The draft's conflicts, for the secretariat (`/programme/conflicts`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.scheduling.conflicts import handlers
from services.scheduling.deps import Deps
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(prefix="/programme", tags=["secretariat"])


@router.get(
    "/conflicts",
    summary="Conflicts of the draft, each with its reason",
    dependencies=[Depends(require(Permission.PROGRAMME_READ))],
)
async def list_conflicts(deps: Deps) -> dict[str, Any]:
    found = await handlers.conflicts(deps)
    return {
        "errors": [c.as_dict() for c in found if c.severity == "error"],
        "warnings": [c.as_dict() for c in found if c.severity == "warning"],
    }

"""Live statistics (secretariat)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.reporting.deps import Deps
from services.reporting.projections.handlers import current_statistics
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])


@router.get(
    "/statistics",
    summary="Live statistics from every service's events",
    dependencies=[Depends(require(Permission.STATISTICS_READ))],
)
async def get_statistics(deps: Deps) -> dict[str, Any]:
    return await current_statistics(deps)

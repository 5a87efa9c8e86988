"""Who did what, when (secretariat, permission `audit:read`): the audit trail per participant,
delegation, exhibitor, session, budget line, action item, report, staff account, access token or
actor; as JSON pages or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from services.reporting.audit import handlers
from services.reporting.audit.rules import CSV_HEADER, FILTERS, csv_row
from services.reporting.audit.subjects import ID
from services.reporting.deps import Deps
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"], dependencies=[Depends(require(Permission.AUDIT_READ))])

# Each filter is an id (a participant's, an exhibitor's…), a code (a delegation's, a session's,
# a budget line's), a staff account's username, an access token's id (its jti) or an actor's
# subject (`account:ana`, `token:…`, `system`, `erased`): `?account=ana` is what was done to the
# account, `?actor=account:ana` what it did.
IdFilter = Annotated[str | None, Query(max_length=128, pattern=ID.pattern)]


def filters_of(
    participant: IdFilter = None,
    delegation: IdFilter = None,
    exhibitor: IdFilter = None,
    session: IdFilter = None,
    budget_line: IdFilter = None,
    action_item: IdFilter = None,
    report: IdFilter = None,
    account: IdFilter = None,
    token: IdFilter = None,
    actor: IdFilter = None,
) -> dict[str, str | None]:
    chosen = {
        "participant": participant,
        "delegation": delegation,
        "exhibitor": exhibitor,
        "session": session,
        "budget_line": budget_line,
        "action_item": action_item,
        "report": report,
        "account": account,
        "token": token,
        "actor": actor,
    }
    if not any(chosen.values()):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={
                "field": "query",
                "code": "filter_required",
                "message_es": "Indique al menos un filtro: " + ", ".join(FILTERS) + ".",
                "message_en": "Give at least one filter: " + ", ".join(FILTERS) + ".",
            },
        )
    return chosen


Filters = Annotated[dict[str, str | None], Depends(filters_of)]


@router.get("/audit", summary="Who did what, when: audit entries in order, a page at a time")
async def get_audit(
    deps: Deps,
    filters: Filters,
    offset: Annotated[
        int, Query(ge=0, description="Entries to pass over: the `next` of the previous page.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=handlers.MOST)] = handlers.PAGE,
) -> dict[str, Any]:
    entries, following = await handlers.audit_page(deps, filters, offset=offset, limit=limit)
    return {"entries": entries, "next": following}


@router.get(
    "/audit/export.csv",
    response_class=StreamingResponse,
    summary="The audit entries matching the filters, as CSV (UTF-8, a header row)",
)
async def export_audit(deps: Deps, filters: Filters) -> StreamingResponse:
    return StreamingResponse(
        _csv(deps, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


async def _csv(deps: Deps, filters: dict[str, str | None]) -> AsyncIterator[bytes]:
    yield _lines([list(CSV_HEADER)])
    async for rows in handlers.audit_export(deps, filters):
        yield _lines([csv_row(row) for row in rows])


def _lines(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")

"""Leads' routes, for the exhibitor: scan a badge, export the leads as CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from services.expo.access import SAFE_HEADERS, Exhibitor, ExpoDeps
from services.expo.leads import handlers
from services.expo.leads.rules import leads_csv as leads_csv_text
from services.expo.schemas import Scan

mine = APIRouter(prefix="/me", tags=["exhibitor"])


@mine.post("/leads/scans", summary="Scan an attendee's badge")
async def scan(
    body: Scan, response: Response, exhibitor: Exhibitor, deps: ExpoDeps
) -> dict[str, Any]:
    answer = await handlers.scan_badge(deps, exhibitor["_id"], body.code, body.note)
    if answer.stored and not answer.merged:
        response.status_code = status.HTTP_201_CREATED
    return {
        "stored": answer.stored,
        "lead_id": answer.lead_id,
        "merged": answer.merged,
        "scans": answer.scans,
        "explanation": answer.explanation.model_dump(),
    }


@mine.get("/leads.csv", response_class=Response, summary="The exhibitor's leads as CSV")
async def leads_csv(exhibitor: Exhibitor, deps: ExpoDeps) -> Response:
    text = leads_csv_text(await deps.repository.leads_of(exhibitor["_id"]))
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={**SAFE_HEADERS, "Content-Disposition": 'attachment; filename="leads.csv"'},
    )


ROUTERS = (mine,)

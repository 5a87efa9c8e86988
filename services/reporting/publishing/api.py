"""Documents and exports: generate the Memoria and the base document (secretariat), serve the
stored versions (public: they carry only consented names), export CSV and XLSX (secretariat)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel

from services.reporting.deps import Deps
from services.reporting.publishing import exports, handlers
from shared.http import secretariat

Lang = Literal["es", "en"]

public = APIRouter(tags=["documents"])
router = APIRouter(tags=["secretariat"], dependencies=[Depends(secretariat)])


class Generated(BaseModel):
    report_id: str
    kind: str
    language: str
    final: bool
    files: list[dict[str, Any]]


def described(report: dict[str, Any]) -> Generated:
    files = [
        {**f, "url": f"/{report['kind'].replace('_', '-')}/{report['_id']}.{f['format']}"}
        for f in report["files"]
    ]
    return Generated(
        report_id=report["_id"],
        kind=report["kind"],
        language=report["language"],
        final=report["final"],
        files=files,
    )


@router.post(
    "/memoria",
    response_model=Generated,
    status_code=status.HTTP_201_CREATED,
    summary="Generate the Memoria (HTML and PDF) in one language",
)
async def generate_memoria(deps: Deps, lang: Lang = "es", final: bool = False) -> Generated:
    return described(await handlers.generate_document(deps, "memoria", lang, final=final))


@router.post(
    "/base-document",
    response_model=Generated,
    status_code=status.HTTP_201_CREATED,
    summary="Generate the base document (HTML and PDF) in one language",
)
async def generate_base_document(deps: Deps, lang: Lang = "es") -> Generated:
    return described(await handlers.generate_document(deps, "base_document", lang))


@router.get("/reports", response_model=list[Generated], summary="Generated versions, newest first")
async def list_reports(deps: Deps) -> list[Generated]:
    return [described(r) for r in await deps.repository.list_reports(deps.forum_id)]


async def serve(deps: Deps, report_id: str, fmt: str) -> Response:
    if fmt not in ("pdf", "html"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="format: pdf or html")
    found = await handlers.report_content(deps, report_id, fmt)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="report not found")
    content, media_type = found
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{report_id}.{fmt}"'},
    )


@public.get("/memoria/{report_id}.{fmt}", summary="A Memoria version (pdf or html)")
async def get_memoria(deps: Deps, report_id: str, fmt: str) -> Response:
    return await serve(deps, report_id, fmt)


@public.get("/base-document/{report_id}.{fmt}", summary="A base document version (pdf or html)")
async def get_base_document(deps: Deps, report_id: str, fmt: str) -> Response:
    return await serve(deps, report_id, fmt)


@router.get("/exports/participants.csv", summary="Participants who agreed to be listed (CSV)")
async def participants_csv(deps: Deps) -> Response:
    people = await deps.repository.public_participants(deps.forum_id)
    return Response(
        exports.participants_csv(people),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="participants.csv"'},
    )


@router.get("/exports/participants.xlsx", summary="Participants who agreed to be listed (XLSX)")
async def participants_xlsx(deps: Deps) -> Response:
    inputs = {"participants": await deps.repository.public_participants(deps.forum_id)}
    return xlsx(
        exports.workbook(deps.pack, "es", inputs, only_participants=True), "participants.xlsx"
    )


@router.get(
    "/exports/memoria.xlsx", summary="Statistics, sessions, conclusions, action plan, budget (XLSX)"
)
async def memoria_xlsx(deps: Deps, lang: Lang = "es") -> Response:
    workbook = exports.workbook(deps.pack, lang, await handlers.memoria_inputs(deps))
    return xlsx(workbook, f"memoria-{lang}.xlsx")


def xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

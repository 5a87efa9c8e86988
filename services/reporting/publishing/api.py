"""Documents and exports: generate the Memoria and the base document (`reports:build`; a final
version, which publishes it, `reports:publish` too), serve the stored versions (a final one to
anyone: it carries only consented names; a draft with `reports:read`), export CSV and XLSX
(`reports:read`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel

from services.reporting.deps import Deps
from services.reporting.publishing import exports, handlers
from shared.auth.dependencies import authenticate, require
from shared.auth.errors import missing_permission
from shared.auth.permissions import Permission
from shared.auth.principal import Principal

Lang = Literal["es", "en"]

public = APIRouter(tags=["documents"])
router = APIRouter(tags=["secretariat"])

Builder = Annotated[Principal, Depends(require(Permission.REPORTS_BUILD))]


def may_publish(builder: Principal, final: bool) -> None:
    """A final version is the published one: building it needs `reports:publish` as well."""
    if final and not builder.can(Permission.REPORTS_PUBLISH):
        raise missing_permission(Permission.REPORTS_PUBLISH.value)


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
async def generate_memoria(
    deps: Deps, builder: Builder, lang: Lang = "es", final: bool = False
) -> Generated:
    may_publish(builder, final)
    return described(await handlers.generate_document(deps, "memoria", lang, final=final))


@router.post(
    "/base-document",
    response_model=Generated,
    status_code=status.HTTP_201_CREATED,
    summary="Generate the base document (HTML and PDF) in one language",
)
async def generate_base_document(
    deps: Deps, builder: Builder, lang: Lang = "es", final: bool = False
) -> Generated:
    may_publish(builder, final)
    return described(await handlers.generate_document(deps, "base_document", lang, final=final))


@router.get(
    "/reports",
    response_model=list[Generated],
    summary="Generated versions, newest first",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
async def list_reports(deps: Deps) -> list[Generated]:
    return [described(r) for r in await deps.repository.list_reports(deps.forum_id)]


DRAFTS = "A final (published) version is public; a draft needs a token with `reports:read`."


async def serve(request: Request, deps: Deps, kind: str, report_id: str, fmt: str) -> Response:
    """A stored version: a final (published) one to anyone, a draft to `reports:read` only."""
    if fmt not in ("pdf", "html"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="format: pdf or html")
    report = await deps.repository.get_report(report_id)
    if report is None or report["kind"] != kind:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="report not found")
    if not report["final"] and not authenticate(request).can(Permission.REPORTS_READ):
        raise missing_permission(Permission.REPORTS_READ.value)
    found = await handlers.report_content(deps, report_id, fmt)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="report not found")
    content, media_type = found
    headers = {"Content-Disposition": f'inline; filename="{report_id}.{fmt}"'}
    if not report["final"]:
        headers["Cache-Control"] = "private, no-store"  # no shared cache keeps a draft
    return Response(content, media_type=media_type, headers=headers)


@public.get(
    "/memoria/{report_id}.{fmt}",
    summary="A Memoria version (pdf or html)",
    description=DRAFTS,
)
async def get_memoria(request: Request, deps: Deps, report_id: str, fmt: str) -> Response:
    return await serve(request, deps, "memoria", report_id, fmt)


@public.get(
    "/base-document/{report_id}.{fmt}",
    summary="A base document version (pdf or html)",
    description=DRAFTS,
)
async def get_base_document(request: Request, deps: Deps, report_id: str, fmt: str) -> Response:
    return await serve(request, deps, "base_document", report_id, fmt)


@router.get(
    "/exports/participants.csv",
    summary="Participants who agreed to be listed (CSV)",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
async def participants_csv(deps: Deps) -> Response:
    people = await deps.repository.public_participants(deps.forum_id)
    return Response(
        exports.participants_csv(people),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="participants.csv"'},
    )


@router.get(
    "/exports/participants.xlsx",
    summary="Participants who agreed to be listed (XLSX)",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
async def participants_xlsx(deps: Deps) -> Response:
    inputs = {"participants": await deps.repository.public_participants(deps.forum_id)}
    return xlsx(
        exports.workbook(deps.pack, "es", inputs, only_participants=True), "participants.xlsx"
    )


@router.get(
    "/exports/memoria.xlsx",
    summary="Statistics, sessions, conclusions, action plan, budget (XLSX)",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
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

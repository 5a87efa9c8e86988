"""Reporting's HTTP API: statistics, conclusions, the action plan, the budget, documents and exports.

Generated documents are public (they carry only consented names); everything else needs the
secretariat token.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.reporting import domain, exports, handlers
from services.reporting.settings import ReportingSettings
from shared.contracts.reporting import ActionItemStatus, ActionOwner, ConclusionText
from shared.http import require_token

Lang = Literal["es", "en"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConclusionBody(Body):
    session_code: str = Field(min_length=1, max_length=40, examples=["B2.1"])
    texts: dict[Lang, ConclusionText] = Field(
        min_length=1, description="The conclusion in es and/or en."
    )
    rapporteur: str | None = Field(None, max_length=200, examples=["Relatoría B2"])


class ActionItemBody(Body):
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


class ActionItemPatch(Body):
    status: ActionItemStatus | None = None
    deadline: date | None = None
    owner: ActionOwner | None = None
    note: str | None = Field(None, max_length=5000)
    evidence_url: str | None = Field(None, max_length=1000, pattern=r"^https?://")
    conclusion_ids: list[uuid.UUID] | None = None


class BudgetEntryBody(Body):
    line: str = Field(examples=["panelist_support"])
    kind: Literal["commitment", "expense"]
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2, examples=["1250.00"])
    description: str = Field(min_length=1, max_length=300, examples=["Pasajes de panelistas B3"])
    entry_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_\-]{1,50}$", description="Idempotency key."
    )


class Generated(BaseModel):
    report_id: str
    kind: str
    language: str
    final: bool
    files: list[dict[str, Any]]


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {("id" if key == "_id" else key): value for key, value in document.items()}


def build_routers(deps: handlers.Reporting, settings: ReportingSettings) -> list[APIRouter]:
    public = APIRouter(tags=["documents"])
    secretariat = APIRouter(
        tags=["secretariat"], dependencies=[Depends(require_token(settings.api_tokens))]
    )

    def refused(error: domain.RuleViolation) -> HTTPException:
        text = str(error)
        code = status.HTTP_404_NOT_FOUND if text.endswith("not found") else status.HTTP_409_CONFLICT
        return HTTPException(code, detail=text)

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

    # -- statistics --

    @secretariat.get("/statistics", summary="Live statistics from every service's events")
    async def get_statistics() -> dict[str, Any]:
        return await handlers.current_statistics(deps)

    # -- documents --

    @secretariat.post(
        "/memoria",
        response_model=Generated,
        status_code=status.HTTP_201_CREATED,
        summary="Generate the Memoria (HTML and PDF) in one language",
    )
    async def generate_memoria(lang: Lang = "es", final: bool = False) -> Generated:
        return described(await handlers.generate_document(deps, "memoria", lang, final=final))

    @secretariat.post(
        "/base-document",
        response_model=Generated,
        status_code=status.HTTP_201_CREATED,
        summary="Generate the base document (HTML and PDF) in one language",
    )
    async def generate_base_document(lang: Lang = "es") -> Generated:
        return described(await handlers.generate_document(deps, "base_document", lang))

    @secretariat.get(
        "/reports", response_model=list[Generated], summary="Generated versions, newest first"
    )
    async def list_reports() -> list[Generated]:
        return [described(r) for r in await deps.repository.list_reports(deps.forum_id)]

    async def serve(report_id: str, fmt: str) -> Response:
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
    async def get_memoria(report_id: str, fmt: str) -> Response:
        return await serve(report_id, fmt)

    @public.get("/base-document/{report_id}.{fmt}", summary="A base document version (pdf or html)")
    async def get_base_document(report_id: str, fmt: str) -> Response:
        return await serve(report_id, fmt)

    # -- conclusions --

    @secretariat.get("/conclusions", summary="Conclusions, by session")
    async def list_conclusions(
        status_: Literal["draft", "submitted", "approved"] | None = Query(None, alias="status"),
    ) -> list[dict[str, Any]]:
        return [_public(c) for c in await deps.repository.list_conclusions(deps.forum_id, status_)]

    @secretariat.post(
        "/conclusions",
        status_code=status.HTTP_201_CREATED,
        summary="A rapporteur drafts a conclusion",
    )
    async def create_conclusion(body: ConclusionBody) -> dict[str, Any]:
        try:
            document = await handlers.draft_conclusion(
                deps,
                body.session_code,
                {k: v.model_dump() for k, v in body.texts.items()},
                body.rapporteur,
            )
        except domain.RuleViolation as error:
            raise refused(error) from None
        return _public(document)

    @secretariat.put("/conclusions/{conclusion_id}", summary="Edit a draft conclusion")
    async def edit_conclusion(conclusion_id: uuid.UUID, body: ConclusionBody) -> dict[str, Any]:
        if await deps.repository.get_conclusion(str(conclusion_id)) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="conclusion: not found")
        try:
            document = await handlers.draft_conclusion(
                deps,
                body.session_code,
                {k: v.model_dump() for k, v in body.texts.items()},
                body.rapporteur,
                conclusion_id=str(conclusion_id),
            )
        except domain.RuleViolation as error:
            raise refused(error) from None
        return _public(await deps.repository.get_conclusion(str(conclusion_id)) or document)

    @secretariat.post(
        "/conclusions/{conclusion_id}/{action}", summary="submit, approve or return a conclusion"
    )
    async def move_conclusion(
        conclusion_id: uuid.UUID, action: Literal["submit", "approve", "return"]
    ) -> dict[str, Any]:
        try:
            await handlers.move_conclusion(deps, str(conclusion_id), action, actor="secretariat")
        except domain.RuleViolation as error:
            raise refused(error) from None
        return _public(await deps.repository.get_conclusion(str(conclusion_id)) or {})

    # -- action plan --

    @secretariat.get("/action-items", summary="The action plan, by deadline, overdue flagged")
    async def list_action_items() -> list[dict[str, Any]]:
        today = deps.today()
        return [
            _public({**i, "overdue": domain.is_overdue(i, today)})
            for i in await deps.repository.list_action_items(deps.forum_id)
        ]

    @secretariat.post(
        "/action-items", status_code=status.HTTP_201_CREATED, summary="Add a line of action"
    )
    async def create_action_item(body: ActionItemBody) -> dict[str, Any]:
        item = {
            "title": body.title,
            "owner": body.owner.model_dump(),
            "deadline": body.deadline.isoformat(),
            "conclusion_ids": [str(c) for c in body.conclusion_ids],
        }
        try:
            return _public(await handlers.create_action_item(deps, item))
        except domain.RuleViolation as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None

    @secretariat.patch(
        "/action-items/{item_id}", summary="Change status, deadline or owner; add a progress note"
    )
    async def patch_action_item(item_id: uuid.UUID, body: ActionItemPatch) -> dict[str, Any]:
        change = domain.ItemUpdate(
            status=body.status,
            deadline=body.deadline,
            owner=body.owner.model_dump() if body.owner else None,
            note=body.note,
            evidence_url=body.evidence_url,
            conclusion_ids=[str(c) for c in body.conclusion_ids]
            if body.conclusion_ids is not None
            else None,
        )
        try:
            await handlers.update_action_item(deps, str(item_id), change)
        except domain.RuleViolation as error:
            raise refused(error) from None
        return _public(await deps.repository.get_action_item(str(item_id)) or {})

    @secretariat.post("/action-items/follow-ups", summary="Run the overdue check now")
    async def run_follow_ups() -> dict[str, int]:
        return {"reminders": await handlers.check_follow_ups(deps)}

    # -- budget --

    @secretariat.get("/budget", summary="Executed against planned, per line")
    async def get_budget() -> dict[str, Any]:
        return {
            "currency": deps.pack.budget.currency,
            "lines": await handlers.budget_execution(deps),
        }

    @secretariat.post(
        "/budget/entries",
        status_code=status.HTTP_201_CREATED,
        summary="Record a commitment or an expense",
    )
    async def add_budget_entry(body: BudgetEntryBody) -> dict[str, Any]:
        try:
            await handlers.record_budget_entry(
                deps,
                body.line,
                body.kind,
                int(body.amount * 100),
                body.description,
                entry_id=body.entry_id,
            )
        except domain.RuleViolation as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
        return {
            "currency": deps.pack.budget.currency,
            "lines": await handlers.budget_execution(deps),
        }

    # -- exports --

    @secretariat.get(
        "/exports/participants.csv", summary="Participants who agreed to be listed (CSV)"
    )
    async def participants_csv() -> Response:
        people = await deps.repository.public_participants(deps.forum_id)
        return Response(
            exports.participants_csv(people),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="participants.csv"'},
        )

    @secretariat.get(
        "/exports/participants.xlsx", summary="Participants who agreed to be listed (XLSX)"
    )
    async def participants_xlsx() -> Response:
        inputs = {"participants": await deps.repository.public_participants(deps.forum_id)}
        return _xlsx(
            exports.workbook(deps.pack, "es", inputs, only_participants=True), "participants.xlsx"
        )

    @secretariat.get(
        "/exports/memoria.xlsx",
        summary="Statistics, sessions, conclusions, action plan, budget (XLSX)",
    )
    async def memoria_xlsx(lang: Lang = "es") -> Response:
        return _xlsx(
            exports.workbook(deps.pack, lang, await handlers.memoria_inputs(deps)),
            f"memoria-{lang}.xlsx",
        )

    return [public, secretariat]


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

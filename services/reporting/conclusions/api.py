"""Conclusions: rapporteurs draft and submit (`conclusions:write`, limited to the sessions their
access names), the secretariat approves or returns (`conclusions:review`); reading them is
`conclusions:read` (a rapporteur: their sessions' only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.common import RuleViolation
from services.reporting.conclusions import handlers
from services.reporting.deps import Deps
from services.reporting.documents import STORAGE_FIELDS
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.contracts.reporting import ConclusionText

Lang = Literal["es", "en"]

router = APIRouter(tags=["conclusions"])

Writer = Annotated[Principal, Depends(require(Permission.CONCLUSIONS_WRITE))]
Reviewer = Annotated[Principal, Depends(require(Permission.CONCLUSIONS_REVIEW))]


class ConclusionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_code: str = Field(min_length=1, max_length=40, examples=["B2.1"])
    texts: dict[Lang, ConclusionText] = Field(
        min_length=1, description="The conclusion in es and/or en."
    )
    rapporteur: str | None = Field(None, max_length=200, examples=["Relatoría B2"])

    def text_dict(self) -> dict[str, dict[str, str]]:
        return {lang: text.model_dump() for lang, text in self.texts.items()}


def public(document: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the API shows it: `id` for `_id`, without the store's fields."""
    return {
        ("id" if key == "_id" else key): value
        for key, value in document.items()
        if key not in STORAGE_FIELDS
    }


def refused(error: RuleViolation) -> HTTPException:
    code = status.HTTP_404_NOT_FOUND if error.not_found else status.HTTP_409_CONFLICT
    return HTTPException(code, detail=str(error))


@router.get("/conclusions", summary="Conclusions, by session")
async def list_conclusions(
    deps: Deps,
    reader: Annotated[Principal, Depends(require(Permission.CONCLUSIONS_READ))],
    status_: Literal["draft", "submitted", "approved"] | None = Query(None, alias="status"),
) -> list[dict[str, Any]]:
    # A token limited to sessions (a rapporteur's) reads those sessions' conclusions only.
    sessions = sorted(reader.sessions) if reader.sessions else None
    found = await deps.repository.list_conclusions(deps.forum_id, status_, sessions=sessions)
    return [public(c) for c in found]


@router.post(
    "/conclusions", status_code=status.HTTP_201_CREATED, summary="A rapporteur drafts a conclusion"
)
async def create_conclusion(deps: Deps, body: ConclusionBody, writer: Writer) -> dict[str, Any]:
    writer.require_session(body.session_code)
    try:
        document = await handlers.draft_conclusion(
            deps, body.session_code, body.text_dict(), body.rapporteur
        )
    except RuleViolation as error:
        raise refused(error) from None
    return public(document)


@router.put("/conclusions/{conclusion_id}", summary="Edit a draft conclusion")
async def edit_conclusion(
    deps: Deps, conclusion_id: uuid.UUID, body: ConclusionBody, writer: Writer
) -> dict[str, Any]:
    stored = await deps.repository.get_conclusion(str(conclusion_id))
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="conclusion: not found")
    # A rapporteur edits their sessions' conclusions only, and cannot move one to another session.
    writer.require_session(stored["session_code"])
    writer.require_session(body.session_code)
    try:
        document = await handlers.draft_conclusion(
            deps,
            body.session_code,
            body.text_dict(),
            body.rapporteur,
            conclusion_id=str(conclusion_id),
        )
    except RuleViolation as error:
        raise refused(error) from None
    return public(document)


@router.post(
    "/conclusions/{conclusion_id}/submit", summary="A rapporteur submits a conclusion for review"
)
async def submit_conclusion(deps: Deps, conclusion_id: uuid.UUID, writer: Writer) -> dict[str, Any]:
    stored = await deps.repository.get_conclusion(str(conclusion_id))
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="conclusion: not found")
    writer.require_session(stored["session_code"])  # their own session's only
    try:
        document = await handlers.move_conclusion(
            deps, str(conclusion_id), "submit", actor=writer.subject
        )
    except RuleViolation as error:
        raise refused(error) from None
    return public(document)


@router.post(
    "/conclusions/{conclusion_id}/{action}",
    summary="The secretariat approves a submitted conclusion or returns it to its rapporteur",
)
async def review_conclusion(
    deps: Deps,
    conclusion_id: uuid.UUID,
    action: Literal["approve", "return"],
    reviewer: Reviewer,
) -> dict[str, Any]:
    try:
        document = await handlers.move_conclusion(
            deps, str(conclusion_id), action, actor=reviewer.subject
        )
    except RuleViolation as error:
        raise refused(error) from None
    return public(document)

"""Releases, for the secretariat (`/programme/releases`): publish the draft, list what was
published with its changelogs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field

from services.scheduling.deps import Deps, Refused
from services.scheduling.programme.api import Body
from services.scheduling.releases import handlers
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(prefix="/programme", tags=["secretariat"])


class PublishBody(Body):
    note: str | None = Field(None, max_length=500)


@router.post(
    "/releases",
    status_code=status.HTTP_201_CREATED,
    summary="Publish the draft as a release",
    dependencies=[Depends(require(Permission.PROGRAMME_PUBLISH))],
)
async def publish(request: Request, deps: Deps, body: PublishBody | None = None) -> JSONResponse:
    try:
        release = await handlers.publish(deps, body.note if body else None)
    except Refused as error:
        raise error.as_http() from None
    return JSONResponse(
        {
            "release": release["number"],
            "changes": release["changes"],
            "warnings": release["warnings"],
            "agenda": f"{deps.public_base(request)}/agenda?release={release['number']}",
        },
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/releases",
    summary="Published releases with their changelogs",
    dependencies=[Depends(require(Permission.PROGRAMME_READ))],
)
async def releases(deps: Deps) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.items() if k not in ("version", "_id")}
        for r in await deps.repository.release_list(deps.forum_id)
    ]

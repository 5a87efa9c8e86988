"""Launches' routes: the stage programme (anyone) and an exhibitor's booking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.expo.access import Exhibitor, ExpoDeps
from services.expo.documents import ExhibitorDocument
from services.expo.launches import handlers
from services.expo.schemas import LaunchRequest

public = APIRouter(tags=["public"])
mine = APIRouter(prefix="/me", tags=["exhibitor"])


@public.get("/launches", summary="Launches on the expo stage")
async def launches(deps: ExpoDeps) -> list[dict[str, Any]]:
    found = await deps.repository.launches(deps.pack.forum.id, deps.pack.forum.days)
    return sorted(
        (entry for day in found for entry in day.get("launches", [])),
        key=lambda e: e["starts_at"],
    )


@mine.post(
    "/launches", status_code=status.HTTP_201_CREATED, summary="Book a launch slot on the expo stage"
)
async def launch(body: LaunchRequest, exhibitor: Exhibitor, deps: ExpoDeps) -> dict[str, Any]:
    return await handlers.schedule_launch(deps, ExhibitorDocument.model_validate(exhibitor), body)


ROUTERS = (public, mine)

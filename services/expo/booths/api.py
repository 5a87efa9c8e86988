"""Booths' routes: the floor plan and the booths (anyone), the exhibitor's request, the
secretariat's allocation and manual assignments."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from services.expo.access import SAFE_HEADERS, Exhibitor, ExpoDeps
from services.expo.booths import handlers
from services.expo.booths.floorplan import render_floor_plan
from services.expo.schemas import BoothRequest, ManualAssignment, ReleaseBooth
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

public = APIRouter(tags=["public"])
secretariat_router = APIRouter(tags=["secretariat"])
mine = APIRouter(prefix="/me", tags=["exhibitor"])

BOOTH_FIELDS = (
    "zone",
    "tier",
    "size_m2",
    "price_usd",
    "x",
    "y",
    "width",
    "height",
    "exhibitor_id",
    "exhibitor_name",
    "manual",
)


def answer_view(answer: handlers.BoothAnswer) -> dict[str, Any]:
    return {
        "exhibitor_id": answer.exhibitor_id,
        "booth": answer.booth,
        "manual": answer.manual,
        "explanation": answer.explanation.model_dump(),
    }


@public.get(
    "/floor-plan.svg", response_class=Response, summary="The floor plan with exhibitor names (SVG)"
)
@public.get(
    "/floorplan.svg", response_class=Response, include_in_schema=False
)  # the name the launcher prints
async def floor_plan(deps: ExpoDeps, lang: Literal["es", "en"] = "es") -> Response:
    svg = render_floor_plan(deps.pack, await deps.repository.all_booths(), lang)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            **SAFE_HEADERS,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


@public.get("/booths", summary="Booths, who holds them and why")
async def booths(deps: ExpoDeps) -> list[dict[str, Any]]:
    return [
        {"code": b["_id"], **{k: b.get(k) for k in BOOTH_FIELDS}}
        for b in await deps.repository.all_booths()
    ]


@secretariat_router.post(
    "/allocation/run",
    summary="Allocate booths to every approved exhibitor without one",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def run_allocation(deps: ExpoDeps) -> list[dict[str, Any]]:
    return [answer_view(a) for a in await handlers.allocate_floor(deps)]


@secretariat_router.post(
    "/allocation/reset",
    summary="Free every booth the rules assigned (manual ones stay)",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def reset_allocation(body: ReleaseBooth, deps: ExpoDeps) -> dict[str, int]:
    return {"released": await handlers.reset_allocation(deps, body.reason)}


@secretariat_router.put(
    "/booths/{code}/assignment",
    summary="Assign a booth by hand (overrides the rules)",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def assign(code: str, body: ManualAssignment, deps: ExpoDeps) -> dict[str, Any]:
    answer = await handlers.assign_manually(
        deps, code, str(body.exhibitor_id), body.reason, body.displace
    )
    return answer_view(answer)


@secretariat_router.delete(
    "/booths/{code}/assignment",
    summary="Free a booth",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def release(
    code: str, deps: ExpoDeps, reason: str = Query(min_length=3, max_length=500)
) -> dict[str, str]:
    await handlers.release_manually(deps, code, reason)
    return {"booth": code, "status": "free"}


@mine.post("/booth-request", summary="Ask for a booth (answered at once, with the reason)")
async def booth_request(
    response: Response, exhibitor: Exhibitor, deps: ExpoDeps, body: BoothRequest | None = None
) -> dict[str, Any]:
    answer = await handlers.request_booth(
        exhibitor["_id"], deps, body.booth_preferences if body else None
    )
    if answer.booth is None:
        response.status_code = status.HTTP_409_CONFLICT
    return answer_view(answer)


ROUTERS = (public, secretariat_router, mine)

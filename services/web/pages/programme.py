"""The public programme: scheduling's published agenda by day and room, with iCal links.

The iCal feeds are passed through from scheduling, so a visitor's calendar subscribes to this
site's address, the one they already trust.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.web.backends import BackendError
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import Who
from services.web.rendering import backends_of, render

NAV = (NavItem(N_("Programme"), "/programme", "public", order=10),)
router = APIRouter()

ICAL = "text/calendar; charset=utf-8"


@router.get("/programme", response_class=HTMLResponse)
async def programme(
    request: Request,
    who: Who,
    day: Annotated[int | None, Query(ge=0, le=60)] = None,
    room: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    try:
        agenda = await backends_of(request).get_json("scheduling", "/agenda.json")
    except BackendError as refused:
        if refused.status != 404:
            raise
        return render(request, "programme.html", {"agenda": None}, status_code=200)
    days: list[dict[str, Any]] = agenda.get("days", [])
    shown = [d for d in days if day is None or d["index"] == day]
    room_codes = {r["code"] for r in agenda.get("rooms", [])}
    chosen_room = room if room in room_codes else None
    for entry in shown:
        entry["shown"] = [
            item
            for item in entry.get("items", [])
            if chosen_room is None or (item.get("room") or {}).get("code") == chosen_room
        ]
    return render(
        request,
        "programme.html",
        {
            "agenda": agenda,
            "days": days,
            "shown_days": shown,
            "day": day,
            "room": chosen_room,
        },
    )


async def _ical(request: Request, path: str, lang: str) -> Response:
    feed = await backends_of(request).get_raw("scheduling", path, params={"lang": lang})
    filename = path.rsplit("/", 2)[-2] + ".ics" if path.startswith("/rooms/") else "programme.ics"
    return Response(
        feed.content,
        media_type=ICAL,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/programme.ics")
async def programme_ical(request: Request, who: Who) -> Response:
    return await _ical(request, "/agenda.ics", who.lang)


@router.get("/programme/rooms/{room}.ics")
async def room_ical(
    request: Request, who: Who, room: Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9_-]+$")]
) -> Response:
    return await _ical(request, f"/rooms/{room}/agenda.ics", who.lang)

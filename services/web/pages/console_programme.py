"""The console's programme editor: scheduling's draft by day, a session edited (time, room,
title, capacity), cancelled or restored, the conflicts that stop a release, and publishing one.

Times are typed and shown in venue time; scheduling reads a time without an offset as venue time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, Forbidden, passes_on
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import Who
from services.web.pages.console import Staff
from services.web.pages.console_shared import (
    form_expired,
    refusal_text,
    shown_time,
    venue_time,
)
from services.web.rendering import backends_of, pack_of, render, translate
from services.web.session import CSRF_FIELD
from shared.auth.permissions import Permission

NAV = (
    NavItem(
        N_("Programme editor"),
        "/console/programme",
        "staff",
        order=40,
        permissions=(Permission.PROGRAMME_EDIT,),
    ),
)
router = APIRouter(prefix="/console/programme")

SessionCode = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$", max_length=50)]
CSRF = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]

KIND_NAMES = {
    "inauguration": N_("Inauguration"),
    "expo_opening": N_("Expo opening"),
    "block": N_("Block"),
    "session": N_("Session"),
    "break": N_("Break"),
    "closing": N_("Closing"),
}
BAD_TIME = N_("{field}: give a time as HH:MM.")
BAD_DATE = N_("{field}: choose one of the forum's days.")
BAD_NUMBER = N_("{field}: give a whole number from 0 to 100000, or leave it empty.")
TITLE_NEEDED = N_("{field}: the title is needed in both languages.")
NOTHING_CHANGED = N_("Nothing was changed.")
SAVED = N_("Session {code} saved.")
CANCELLED = N_("Session {code} cancelled in the draft.")
RESTORED = N_("Session {code} restored in the draft.")


async def _draft(request: Request, token: str) -> dict[str, Any]:
    found: dict[str, Any] = await backends_of(request).get_json(
        "scheduling", "/programme/draft", token=token
    )
    return found


def _sessions_by_day(request: Request, sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The draft's sessions by venue day, in time order, with their times shown."""
    days: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        starts, ends = (
            venue_time(request, s.get("starts_at")),
            venue_time(request, s.get("ends_at")),
        )
        if starts is None or ends is None:
            continue
        days[starts.date()].append({**s, "_starts": starts, "_ends": ends})
    return [
        {"date": day, "sessions": sorted(items, key=lambda s: (s["_starts"], s["code"]))}
        for day, items in sorted(days.items())
    ]


@router.get("", response_class=HTMLResponse)
async def editor(
    request: Request,
    who: Who,
    session: Staff,
    done: Annotated[str, Query(max_length=50, pattern=r"^(saved|cancelled|restored)?$")] = "",
    code: Annotated[str, Query(max_length=50)] = "",
) -> HTMLResponse:
    services = backends_of(request)
    draft = await _draft(request, session.token)
    conflicts = await services.get_json("scheduling", "/programme/conflicts", token=session.token)
    try:
        releases = await services.get_json("scheduling", "/programme/releases", token=session.token)
    except Forbidden:
        releases = []
    notices = {"saved": SAVED, "cancelled": CANCELLED, "restored": RESTORED}
    return render(
        request,
        "console/programme.html",
        {
            "days": _sessions_by_day(request, draft.get("sessions", [])),
            "conflicts": conflicts,
            "releases": sorted(releases, key=lambda r: -int(r.get("number", 0)))[:5],
            "rooms": {r.code: r.name for r in pack_of(request).programme.rooms},
            "kind_names": KIND_NAMES,
            "notice": translate(request, notices[done], code=code) if done and code else None,
            "shown_time": lambda value: shown_time(request, value),
        },
    )


def _edit_context(request: Request, found: dict[str, Any]) -> dict[str, Any]:
    starts = venue_time(request, found.get("starts_at"))
    ends = venue_time(request, found.get("ends_at"))
    pack = pack_of(request)
    return {
        "s": found,
        "values": {
            "day": starts.date().isoformat() if starts else "",
            "starts": starts.strftime("%H:%M") if starts else "",
            "ends": ends.strftime("%H:%M") if ends else "",
            "room": found.get("room") or "",
            "title_es": (found.get("title") or {}).get("es", ""),
            "title_en": (found.get("title") or {}).get("en", ""),
            "seats": "" if found.get("seats") is None else str(found["seats"]),
        },
        "dates": _days(request, starts.date() if starts else None),
        "all_rooms": pack.programme.rooms,
        "kind_names": KIND_NAMES,
    }


def _days(request: Request, own: date | None) -> list[str]:
    """The days a session may move to: the forum's, and the one it is on."""
    days = set(pack_of(request).forum.dates) | ({own} if own else set())
    return [d.isoformat() for d in sorted(days)]


async def _session(request: Request, token: str, code: str) -> dict[str, Any]:
    for found in (await _draft(request, token)).get("sessions", []):
        if found.get("code") == code:
            result: dict[str, Any] = found
            return result
    raise BackendError("scheduling", 404, "code: no such session")


@router.get("/sessions/{code}", response_class=HTMLResponse)
async def edit_form(request: Request, who: Who, session: Staff, code: SessionCode) -> HTMLResponse:
    found = await _session(request, session.token, code)
    return render(request, "console/session_edit.html", _edit_context(request, found))


def _clock(value: str, field: str, request: Request) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(translate(request, BAD_TIME, field=field)) from None


def _changes(
    request: Request,
    found: dict[str, Any],
    day: str,
    starts: str,
    ends: str,
    room: str,
    title_es: str,
    title_en: str,
    seats: str,
) -> dict[str, Any]:
    """The PATCH body: only what differs from the draft. ValueError names a field and why."""
    current = _edit_context(request, found)["values"]
    if day not in _days(request, date.fromisoformat(current["day"]) if current["day"] else None):
        raise ValueError(translate(request, BAD_DATE, field=translate(request, N_("Day"))))
    on = date.fromisoformat(day)
    start_at = datetime.combine(on, _clock(starts, translate(request, N_("Starts")), request))
    end_at = datetime.combine(on, _clock(ends, translate(request, N_("Ends")), request))
    body: dict[str, Any] = {}
    if (day, start_at.strftime("%H:%M"), end_at.strftime("%H:%M")) != (
        current["day"],
        current["starts"],
        current["ends"],
    ):
        body["starts_at"] = start_at.isoformat(timespec="minutes")  # no offset: venue time
        body["ends_at"] = end_at.isoformat(timespec="minutes")
    if room != current["room"]:
        body["room"] = room or None
    es, en = title_es.strip(), title_en.strip()
    if not es or not en:
        raise ValueError(translate(request, TITLE_NEEDED, field=translate(request, N_("Title"))))
    if (es, en) != (current["title_es"], current["title_en"]):
        body["title"] = {"es": es, "en": en}
    seats = seats.strip()
    if seats != current["seats"]:
        if seats and not (seats.isdigit() and int(seats) <= 100_000):
            raise ValueError(translate(request, BAD_NUMBER, field=translate(request, N_("Seats"))))
        body["seats"] = int(seats) if seats else None
    return body


@router.post("/sessions/{code}", response_class=HTMLResponse)
async def save(
    request: Request,
    who: Who,
    session: Staff,
    code: SessionCode,
    day: Annotated[str, Form(max_length=10)] = "",
    starts: Annotated[str, Form(max_length=8)] = "",
    ends: Annotated[str, Form(max_length=8)] = "",
    room: Annotated[str, Form(max_length=50)] = "",
    title_es: Annotated[str, Form(max_length=500)] = "",
    title_en: Annotated[str, Form(max_length=500)] = "",
    seats: Annotated[str, Form(max_length=10)] = "",
    csrf_token: CSRF = "",
) -> Response:
    back = f"/console/programme/sessions/{code}"
    if expired := form_expired(request, who, csrf_token, back):
        return expired
    found = await _session(request, session.token, code)

    def again(error: str, status_code: int) -> HTMLResponse:
        context = _edit_context(request, found)
        context["values"] = {
            "day": day,
            "starts": starts,
            "ends": ends,
            "room": room,
            "title_es": title_es,
            "title_en": title_en,
            "seats": seats,
        }
        context["error"] = error
        return render(request, "console/session_edit.html", context, status_code=status_code)

    try:
        body = _changes(request, found, day, starts, ends, room, title_es, title_en, seats)
    except ValueError as wrong:
        return again(str(wrong), 422)
    if not body:
        return again(translate(request, NOTHING_CHANGED), 200)
    try:
        await backends_of(request).request(
            "scheduling", "PATCH", f"/programme/sessions/{code}", token=session.token, json=body
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return again(refusal_text(request, refused), 409 if refused.status == 409 else 422)
    return RedirectResponse(f"/console/programme?done=saved&code={code}", status_code=303)


@router.post("/sessions/{code}/cancel")
async def cancel(
    request: Request,
    who: Who,
    session: Staff,
    code: SessionCode,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CSRF = "",
) -> Response:
    body = {"reason": reason.strip() or None}
    return await _status_change(request, who, session, csrf_token, code, "cancel", body)


@router.post("/sessions/{code}/restore")
async def restore(
    request: Request, who: Who, session: Staff, code: SessionCode, csrf_token: CSRF = ""
) -> Response:
    return await _status_change(request, who, session, csrf_token, code, "restore", None)


async def _status_change(
    request: Request,
    who: Who,
    session: Staff,
    csrf_token: str,
    code: str,
    action: Literal["cancel", "restore"],
    body: dict[str, Any] | None,
) -> Response:
    """A session cancelled or restored in the draft, then the programme saying so."""
    if expired := form_expired(request, who, csrf_token, f"/console/programme/sessions/{code}"):
        return expired
    await backends_of(request).post_json(
        "scheduling", f"/programme/sessions/{code}/{action}", token=session.token, json=body
    )
    done = "cancelled" if action == "cancel" else "restored"
    return RedirectResponse(f"/console/programme?done={done}&code={code}", status_code=303)


@router.post("/releases", response_class=HTMLResponse)
async def publish(
    request: Request,
    who: Who,
    session: Staff,
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CSRF = "",
) -> HTMLResponse:
    if expired := form_expired(request, who, csrf_token, "/console/programme"):
        return expired
    try:
        release = await backends_of(request).post_json(
            "scheduling",
            "/programme/releases",
            token=session.token,
            json={"note": note.strip() or None},
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        detail = refused.detail if isinstance(refused.detail, dict) else {}
        return render(
            request,
            "console/published.html",
            {
                "release": None,
                "error": refusal_text(request, refused).split(" · ")[0],
                "conflicts": [c for c in detail.get("conflicts") or [] if isinstance(c, dict)],
            },
            status_code=409 if refused.status == 409 else 422,
        )
    return render(request, "console/published.html", {"release": release}, status_code=201)

"""The door: staff check people in by scanning their badge's QR code.

`/door` lets the door staff choose the check-in point (registration's `GET /checkins/points`) and
scan: the phone's or laptop's camera, a photo of the QR code, or the code typed in. The QR code is
decoded in the browser (`static/door.js` with ZXing, vendored from npm) and the scan is posted here,
`POST /door/scans`, which passes it on to registration's `POST /checkins` with the signed-in
person's token and answers what the door shows: the name, category, badge colour, delegation,
"first check-in today" or "already checked in today", or refused and why, in the page's language.

Scans made while the network is down wait in the browser (localStorage) with their own id and time
and are sent when it returns; registration counts a replayed scan once (`scan_id`) and for the day
it was made (`scanned_at`). Without JavaScript the typed code posts as a plain form.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.web.backends import BackendError, Forbidden, SignInRequired, Unavailable
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf
from services.web.pages.console import Staff
from services.web.rendering import Visitor, backends_of, render, translate
from services.web.session import CSRF_FIELD
from shared.auth.permissions import Permission
from shared.pack import EventPack

NAV = (NavItem(N_("Door"), "/door", "staff", order=60, permissions=(Permission.CHECKIN_SCAN,)),)
router = APIRouter()

CSRF_HEADER = "X-CSRF-Token"
SERVICE_WORKER = Path(__file__).parent.parent / "static" / "sw-door.js"
POINT = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")

FIRST_TODAY = N_("First check-in today")
ALREADY_TODAY = N_("Already checked in today")
REFUSED = N_("Refused")
SIGN_IN_AGAIN = N_("Your sign-in has expired: sign in again; the scans waiting here are kept.")
ROLE_CANNOT = N_("Your role cannot check people in.")
NOT_ANSWERING = N_("Registration is not answering; the scan is kept and sent again.")
CODE_NEEDED = N_("Scan or type the code of the badge.")
POINT_NEEDED = N_("Choose the check-in point.")

POINT_NAMES = {
    "entrance": N_("Entrance"),
    "expo": N_("Exhibition"),
}


class ScanBody(BaseModel):
    """What `static/door.js` posts: the QR text, the point, and for a queued scan its id and time."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=400)
    point: str = Field(pattern=POINT.pattern)
    scan_id: uuid.UUID | None = None
    scanned_at: datetime | None = None


def point_names(request: Request, points: list[str]) -> dict[str, str]:
    """Each point's name: the entrance and the exhibition by name, a room by the pack's name."""
    pack: EventPack = request.app.state.pack
    visitor: Visitor = request.state.visitor
    rooms = {room.code: room.name.get(visitor.lang) for room in pack.programme.rooms}
    return {
        code: translate(request, POINT_NAMES[code])
        if code in POINT_NAMES
        else rooms.get(code, code)
        for code in points
    }


def shown(request: Request, answer: dict[str, Any]) -> dict[str, Any]:
    """Registration's check-in answered: what the door shows, in the page's language."""
    pack: EventPack = request.app.state.pack
    visitor: Visitor = request.state.visitor
    category = pack.category(answer.get("category", ""))
    delegation = answer.get("delegation") or {}
    first = bool(answer.get("first_today"))
    colour = str(answer.get("badge_colour") or "")
    return {
        "outcome": "checked_in" if first else "already",
        "first_today": first,
        "replayed": bool(answer.get("replayed")),
        "headline": translate(request, FIRST_TODAY if first else ALREADY_TODAY),
        "name": f"{answer.get('given_name', '')} {answer.get('family_name', '')}".strip(),
        "category": category.name.get(visitor.lang) if category else answer.get("category"),
        "badge_colour": colour if COLOUR.match(colour) else "#37474F",
        "delegation": delegation.get("name"),
        "organisation": answer.get("organisation"),
        "point": answer.get("point"),
        "day": answer.get("day"),
        "participant_id": answer.get("participant_id"),
    }


def refused(request: Request, error: BackendError) -> dict[str, Any]:
    visitor: Visitor = request.state.visitor
    detail = error.detail if isinstance(error.detail, dict) else {}
    return {
        "outcome": "refused",
        "headline": translate(request, REFUSED),
        "code": detail.get("code"),
        "field": detail.get("field"),
        "detail": error.message(visitor.lang) or "",
    }


async def check_in(
    request: Request, token: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Registration's `POST /checkins`, its answer as the door shows it, with a status saying
    whether the browser keeps the scan (401, 403 of a role, 5xx: it is sent again) or not (200:
    checked in, already today, or refused: a refusal is an answer the door expects, not an error)."""
    try:
        answer = await backends_of(request).post_json(
            "registration", "/checkins", token=token, json=body
        )
    except SignInRequired:
        return 401, {"outcome": "sign_in", "detail": translate(request, SIGN_IN_AGAIN)}
    except Forbidden as error:
        if error.permission:  # the role lacks checkin:scan, not a refusal of the badge
            return 403, {"outcome": "forbidden", "detail": translate(request, ROLE_CANNOT)}
        return 200, refused(request, error)
    except Unavailable:
        return 503, {"outcome": "unavailable", "detail": translate(request, NOT_ANSWERING)}
    except BackendError as error:
        if error.status == 429:
            return 503, {"outcome": "unavailable", "detail": translate(request, NOT_ANSWERING)}
        return 200, refused(request, error)
    return 200, shown(request, answer)


async def _points(request: Request, token: str) -> list[str]:
    points: list[str] = await backends_of(request).get_json(
        "registration", "/checkins/points", token=token
    )
    return points


@router.get("/door", response_class=HTMLResponse)
async def door(
    request: Request,
    who: Who,
    session: Staff,
    point: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    points = await _points(request, session.token)
    return _page(request, points, point)


def _page(
    request: Request,
    points: list[str],
    point: str | None,
    result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "door/door.html",
        {
            "points": point_names(request, points),
            "point": point if point in points else (points[0] if points else ""),
            "result": result,
            "server_time": datetime.now(UTC).isoformat(),
        },
        status_code=status_code,
    )


@router.post("/door/scans")
async def scan(request: Request, who: Who) -> Response:
    """A scan: JSON from `door.js` (the CSRF token in `X-CSRF-Token`), answered in JSON; or the
    page's form without JavaScript (`token`, `point`, `csrf_token`), answered with the page."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await _scan_json(request, who)
    form = await request.form()
    return await _scan_form(
        request,
        who,
        token=str(form.get("token") or "").strip()[:400],
        point=str(form.get("point") or "")[:50],
        csrf_token=str(form.get(CSRF_FIELD) or "")[:100],
    )


async def _scan_json(request: Request, who: Visitor) -> JSONResponse:
    def answer(status: int, content: dict[str, Any]) -> JSONResponse:
        content["server_time"] = datetime.now(UTC).isoformat()
        return JSONResponse(content, status_code=status, headers={"Cache-Control": "no-store"})

    if who.session is None:
        return answer(401, {"outcome": "sign_in", "detail": translate(request, SIGN_IN_AGAIN)})
    if not check_csrf(request, who, request.headers.get(CSRF_HEADER)):
        return answer(403, {"outcome": "expired", "detail": translate(request, FORM_EXPIRED)})
    try:
        body = ScanBody.model_validate(await request.json())
    except (ValidationError, ValueError) as error:
        problems = error.errors() if isinstance(error, ValidationError) else []
        fields = ", ".join(str(p["loc"][0]) for p in problems if p.get("loc")) or "body"
        return answer(
            422, {"outcome": "invalid", "field": fields, "detail": translate(request, CODE_NEEDED)}
        )
    forwarded: dict[str, Any] = {"token": body.token.strip(), "point": body.point}
    if body.scan_id is not None:
        forwarded["scan_id"] = str(body.scan_id)
    if body.scanned_at is not None:
        forwarded["scanned_at"] = body.scanned_at.isoformat()
    status, content = await check_in(request, who.session.token, forwarded)
    return answer(status, content)


async def _scan_form(
    request: Request, who: Visitor, *, token: str, point: str, csrf_token: str
) -> Response:
    session = who.session
    if session is None:
        raise SignInRequired("web", 401)
    points = await _points(request, session.token)
    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        error = {"outcome": "refused", "headline": "", "detail": translate(request, FORM_EXPIRED)}
        return _page(request, points, point, error, 400)
    if point not in points:
        error = {"outcome": "refused", "headline": "", "detail": translate(request, POINT_NEEDED)}
        return _page(request, points, point, error, 422)
    if len(token) < 10:
        error = {"outcome": "refused", "headline": "", "detail": translate(request, CODE_NEEDED)}
        return _page(request, points, point, error, 422)
    status, content = await check_in(request, session.token, {"token": token, "point": point})
    if status in (401, 403, 503):
        raise {401: SignInRequired, 403: Forbidden, 503: Unavailable}[status](
            "registration", status
        )
    return _page(request, points, point, content)


@router.get("/door-sw.js", include_in_schema=False)
async def service_worker() -> Response:
    """The door's service worker, from the site's root so that it may control `/door` (the
    page is then reloadable offline): it caches the page and its files, nothing else."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/door"},
    )

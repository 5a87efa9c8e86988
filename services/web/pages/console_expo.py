"""The console's expo: exhibitors approved (their access token shown once) or rejected, booths
on the floor plan (the rules' allocation run or reset, a booth assigned or freed by hand), and
the B2B meetings and job fair in figures.

Expo offers the secretariat no list of meetings or of job applications (its `GET /meetings` is
a party's own): the overview shows reporting's counts and the open jobs (`GET /jobs`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, Forbidden, Unavailable
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import Who
from services.web.pages.console import Staff, names
from services.web.pages.console_shared import (
    backends,
    form_expired,
    pack_of,
    passes_on,
    refusal_text,
    shown_time,
    tr,
)
from services.web.rendering import render
from services.web.session import CSRF_FIELD
from shared.auth.permissions import Permission

NAV = (
    NavItem(
        N_("Exhibitors"), "/console/expo", "staff", order=50, permissions=(Permission.EXPO_READ,)
    ),
)
router = APIRouter(prefix="/console/expo")

CSRF = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]
BoothCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")]
ExhibitorStatus = Literal["applied", "approved", "rejected"]

EXHIBITOR_STATUS_NAMES = {
    "applied": N_("Applied"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
REASON_NEEDED = N_("{field}: give the reason (at least 3 characters).")
REJECTED = N_("{name} rejected.")
ALLOCATED = N_("The rules ran: {count} answers.")
RESET = N_("{count} booths freed.")
ASSIGNED = N_("Booth {booth} assigned.")
FREED = N_("Booth {booth} freed.")
ROLE_LACKS = N_("Your role cannot see this part ({permission}).")
NOT_ANSWERING = N_("The {service} service is not answering; this part is missing for now.")


def _redirect(path: str, **notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(notice)}" if notice else path, status_code=303)


# --- exhibitors ----------------------------------------------------------------------------------


async def _exhibitors_page(
    request: Request,
    who: Who,
    session: Staff,
    status: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await backends(request).get_json(
        "expo", "/exhibitors", token=session.token, params={"status": status or None}
    )
    pack = pack_of(request)
    return render(
        request,
        "console/exhibitors.html",
        {
            "exhibitors": found,
            "chosen_status": status,
            "status_names": EXHIBITOR_STATUS_NAMES,
            "types": {t.code: t.name for t in pack.exhibitor_types},
            "zones": {z.code: z.name for z in pack.zones},
            **names(pack, who.lang),
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def exhibitors(
    request: Request,
    who: Who,
    session: Staff,
    status: Annotated[ExhibitorStatus | Literal[""], Query()] = "",
    notice: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    return await _exhibitors_page(request, who, session, status, {"notice": notice or None})


@router.post("/exhibitors/{exhibitor_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, who: Who, session: Staff, exhibitor_id: uuid.UUID, csrf_token: CSRF = ""
) -> HTMLResponse:
    if expired := form_expired(request, who, csrf_token, "/console/expo"):
        return expired
    try:
        answer = await backends(request).post_json(
            "expo", f"/exhibitors/{exhibitor_id}/approve", token=session.token
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return await _exhibitors_page(
            request, who, session, "", {"error": refusal_text(request, refused)}, 409
        )
    response = render(
        request,
        "console/exhibitor_access.html",
        {
            "exhibitor": answer.get("exhibitor", {}),
            "access": answer,
            "expires": shown_time(request, answer.get("expires_at")),
        },
    )
    response.headers["Cache-Control"] = "no-store"  # the token is shown once
    return response


@router.post("/exhibitors/{exhibitor_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request,
    who: Who,
    session: Staff,
    exhibitor_id: uuid.UUID,
    reason: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: CSRF = "",
) -> Response:
    if expired := form_expired(request, who, csrf_token, "/console/expo"):
        return expired
    if len(reason.strip()) < 3:
        field = tr(request, N_("Reason"))
        return await _exhibitors_page(
            request, who, session, "", {"error": tr(request, REASON_NEEDED, field=field)}, 422
        )
    try:
        answer = await backends(request).post_json(
            "expo",
            f"/exhibitors/{exhibitor_id}/reject",
            token=session.token,
            json={"reason": reason.strip()},
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return await _exhibitors_page(
            request, who, session, "", {"error": refusal_text(request, refused)}, 409
        )
    return _redirect("/console/expo", notice=tr(request, REJECTED, name=answer.get("name", "")))


# --- booths --------------------------------------------------------------------------------------


async def _booths_page(
    request: Request,
    who: Who,
    session: Staff,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    services = backends(request)
    booths = await services.get_json("expo", "/booths", token=session.token)
    approved = await services.get_json(
        "expo", "/exhibitors", token=session.token, params={"status": "approved"}
    )
    pack = pack_of(request)
    return render(
        request,
        "console/booths.html",
        {
            "booths": sorted(booths, key=lambda b: b["code"]),
            "approved": sorted(approved, key=lambda e: e.get("name", "").lower()),
            "without_booth": sum(1 for e in approved if not e.get("booth")),
            "zones": {z.code: z.name for z in pack.zones},
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("/booths", response_class=HTMLResponse)
async def booths(
    request: Request,
    who: Who,
    session: Staff,
    notice: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    return await _booths_page(request, who, session, {"notice": notice or None})


@router.get("/floor-plan.svg")
async def floor_plan(request: Request, who: Who, session: Staff) -> Response:
    """Expo's floor plan from this origin (the page's CSP allows images from here only)."""
    svg = await backends(request).get_raw(
        "expo", "/floor-plan.svg", token=session.token, params={"lang": who.lang}
    )
    return Response(
        svg.content,
        media_type="image/svg+xml",
        headers={
            # The plan's own policy: its inline styles, nothing else (no script, no fetch).
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "no-store",
        },
    )


async def _booth_action(
    request: Request,
    who: Who,
    session: Staff,
    method: str,
    path: str,
    notice: str,
    **options: Any,
) -> Response:
    try:
        answer = await backends(request).request(
            "expo", method, path, token=session.token, **options
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return await _booths_page(
            request, who, session, {"error": refusal_text(request, refused)}, 409
        )
    body = answer.json()
    count = len(body) if isinstance(body, list) else body.get("released", 0)
    explanation = (body.get("explanation") or {}) if isinstance(body, dict) else {}
    booth = body.get("booth", "") if isinstance(body, dict) else ""
    text = tr(request, notice, count=count, booth=booth or "")
    if explanation.get(who.lang):
        text = f"{text} {explanation[who.lang]}"
    return _redirect("/console/expo/booths", notice=text)


def _reason_missing(request: Request, reason: str) -> str | None:
    if len(reason.strip()) >= 3:
        return None
    return tr(request, REASON_NEEDED, field=tr(request, N_("Reason")))


@router.post("/allocation/run")
async def run_allocation(
    request: Request, who: Who, session: Staff, csrf_token: CSRF = ""
) -> Response:
    if expired := form_expired(request, who, csrf_token, "/console/expo/booths"):
        return expired
    return await _booth_action(request, who, session, "POST", "/allocation/run", ALLOCATED)


@router.post("/allocation/reset")
async def reset_allocation(
    request: Request,
    who: Who,
    session: Staff,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CSRF = "",
) -> Response:
    if expired := form_expired(request, who, csrf_token, "/console/expo/booths"):
        return expired
    if missing := _reason_missing(request, reason):
        return await _booths_page(request, who, session, {"error": missing}, 422)
    return await _booth_action(
        request,
        who,
        session,
        "POST",
        "/allocation/reset",
        RESET,
        json={"reason": reason.strip()},
    )


@router.post("/booths/assign")
async def assign(
    request: Request,
    who: Who,
    session: Staff,
    booth: Annotated[str, Form(max_length=20)] = "",
    exhibitor_id: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    displace: Annotated[bool, Form()] = False,
    csrf_token: CSRF = "",
) -> Response:
    if expired := form_expired(request, who, csrf_token, "/console/expo/booths"):
        return expired
    if missing := _reason_missing(request, reason):
        return await _booths_page(request, who, session, {"error": missing}, 422)
    return await _booth_action(
        request,
        who,
        session,
        "PUT",
        f"/booths/{_booth(booth)}/assignment",
        ASSIGNED,
        json={"exhibitor_id": exhibitor_id, "reason": reason.strip(), "displace": displace},
    )


@router.post("/booths/{code}/free")
async def free(
    request: Request,
    who: Who,
    session: Staff,
    code: BoothCode,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CSRF = "",
) -> Response:
    if expired := form_expired(request, who, csrf_token, "/console/expo/booths"):
        return expired
    if missing := _reason_missing(request, reason):
        return await _booths_page(request, who, session, {"error": missing}, 422)
    return await _booth_action(
        request,
        who,
        session,
        "DELETE",
        f"/booths/{code}/assignment",
        FREED,
        params={"reason": reason.strip()},
    )


def _booth(code: str) -> str:
    """A booth code safe in a path (expo answers 404 for one it does not know)."""
    return "".join(ch for ch in code if ch.isalnum() or ch in "-_") or "-"


# --- B2B meetings and the job fair ---------------------------------------------------------------


@router.get("/b2b", response_class=HTMLResponse)
async def b2b(request: Request, who: Who, session: Staff) -> HTMLResponse:
    services = backends(request)
    statistics: dict[str, Any] | None = None
    missing: str | None = None
    try:
        statistics = await services.get_json("reporting", "/statistics", token=session.token)
    except Forbidden as refused:
        missing = tr(request, ROLE_LACKS, permission=refused.permission or "statistics:read")
    except Unavailable as down:
        missing = tr(request, NOT_ANSWERING, service=down.service)
    jobs = await services.get_json("expo", "/jobs", token=session.token)
    return render(
        request,
        "console/b2b.html",
        {
            "expo": (statistics or {}).get("expo", {}),
            "job_fair": (statistics or {}).get("job_fair", {}),
            "missing": missing,
            "jobs": jobs,
        },
    )

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

from services.web.i18n import N_, Nn_, Np_
from services.web.pages import NavItem
from services.web.pages.auth import Who
from services.web.pages.console import Staff, names
from services.web.pages.console_shared import (
    part_of_page,
    send_form,
    shown_time,
)
from services.web.rendering import backends_of, pack_of, render, translate, translate_plural
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
    "applied": Np_("exhibitor", "Applied"),
    "approved": Np_("exhibitor", "Approved"),
    "rejected": Np_("exhibitor", "Rejected"),
}
REASON_NEEDED = N_("{field}: give the reason (at least 3 characters).")
REJECTED = N_("{name} rejected.")
# A B2B meeting's state, as expo records it (reporting counts them by it).
MEETING_NAMES = {
    "requested": Np_("meeting", "Requested"),
    "accepted": Np_("meeting", "Accepted"),
    "confirmed": Np_("meeting", "Confirmed"),
    "held": Np_("meeting", "Held"),
    "declined": Np_("meeting", "Declined"),
}
ALLOCATED = Nn_("The rules ran: {count} answer.", "The rules ran: {count} answers.")
RESET = Nn_("{count} booth freed.", "{count} booths freed.")
ASSIGNED = N_("Booth {booth} assigned.")
FREED = N_("Booth {booth} freed.")


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
    found = await backends_of(request).get_json(
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


async def _exhibitor_decision(
    request: Request,
    who: Who,
    session: Staff,
    csrf_token: str,
    path: str,
    problem: str | None = None,
    **options: Any,
) -> tuple[Any, HTMLResponse | None]:
    async def redraw(error: str, status_code: int) -> HTMLResponse:
        return await _exhibitors_page(request, who, session, "", {"error": error}, status_code)

    return await send_form(
        request,
        who,
        session.token,
        csrf_token,
        redraw,
        "expo",
        "POST",
        path,
        back="/console/expo",
        problem=problem,
        **options,
    )


@router.post("/exhibitors/{exhibitor_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, who: Who, session: Staff, exhibitor_id: uuid.UUID, csrf_token: CSRF = ""
) -> HTMLResponse:
    answer, instead = await _exhibitor_decision(
        request, who, session, csrf_token, f"/exhibitors/{exhibitor_id}/approve"
    )
    if instead is not None:
        return instead
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
    answer, instead = await _exhibitor_decision(
        request,
        who,
        session,
        csrf_token,
        f"/exhibitors/{exhibitor_id}/reject",
        problem=_reason_missing(request, reason),
        json={"reason": reason.strip()},
    )
    if instead is not None:
        return instead
    return _redirect(
        "/console/expo", notice=translate(request, REJECTED, name=answer.get("name", ""))
    )


# --- booths --------------------------------------------------------------------------------------


async def _booths_page(
    request: Request,
    who: Who,
    session: Staff,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    services = backends_of(request)
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
    svg = await backends_of(request).get_raw(
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
    csrf_token: str,
    method: str,
    path: str,
    notice: str | tuple[str, str],
    *,
    reason: str | None = None,
    **options: Any,
) -> Response:
    """A change to the booths (its form's CSRF token checked, and its `reason` when it needs
    one), then the booths page with `notice` — or with expo's refusal."""

    async def redraw(error: str, status_code: int) -> HTMLResponse:
        return await _booths_page(request, who, session, {"error": error}, status_code)

    body, instead = await send_form(
        request,
        who,
        session.token,
        csrf_token,
        redraw,
        "expo",
        method,
        path,
        back="/console/expo/booths",
        problem=None if reason is None else _reason_missing(request, reason),
        **options,
    )
    if instead is not None:
        return instead
    count = len(body) if isinstance(body, list) else body.get("released", 0)
    explanation = (body.get("explanation") or {}) if isinstance(body, dict) else {}
    booth = body.get("booth", "") if isinstance(body, dict) else ""
    text = (
        translate(request, notice, count=count, booth=booth or "")
        if isinstance(notice, str)
        else translate_plural(request, *notice, count, booth=booth or "")
    )
    if explanation.get(who.lang):
        text = f"{text} {explanation[who.lang]}"
    return _redirect("/console/expo/booths", notice=text)


def _reason_missing(request: Request, reason: str) -> str | None:
    if len(reason.strip()) >= 3:
        return None
    return translate(request, REASON_NEEDED, field=translate(request, N_("Reason")))


@router.post("/allocation/run")
async def run_allocation(
    request: Request, who: Who, session: Staff, csrf_token: CSRF = ""
) -> Response:
    return await _booth_action(
        request, who, session, csrf_token, "POST", "/allocation/run", ALLOCATED
    )


@router.post("/allocation/reset")
async def reset_allocation(
    request: Request,
    who: Who,
    session: Staff,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CSRF = "",
) -> Response:
    return await _booth_action(
        request,
        who,
        session,
        csrf_token,
        "POST",
        "/allocation/reset",
        RESET,
        reason=reason,
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
    return await _booth_action(
        request,
        who,
        session,
        csrf_token,
        "PUT",
        f"/booths/{_booth(booth)}/assignment",
        ASSIGNED,
        reason=reason,
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
    return await _booth_action(
        request,
        who,
        session,
        csrf_token,
        "DELETE",
        f"/booths/{code}/assignment",
        FREED,
        reason=reason,
        params={"reason": reason.strip()},
    )


def _booth(code: str) -> str:
    """A booth code safe in a path (expo answers 404 for one it does not know)."""
    return "".join(ch for ch in code if ch.isalnum() or ch in "-_") or "-"


# --- B2B meetings and the job fair ---------------------------------------------------------------


@router.get("/b2b", response_class=HTMLResponse)
async def b2b(request: Request, who: Who, session: Staff) -> HTMLResponse:
    services = backends_of(request)
    statistics, missing = await part_of_page(
        request,
        services.get_json("reporting", "/statistics", token=session.token),
        needed="statistics:read",
    )
    jobs = await services.get_json("expo", "/jobs", token=session.token)
    return render(
        request,
        "console/b2b.html",
        {
            "expo": (statistics or {}).get("expo", {}),
            "job_fair": (statistics or {}).get("job_fair", {}),
            "missing": missing,
            "jobs": jobs,
            "meeting_names": MEETING_NAMES,
        },
    )

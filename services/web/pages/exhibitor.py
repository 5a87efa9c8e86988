"""An exhibitor, with the access expo gave it: its stand, badge scans (leads) with the attendee's
consent as expo reports it, the leads' CSV, B2B meetings, job-fair posts and their applications
(expo's `/me` routes and `/meetings`; expo limits the token to this exhibitor)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, passes_on
from services.web.i18n import N_, Np_
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf
from services.web.pages.party import field_errors, party_of, send_party_form
from services.web.rendering import backends_of, render, translate
from services.web.session import CSRF_FIELD, PartySession

router = APIRouter(prefix="/exhibitor")

DONE = {
    "accepted": N_("Meeting accepted."),
    "declined": N_("Meeting declined."),
    "job_posted": N_("Job posted: it is open for applications."),
    "interview": N_("Interview scheduled."),
}
MEETING_STATUS = {
    "requested": Np_("meeting", "Requested"),
    "confirmed": Np_("meeting", "Confirmed"),
    "declined": Np_("meeting", "Declined"),
}
PARTY_KIND = {"participant": N_("Participant"), "exhibitor": N_("Exhibitor")}
JOB_FIELDS = ("title", "description", "location")
CONSENT = {
    # What a scan's answer says about the attendee's consent to share their contact details.
    "yes": N_("The attendee consented to share their contact details with exhibitors."),
    "no": N_("The attendee did not consent to share their contact details: nothing is kept."),
}

Exhibitor = Annotated[PartySession, party_of("exhibitor")]


async def _me(request: Request, party: PartySession) -> dict[str, Any]:
    found: dict[str, Any] = await backends_of(request).get_json("expo", "/me", token=party.token)
    return found


async def _page(
    request: Request,
    party: PartySession,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    backends = backends_of(request)
    me = await _me(request, party)
    meetings = await backends.get_json("expo", "/meetings", token=party.token)
    # Expo lists open jobs publicly with the employer's name; an exhibitor's own are those.
    jobs = [
        j for j in await backends.get_json("expo", "/jobs") if j.get("employer_name") == me["name"]
    ]
    return render(
        request,
        "party/exhibitor.html",
        {
            "me": me,
            "meetings": meetings,
            "jobs": jobs,
            "meeting_status": MEETING_STATUS,
            "party_kind": PARTY_KIND,
            "job_form": {},
            "job_errors": {},
            "job_error": None,
            "scan": None,
            **context,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def exhibitor_page(
    request: Request,
    who: Who,
    party: Exhibitor,
    done: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    notice = translate(request, DONE[done]) if done in DONE else None
    return await _page(request, party, notice=notice)


@router.post("/scans", response_class=HTMLResponse)
async def scan(
    request: Request,
    who: Who,
    party: Exhibitor,
    code: Annotated[str, Form(max_length=500)] = "",
    note: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> HTMLResponse:
    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        return await _page(
            request, party, scan_error=translate(request, FORM_EXPIRED), status_code=400
        )
    body = {"code": code.strip(), "note": note.strip() or None}
    try:
        answer = await backends_of(request).post_json(
            "expo", "/me/leads/scans", token=party.token, json=body
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        errors, general = field_errors(request, refused, ("code", "note"))
        return await _page(
            request,
            party,
            scan_error=errors.get("code") or errors.get("note") or general,
            scan_code=code,
            status_code=422 if refused.status == 422 else 409,
        )
    explanation = answer.get("explanation") or {}
    if answer.get("stored"):
        consent = "yes"  # expo keeps a lead only with the attendee's consent
    elif explanation.get("code") == "no_consent":
        consent = "no"
    else:
        consent = None
    result = {
        "stored": bool(answer.get("stored")),
        "merged": bool(answer.get("merged")),
        "scans": answer.get("scans"),
        "explanation": explanation.get(who.lang) or explanation.get("en") or "",
        "consent": translate(request, CONSENT[consent]) if consent else None,
    }
    return await _page(request, party, scan=result)


@router.get("/leads.csv")
async def leads_csv(request: Request, party: Exhibitor) -> Response:
    leads = await backends_of(request).get_raw("expo", "/me/leads.csv", token=party.token)
    return Response(
        leads.content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="leads.csv"',
            "Cache-Control": "no-store",
        },
    )


async def _meeting(
    request: Request,
    who: Who,
    party: PartySession,
    meeting_id: uuid.UUID,
    decision: str,
    csrf_token: str,
) -> Response:
    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        return await _page(request, party, meeting_error=error, status_code=status_code)

    _, instead = await send_party_form(
        request,
        who,
        party,
        csrf_token,
        redraw,
        "expo",
        "POST",
        f"/meetings/{meeting_id}/{decision}",
    )
    if instead is not None:
        return instead
    done = "accepted" if decision == "accept" else "declined"
    return RedirectResponse(f"/exhibitor?done={done}#meetings", status_code=303)


@router.post("/meetings/{meeting_id}/accept", response_class=HTMLResponse)
async def accept_meeting(
    request: Request,
    who: Who,
    party: Exhibitor,
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    return await _meeting(request, who, party, meeting_id, "accept", csrf_token)


@router.post("/meetings/{meeting_id}/decline", response_class=HTMLResponse)
async def decline_meeting(
    request: Request,
    who: Who,
    party: Exhibitor,
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    return await _meeting(request, who, party, meeting_id, "decline", csrf_token)


@router.post("/jobs", response_class=HTMLResponse)
async def post_job(
    request: Request,
    who: Who,
    party: Exhibitor,
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    form = {"title": title, "description": description, "location": location}
    if not check_csrf(request, who, csrf_token):
        who.rotate_csrf = True
        return await _page(
            request,
            party,
            job_form=form,
            job_error=translate(request, FORM_EXPIRED),
            status_code=400,
        )
    body = {
        "title": title.strip(),
        "description": description.strip(),
        "location": location.strip() or None,
    }
    try:
        await backends_of(request).post_json("expo", "/me/jobs", token=party.token, json=body)
    except BackendError as refused:
        if passes_on(refused):
            raise
        errors, general = field_errors(request, refused, JOB_FIELDS)
        return await _page(
            request,
            party,
            job_form=form,
            job_errors=errors,
            job_error=general,
            status_code=422 if refused.status == 422 else 409,
        )
    return RedirectResponse("/exhibitor?done=job_posted#jobs", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def applications(
    request: Request,
    who: Who,
    party: Exhibitor,
    job_id: uuid.UUID,
    done: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    return await _applications(request, party, job_id, done=done)


async def _applications(
    request: Request,
    party: PartySession,
    job_id: uuid.UUID,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    backends = backends_of(request)
    found = await backends.get_json("expo", f"/me/jobs/{job_id}/applications", token=party.token)
    jobs = await backends.get_json("expo", "/jobs")
    job = next((j for j in jobs if j.get("job_id") == str(job_id)), {"job_id": str(job_id)})
    return render(
        request,
        "party/applications.html",
        {
            "job": job,
            "applications": found,
            "notice": translate(request, DONE[done]) if done in DONE else None,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/applications/{application_id}/cv")
async def cv(request: Request, party: Exhibitor, application_id: uuid.UUID) -> Response:
    found = await backends_of(request).get_raw(
        "expo", f"/me/applications/{application_id}/cv", token=party.token
    )
    disposition = found.headers.get("content-disposition") or 'attachment; filename="cv"'
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": disposition,  # always a download, never shown here
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.post("/applications/{application_id}/interview", response_class=HTMLResponse)
async def interview(
    request: Request,
    who: Who,
    party: Exhibitor,
    application_id: uuid.UUID,
    job_id: Annotated[uuid.UUID, Form()],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        return await _applications(request, party, job_id, error=error, status_code=status_code)

    path = f"/me/applications/{application_id}/interview"
    _, instead = await send_party_form(
        request, who, party, csrf_token, redraw, "expo", "POST", path
    )
    if instead is not None:
        return instead
    return RedirectResponse(f"/exhibitor/jobs/{job_id}?done=interview", status_code=303)

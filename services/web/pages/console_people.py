"""The console's people: participant search and a participant's whole story (status, the audit
trail in order, the messages sent, the badge); delegations and their members (the focal point's
access, accrediting a delegation); badges printed in bulk (select → one PDF).

Every call carries the signed-in person's token; the services decide what their roles allow. A
part of a page another role owns (the audit trail needs `audit:read`, the messages
`messages:read`) says so in its place instead of refusing the whole page.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.web.backends import BackendError, passes_on
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import Who
from services.web.pages.console import ACCREDITATION_NAMES, STATUS_NAMES, Staff, names
from services.web.pages.console_shared import (
    DELIVERY_STATUSES,
    part_of_page,
    send_form,
    shown_time,
)
from services.web.rendering import backends_of, pack_of, render, translate
from services.web.session import CSRF_FIELD
from shared.auth.permissions import Permission

NAV = (
    NavItem(
        N_("Participants"),
        "/console/people",
        "staff",
        order=25,
        permissions=(Permission.PARTICIPANTS_READ,),
    ),
    NavItem(
        N_("Delegations"),
        "/console/delegations",
        "staff",
        order=35,
        permissions=(Permission.DELEGATIONS_READ,),
    ),
    NavItem(
        N_("Badges"), "/console/badges", "staff", order=36, permissions=(Permission.BADGES_PRINT,)
    ),
)
router = APIRouter(prefix="/console")

PAGE_SIZE = 25
SHEET_MOST = 200  # registration's default limit of a badge sheet
MEMBERS_SHOWN = 200
TRAIL_SHOWN = 100
MESSAGES_SHOWN = 50

NOTHING_CHOSEN = N_("Choose at least one participant, or a category.")


Status = Literal["pending_approval", "confirmed", "waitlisted", "rejected", "cancelled"]
CSRF = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]
DelegationCode = Annotated[str, Path(pattern=r"^(?:[A-Z]{2}|[a-z][a-z0-9-]{1,39})$")]


def _filters(request: Request) -> dict[str, Any]:
    pack = pack_of(request)
    return {
        "all_categories": pack.categories,
        "all_countries": pack.countries,
        "status_names": STATUS_NAMES,
    }


def _pages(offset: int, total: int) -> dict[str, int | None]:
    return {
        "previous_offset": max(offset - PAGE_SIZE, 0) if offset else None,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
    }


# --- participant search and detail ---------------------------------------------------------------


@router.get("/people", response_class=HTMLResponse)
async def search(
    request: Request,
    who: Who,
    session: Staff,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[Status | Literal[""], Query()] = "",
    category: Annotated[str, Query(max_length=50)] = "",
    country: Annotated[str, Query(max_length=2)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    query = q.strip()
    too_short = len(query) == 1  # registration looks for two characters or more
    page = await backends_of(request).get_json(
        "registration",
        "/participants",
        token=session.token,
        params={
            "q": None if too_short else query,
            "status": status,
            "category": category,
            "country": country.upper(),
            "offset": offset,
            "limit": PAGE_SIZE,
        },
    )
    chosen = {"q": query, "status": status, "category": category, "country": country.upper()}
    return render(
        request,
        "console/people.html",
        {
            "page": page,
            "chosen": chosen,
            "too_short": too_short,
            "query_string": urlencode({k: v for k, v in chosen.items() if v}),
            **_pages(offset, page["total"]),
            **_filters(request),
            **names(pack_of(request), who.lang),
        },
    )


@router.get("/people/{participant_id}", response_class=HTMLResponse)
async def person(
    request: Request, who: Who, session: Staff, participant_id: uuid.UUID
) -> HTMLResponse:
    pid = str(participant_id)
    services = backends_of(request)
    found = await services.get_json("registration", f"/participants/{pid}", token=session.token)
    (trail, trail_missing), (messages, messages_missing) = await asyncio.gather(
        part_of_page(
            request,
            services.get_json(
                "reporting",
                "/audit",
                token=session.token,
                params={"participant": pid, "limit": TRAIL_SHOWN},
            ),
        ),
        part_of_page(
            request,
            services.get_json(
                "notification",
                "/messages",
                token=session.token,
                params={"person_id": pid, "limit": MESSAGES_SHOWN},
            ),
        ),
    )
    entries = [
        {**entry, "when": shown_time(request, entry.get("occurred_at"))}
        for entry in (trail or {}).get("entries", [])
    ]
    sent = [
        {**m, "when": shown_time(request, m.get("sent_at") or m.get("created_at"))}
        for m in (messages or {}).get("items", [])
    ]
    return render(
        request,
        "console/person.html",
        {
            "p": found,
            "badge_issued": shown_time(request, (found.get("badge") or {}).get("issued_at")),
            "entries": entries,
            "more_entries": bool((trail or {}).get("next")),
            "trail_missing": trail_missing,
            "messages": sent,
            "messages_total": (messages or {}).get("total", 0),
            "messages_missing": messages_missing,
            "message_status_names": DELIVERY_STATUSES,
            "status_names": STATUS_NAMES,
            "accreditation_names": ACCREDITATION_NAMES,
            **names(pack_of(request), who.lang),
        },
    )


# --- delegations ------------------------------------------------------------------------------------


@router.get("/delegations", response_class=HTMLResponse)
async def delegations(request: Request, who: Who, session: Staff) -> HTMLResponse:
    found = await backends_of(request).get_json("registration", "/delegations", token=session.token)
    return render(
        request,
        "console/delegations.html",
        {
            "delegations": sorted(found, key=lambda d: d.get("name") or d["code"]),
            **names(pack_of(request), who.lang),
        },
    )


async def _delegation_page(
    request: Request,
    who: Who,
    session: Staff,
    code: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    services = backends_of(request)
    found = await services.get_json("registration", f"/delegations/{code}", token=session.token)

    async def member(pid: str) -> dict[str, Any]:
        try:
            person: dict[str, Any] = await services.get_json(
                "registration", f"/participants/{pid}", token=session.token
            )
            return person
        except BackendError as refused:
            if passes_on(refused):
                raise
            return {"participant_id": pid, "missing": True}

    ids = found.get("members", [])[:MEMBERS_SHOWN]
    members = await asyncio.gather(*(member(pid) for pid in ids))
    return render(
        request,
        "console/delegation.html",
        {
            "d": found,
            "members": sorted(members, key=lambda m: (m.get("family_name") or "").lower()),
            "pending": sum(1 for m in members if m.get("status") == "pending_approval"),
            "status_names": STATUS_NAMES,
            "access_issued": shown_time(request, found.get("focal_point_access_issued_at")),
            "access_expires": shown_time(request, found.get("focal_point_access_expires_at")),
            **names(pack_of(request), who.lang),
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("/delegations/{code}", response_class=HTMLResponse)
async def delegation(
    request: Request, who: Who, session: Staff, code: DelegationCode
) -> HTMLResponse:
    return await _delegation_page(request, who, session, code)


async def _delegation_action(
    request: Request, who: Who, session: Staff, code: str, csrf_token: str, action: str
) -> tuple[Any, HTMLResponse | None]:
    """POST `/delegations/{code}/{action}` to registration from the delegation's page."""

    async def redraw(error: str, status_code: int) -> HTMLResponse:
        return await _delegation_page(request, who, session, code, {"error": error}, status_code)

    return await send_form(
        request,
        who,
        session.token,
        csrf_token,
        redraw,
        "registration",
        "POST",
        f"/delegations/{code}/{action}",
        back=f"/console/delegations/{code}",
    )


@router.post("/delegations/{code}/focal-point-key", response_class=HTMLResponse)
async def focal_point_key(
    request: Request, who: Who, session: Staff, code: DelegationCode, csrf_token: CSRF = ""
) -> HTMLResponse:
    issued, instead = await _delegation_action(
        request, who, session, code, csrf_token, "focal-point-key"
    )
    if instead is not None:
        return instead
    response = await _delegation_page(
        request,
        who,
        session,
        code,
        {"issued": issued, "issued_expires": shown_time(request, issued.get("expires_at"))},
    )
    response.headers["Cache-Control"] = "no-store"  # the token is shown once
    return response


@router.post("/delegations/{code}/accreditation", response_class=HTMLResponse)
async def accredit_delegation(
    request: Request, who: Who, session: Staff, code: DelegationCode, csrf_token: CSRF = ""
) -> HTMLResponse:
    outcome, instead = await _delegation_action(
        request, who, session, code, csrf_token, "accreditation"
    )
    if instead is not None:
        return instead
    return await _delegation_page(request, who, session, code, {"accredited": outcome})


@router.get("/delegations/{code}/badges.pdf")
async def delegation_badges(request: Request, session: Staff, code: DelegationCode) -> Response:
    sheet = await backends_of(request).get_raw(
        "registration", f"/delegations/{code}/badges.pdf", token=session.token
    )
    return _pdf(sheet.content, f"badges-{code}.pdf")


# --- badges in bulk ------------------------------------------------------------------------------


@router.get("/badges", response_class=HTMLResponse)
async def badges(
    request: Request,
    who: Who,
    session: Staff,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=50)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    error: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    query = q.strip()
    page = await backends_of(request).get_json(
        "registration",
        "/participants",
        token=session.token,
        params={
            "q": query if len(query) >= 2 else None,
            "status": "confirmed",
            "category": category,
            "offset": offset,
            "limit": PAGE_SIZE,
        },
    )
    chosen = {"q": query, "category": category}
    return render(
        request,
        "console/badges.html",
        {
            "page": page,
            "chosen": chosen,
            "query_string": urlencode({k: v for k, v in chosen.items() if v}),
            "error": translate(request, NOTHING_CHOSEN) if error else None,
            **_pages(offset, page["total"]),
            **_filters(request),
            **names(pack_of(request), who.lang),
        },
        status_code=422 if error else 200,
    )


@router.get("/badges/sheet.pdf")
async def badge_sheet(
    request: Request,
    session: Staff,
    participant_id: Annotated[list[uuid.UUID] | None, Query(max_length=SHEET_MOST)] = None,
    category: Annotated[str, Query(max_length=50)] = "",
    layout: Literal["a4", "a6"] = "a4",
) -> Response:
    """The chosen participants' badges (or a whole category's) as one PDF to print."""
    if not participant_id and not category:
        return await badges(request, request.state.visitor, session, error=True)
    sheet = await backends_of(request).get_raw(
        "registration",
        "/badges/sheet.pdf",
        token=session.token,
        params={
            "participant_id": [str(p) for p in participant_id or []] or None,
            "category": None if participant_id else category,
            "layout": layout,
        },
    )
    return _pdf(sheet.content, "badges.pdf")


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )

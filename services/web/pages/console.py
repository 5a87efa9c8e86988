"""The secretariat console: the dashboard, the accreditation queue, a participant, a badge.

Every call carries the signed-in person's token; the services decide what their roles allow.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from prometheus_client.parser import text_string_to_metric_families

from services.web.backends import (
    BackendError,
    Backends,
    Forbidden,
    SignInRequired,
    Unavailable,
    passes_on,
)
from services.web.i18n import N_, Np_
from services.web.pages import NavItem
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf
from services.web.rendering import Visitor, backends_of, is_htmx, render, translate
from services.web.session import CSRF_FIELD, StaffSession
from shared.auth.permissions import Permission
from shared.pack import EventPack

log = structlog.get_logger("foro.web.console")

NAV = (
    NavItem(N_("Dashboard"), "/console", "staff", order=20),
    NavItem(
        N_("Accreditation"),
        "/console/accreditation",
        "staff",
        order=30,
        permissions=(Permission.ACCREDITATION_DECIDE,),
    ),
)
router = APIRouter(prefix="/console")

PAGE_SIZE = 25
REASON_NEEDED = N_("Give the reason, in Spanish or English (at least 3 characters).")

# Participant statuses as the secretariat reads them.
STATUS_NAMES = {
    "pending_approval": N_("Pending approval"),
    "allocating": N_("Allocating a seat"),
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("Waitlisted"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}

# An accreditation's state, as registration records it.
ACCREDITATION_NAMES = {
    "pending": Np_("accreditation", "Pending approval"),
    "approved": Np_("accreditation", "Approved"),
    "rejected": Np_("accreditation", "Rejected"),
}


def staff(who: Who) -> StaffSession:
    """The signed-in person; a page of the console without one sends to the sign-in page."""
    if who.session is None:
        raise SignInRequired("web", 401)
    return who.session


Staff = Annotated[StaffSession, Depends(staff)]


def names(pack: EventPack, lang: str) -> dict[str, dict[str, str]]:
    """Category and country names from the pack, for the tables."""
    return {
        "categories": {c.code: c.name.get(lang) for c in pack.categories},
        "countries": {c.code: c.name.get(lang) for c in pack.countries},
    }


# --- the dashboard's alerts ------------------------------------------------------------------

SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
DEAD_LETTERS = "foro_dead_letter_messages"
ALERT_SECONDS = 3.0  # an alert that takes longer is left out: the dashboard must not wait on it


@dataclass(frozen=True)
class Alert:
    """Something on the dashboard that needs the secretariat: `kind` is dead_letters, budget,
    failed or unread (a source that could not be read: the page says so rather than "all is
    well")."""

    kind: str
    count: int = 0
    service: str = ""
    queue: str = ""
    line: str = ""
    percent: float = 0.0


def dead_letters_in(metrics: str) -> dict[str, int]:
    """Dead-lettered messages by consumer queue, from a service's Prometheus text (`/metrics`)."""
    found: dict[str, int] = {}
    for family in text_string_to_metric_families(metrics):
        if family.name != DEAD_LETTERS:
            continue
        for sample in family.samples:
            queue = sample.labels.get("queue", "")
            if sample.value > 0 and queue:
                found[queue] = int(sample.value)
    return found


async def _bounded(call: Any) -> Any:
    return await asyncio.wait_for(call, ALERT_SECONDS)


async def dead_letter_alerts(backends: Backends) -> list[Alert]:
    """Every service's dead-letter queues that hold messages, from its public `/metrics` (the
    gauges it refreshes from the broker; no JSON of them exists)."""

    async def one(service: str) -> list[Alert]:
        try:
            metrics = await _bounded(backends.get_raw(service, "/metrics"))
            found = dead_letters_in(metrics.content.decode("utf-8", "replace"))
        except (BackendError, TimeoutError, ValueError) as error:
            log.info("dead letters not read", service=service, error=type(error).__name__)
            return [Alert("unread", service=service)]
        return [
            Alert("dead_letters", count=n, service=service, queue=queue)
            for queue, n in sorted(found.items())
        ]

    results = await asyncio.gather(*(one(service) for service in SERVICES))
    return [alert for alerts in results for alert in alerts]


async def budget_alerts(backends: Backends, token: str, pack: EventPack, lang: str) -> list[Alert]:
    """Budget lines at or over plan (a role without `budget:read` sees none)."""
    try:
        budget = await _bounded(backends.get_json("reporting", "/budget", token=token))
    except Unavailable:
        return [Alert("unread", service="reporting")]
    except (BackendError, TimeoutError):
        return []
    names_ = {line.code: line.name.get(lang) for line in pack.budget.lines}
    return [
        Alert("budget", line=names_.get(line["line"], line["line"]), percent=line["percent"])
        for line in budget.get("lines", [])
        if line.get("percent", 0) >= 100
    ]


async def failed_message_alerts(backends: Backends, token: str) -> list[Alert]:
    """Messages that failed for good (a role without `messages:read` sees none)."""
    try:
        summary = await _bounded(
            backends.get_json("notification", "/messages/summary", token=token)
        )
    except Unavailable:
        return [Alert("unread", service="notification")]
    except (BackendError, TimeoutError):
        return []
    failed = int(summary.get("failed", 0))
    return [Alert("failed", count=failed)] if failed else []


async def alerts(request: Request, session: StaffSession, lang: str) -> list[Alert]:
    backends = backends_of(request)
    found = await asyncio.gather(
        dead_letter_alerts(backends),
        budget_alerts(backends, session.token, request.app.state.pack, lang),
        failed_message_alerts(backends, session.token),
    )
    everything = [alert for group in found for alert in group]
    unread = sorted({a.service for a in everything if a.kind == "unread"})
    return [a for a in everything if a.kind != "unread"] + [
        Alert("unread", service=s) for s in unread
    ]


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, who: Who, session: Staff) -> HTMLResponse:
    backends = backends_of(request)
    try:
        statistics = await backends.get_json("reporting", "/statistics", token=session.token)
    except Forbidden:
        # The landing page after sign-in: a role without statistics (a registrar, the door
        # staff) gets the way to its own pages instead of a refusal.
        return render(request, "dashboard.html", {"statistics": None, "alerts": []})
    participants = statistics.get("participants", {})
    check_in = participants.get("check_in", {})
    today = datetime.now(request.app.state.pack.forum.tz).date().isoformat()
    return render(
        request,
        "dashboard.html",
        {
            "alerts": await alerts(request, session, who.lang),
            "statistics": statistics,
            "participants": participants,
            "checked_in_today": check_in.get("by_day", {}).get(today, {}).get("checked_in", 0),
            "status_labels": {
                code: translate(request, label) for code, label in STATUS_NAMES.items()
            },
            **names(request.app.state.pack, who.lang),
        },
    )


@router.get("/accreditation", response_class=HTMLResponse)
async def accreditation_queue(
    request: Request,
    who: Who,
    session: Staff,
    category: Annotated[str | None, Query(max_length=50)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    page = await backends_of(request).get_json(
        "registration",
        "/participants",
        token=session.token,
        params={
            "status": "pending_approval",
            "category": category,
            "offset": offset,
            "limit": PAGE_SIZE,
        },
    )
    pack: EventPack = request.app.state.pack
    return render(
        request,
        "accreditation.html",
        {
            "page": page,
            "category": category or "",
            "approval_categories": [c for c in pack.categories if c.requires_approval],
            "previous_offset": max(offset - PAGE_SIZE, 0) if offset else None,
            "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < page["total"] else None,
            "status_names": STATUS_NAMES,
            **names(pack, who.lang),
        },
    )


async def _decided(
    request: Request,
    who: Visitor,
    participant_id: uuid.UUID,
    outcome: dict[str, Any] | None,
    error: str | None = None,
) -> Response:
    """After approve or reject: the queue's row, redrawn (htmx), or the queue again."""
    if not is_htmx(request):
        return RedirectResponse("/console/accreditation", status_code=303)
    return render(
        request,
        "_decision.html",
        {
            "participant_id": str(participant_id),
            "outcome": outcome,
            "error": error,
            "status_names": STATUS_NAMES,
        },
        status_code=200,
    )


async def _decide(
    request: Request,
    who: Visitor,
    session: StaffSession,
    participant_id: uuid.UUID,
    csrf_token: str,
    decision: str,
    *,
    problem: str | None = None,
    **options: Any,
) -> Response:
    """An accreditation approved or rejected: the form's CSRF token checked, then its `problem`
    (a message), then registration's outcome — or why there is none."""
    if not check_csrf(request, who, csrf_token):
        return await _decided(request, who, participant_id, None, translate(request, FORM_EXPIRED))
    if problem:
        return await _decided(request, who, participant_id, None, translate(request, problem))
    try:
        outcome = await backends_of(request).post_json(
            "registration",
            f"/participants/{participant_id}/accreditation/{decision}",
            token=session.token,
            **options,
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return await _decided(request, who, participant_id, None, refused.message(who.lang))
    return await _decided(request, who, participant_id, outcome)


@router.post("/participants/{participant_id}/approve")
async def approve(
    request: Request,
    who: Who,
    session: Staff,
    participant_id: uuid.UUID,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    return await _decide(request, who, session, participant_id, csrf_token, "approve")


@router.post("/participants/{participant_id}/reject")
async def reject(
    request: Request,
    who: Who,
    session: Staff,
    participant_id: uuid.UUID,
    reason_es: Annotated[str, Form(max_length=1000)] = "",
    reason_en: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    reasons = {"reason_es": reason_es.strip() or None, "reason_en": reason_en.strip() or None}
    given = any(r and len(r) >= 3 for r in reasons.values())
    return await _decide(
        request,
        who,
        session,
        participant_id,
        csrf_token,
        "reject",
        problem=None if given else REASON_NEEDED,
        json=reasons,
    )


@router.get("/participants/{participant_id}", response_class=HTMLResponse)
async def participant(
    request: Request, who: Who, session: Staff, participant_id: uuid.UUID
) -> HTMLResponse:
    found = await backends_of(request).get_json(
        "registration", f"/participants/{participant_id}", token=session.token
    )
    return render(
        request,
        "participant.html",
        {
            "p": found,
            "status_names": STATUS_NAMES,
            "accreditation_names": ACCREDITATION_NAMES,
            **names(request.app.state.pack, who.lang),
        },
    )


@router.get("/participants/{participant_id}/badge.pdf")
async def badge_pdf(request: Request, session: Staff, participant_id: uuid.UUID) -> Response:
    badge = await backends_of(request).get_raw(
        "registration",
        f"/participants/{participant_id}/badge.pdf",
        token=session.token,
        params={"layout": "a6"},
    )
    return Response(
        badge.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="badge-{participant_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )

"""The console's reporting: conclusions and their review, the action plan, the budget against
plan, the Memoria (build, preview, publish), and the rapporteur's page (their sessions'
conclusions: draft, edit, submit). Everything is reporting's, called with the signed-in person's
token; reporting decides who may do what (a rapporteur's token names their sessions)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, passes_on
from services.web.i18n import N_, Np_
from services.web.pages import NavItem
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf
from services.web.pages.console import Staff
from services.web.rendering import backends_of, render, translate
from services.web.session import CSRF_FIELD
from shared import i18n
from shared.auth.permissions import Permission
from shared.pack import EventPack

NAV = (
    NavItem(
        N_("Reports"),
        "/console/reports",
        "staff",
        order=70,
        permissions=(
            Permission.REPORTS_READ,
            Permission.BUDGET_READ,
            Permission.CONCLUSIONS_REVIEW,
            Permission.ACTION_PLAN_WRITE,
        ),
    ),
    NavItem(
        N_("My conclusions"),
        "/console/rapporteur",
        "staff",
        order=75,
        permissions=(Permission.CONCLUSIONS_WRITE,),
    ),
)
router = APIRouter(prefix="/console")

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]
Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")
SESSION_CODE = r"^[A-Za-z0-9_.\-]{1,40}$"

CONCLUSION_STATUSES = {
    "draft": Np_("conclusion", "Draft"),
    "submitted": Np_("conclusion", "Submitted for review"),
    "approved": Np_("conclusion", "Approved"),
}
ACTION_STATUSES = {
    "planned": Np_("action", "Planned"),
    "in_progress": Np_("action", "In progress"),
    "done": Np_("action", "Done"),
    "cancelled": Np_("action", "Cancelled"),
}
OWNER_KINDS = {"country": N_("Country"), "organisation": N_("Organisation"), "sector": N_("Sector")}
ENTRY_KINDS = {"commitment": N_("Commitment"), "expense": N_("Expense")}
DONE = {
    "approved": N_("Approved: it will appear in the Memoria."),
    "returned": N_("Returned to its rapporteur as a draft."),
    "created": N_("Added to the action plan."),
    "updated": N_("Saved."),
    "recorded": N_("Recorded."),
    "built": N_("Built. Preview it below."),
    "published": N_("Published: the final version is public."),
    "saved": N_("Draft saved."),
    "submitted": N_("Submitted to the secretariat for review."),
}
HEADINGS = {
    "title": N_("Title"),
    "key_issues": N_("Key issues"),
    "discussion": N_("Discussion"),
    "way_forward": N_("Way forward"),
}
TITLE_NEEDED = N_("Write the title in at least one language (Spanish or English).")
SESSION_NEEDED = N_("Choose the session.")
AMOUNT_INVALID = N_("Amount: write a number with up to two decimals, such as 1250.50.")
OWNER_NEEDED = N_("Owner: give its code and its name.")
ACTION_TITLE_NEEDED = N_("Title: write it in at least one language.")
DEADLINE_NEEDED = N_("Deadline: choose a date.")

# A stored version's HTML shown from this site: its own styles only; nothing runs or is fetched.
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


def done_message(request: Request, done: str | None) -> str | None:
    return translate(request, DONE[done]) if done in DONE else None


def _draw(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    done: str | None,
    error: str | None,
    status_code: int,
) -> HTMLResponse:
    """A reports page with the notice of what was `done` and the `error`, if any."""
    page = {**context, "done": done_message(request, done), "error": error}
    return render(request, template, page, status_code=status_code)


def refusal(refused: BackendError, lang: str) -> str:
    """A service's 4xx explained on the page (401, 403 and 5xx go to their own pages)."""
    if passes_on(refused):
        raise refused
    return refused.message(lang) or str(refused)


async def _send(
    request: Request,
    who: Who,
    session: Staff,
    csrf_token: str,
    page: Callable[..., Awaitable[HTMLResponse]],
    method: str,
    path: str,
    *,
    refused_status: int,
    **options: Any,
) -> HTMLResponse | None:
    """A form sent on to reporting: None when it is done, else the `page` drawn again (given
    `error=` and `status_code=`): the form had expired (400), or reporting refused it
    (`refused_status`, with its reason)."""
    if not check_csrf(request, who, csrf_token):
        return await page(error=translate(request, FORM_EXPIRED), status_code=400)
    try:
        await backends_of(request).request(
            "reporting", method, path, token=session.token, **options
        )
    except BackendError as refused:
        return await page(error=refusal(refused, who.lang), status_code=refused_status)
    return None


# --- the reports' landing page ------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, session: Staff) -> HTMLResponse:
    return render(request, "console_reports/index.html")


# --- conclusions: the secretariat's review ------------------------------------------------------


async def _conclusions_page(
    request: Request,
    session: Staff,
    status: str | None,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await backends_of(request).get_json(
        "reporting", "/conclusions", token=session.token, params={"status": status}
    )
    return _draw(
        request,
        "console_reports/conclusions.html",
        {
            "conclusions": found,
            "status": status or "",
            "statuses": CONCLUSION_STATUSES,
            "headings": HEADINGS,
        },
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get("/reports/conclusions", response_class=HTMLResponse)
async def conclusions(
    request: Request,
    session: Staff,
    status: Literal["draft", "submitted", "approved"] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return await _conclusions_page(request, session, status, done=done)


@router.post("/reports/conclusions/{conclusion_id}/{action}", response_class=HTMLResponse)
async def review(
    request: Request,
    who: Who,
    session: Staff,
    conclusion_id: uuid.UUID,
    action: Literal["approve", "return"],
    csrf_token: Csrf = "",
) -> Response:
    page = partial(_conclusions_page, request, session, "submitted")
    path = f"/conclusions/{conclusion_id}/{action}"
    if instead := await _send(
        request, who, session, csrf_token, page, "POST", path, refused_status=409
    ):
        return instead
    done = "approved" if action == "approve" else "returned"
    return RedirectResponse(f"/console/reports/conclusions?status=submitted&done={done}", 303)


# --- the action plan ------------------------------------------------------------------------------


async def _action_plan_page(
    request: Request,
    session: Staff,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    items = await backends_of(request).get_json("reporting", "/action-items", token=session.token)
    return _draw(
        request,
        "console_reports/action_plan.html",
        {
            "items": items,
            "statuses": ACTION_STATUSES,
            "owner_kinds": OWNER_KINDS,
            "form": form or {},
        },
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get("/reports/action-plan", response_class=HTMLResponse)
async def action_plan(request: Request, session: Staff, done: str | None = None) -> HTMLResponse:
    return await _action_plan_page(request, session, done=done)


@router.post("/reports/action-plan", response_class=HTMLResponse)
async def add_action_item(
    request: Request,
    who: Who,
    session: Staff,
    title_es: Annotated[str, Form(max_length=500)] = "",
    title_en: Annotated[str, Form(max_length=500)] = "",
    owner_kind: Annotated[Literal["country", "organisation", "sector"], Form()] = "country",
    owner_code: Annotated[str, Form(max_length=80)] = "",
    owner_name: Annotated[str, Form(max_length=200)] = "",
    deadline: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Csrf = "",
) -> Response:
    form = {
        "title_es": title_es.strip(),
        "title_en": title_en.strip(),
        "owner_kind": owner_kind,
        "owner_code": owner_code.strip(),
        "owner_name": owner_name.strip(),
        "deadline": deadline.strip(),
    }
    problem = None
    if not check_csrf(request, who, csrf_token):
        problem = FORM_EXPIRED
    elif not (form["title_es"] or form["title_en"]):
        problem = ACTION_TITLE_NEEDED
    elif not (form["owner_code"] and form["owner_name"]):
        problem = OWNER_NEEDED
    elif not form["deadline"]:
        problem = DEADLINE_NEEDED
    if problem:
        return await _action_plan_page(
            request, session, error=translate(request, problem), form=form, status_code=422
        )
    body = {
        "title": {lang: form[f"title_{lang}"] for lang in LANGS if form[f"title_{lang}"]},
        "owner": {"kind": owner_kind, "code": form["owner_code"], "name": form["owner_name"]},
        "deadline": form["deadline"],
    }
    try:
        await backends_of(request).post_json(
            "reporting", "/action-items", token=session.token, json=body
        )
    except BackendError as refused:
        return await _action_plan_page(
            request, session, error=refusal(refused, who.lang), form=form, status_code=422
        )
    return RedirectResponse("/console/reports/action-plan?done=created", 303)


@router.post("/reports/action-plan/{item_id}", response_class=HTMLResponse)
async def update_action_item(
    request: Request,
    who: Who,
    session: Staff,
    item_id: uuid.UUID,
    status: Annotated[Literal["planned", "in_progress", "done", "cancelled"] | None, Form()] = None,
    deadline: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    evidence_url: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Csrf = "",
) -> Response:
    patch: dict[str, Any] = {"status": status, "deadline": deadline.strip() or None}
    patch |= {"note": note.strip() or None, "evidence_url": evidence_url.strip() or None}
    if instead := await _send(
        request,
        who,
        session,
        csrf_token,
        partial(_action_plan_page, request, session),
        "PATCH",
        f"/action-items/{item_id}",
        refused_status=422,
        json={k: v for k, v in patch.items() if v is not None},
    ):
        return instead
    return RedirectResponse("/console/reports/action-plan?done=updated", 303)


# --- the budget ---------------------------------------------------------------------------------


def budget_rows(pack: EventPack, budget: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Reporting's lines with the pack's names, and whether each is over plan (100 % or more)
    or near it (80 %, when reporting alerts)."""
    names = {line.code: line.name.get(lang) for line in pack.budget.lines}
    return [
        {
            **line,
            "name": names.get(line["line"], line["line"]),
            "over": line["percent"] >= 100,
            "near": 80 <= line["percent"] < 100,
        }
        for line in budget.get("lines", [])
    ]


def amount(cents: int, lang: str) -> str:
    """Cents as an amount with two decimals in the language (`5.500,00`, `5,500.00`); the page
    names the currency once, above its table."""
    return i18n.number(Decimal(cents) / 100, lang, 2)


async def _budget_page(
    request: Request,
    who_lang_code: str,
    session: Staff,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    budget = await backends_of(request).get_json("reporting", "/budget", token=session.token)
    rows = budget_rows(request.app.state.pack, budget, who_lang_code)
    return _draw(
        request,
        "console_reports/budget.html",
        {
            "currency": budget.get("currency", ""),
            "rows": rows,
            "totals": {
                key: sum(r[key] for r in rows)
                for key in ("planned_cents", "committed_cents", "executed_cents", "consumed_cents")
            },
            "money": lambda cents: amount(cents, who_lang_code),
            "kinds": ENTRY_KINDS,
            "entry_id": uuid.uuid4().hex,
            "form": form or {},
        },
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get("/reports/budget", response_class=HTMLResponse)
async def budget(
    request: Request, who: Who, session: Staff, done: str | None = None
) -> HTMLResponse:
    return await _budget_page(request, who.lang, session, done=done)


@router.post("/reports/budget/entries", response_class=HTMLResponse)
async def add_budget_entry(
    request: Request,
    who: Who,
    session: Staff,
    line: Annotated[str, Form(max_length=50)] = "",
    kind: Annotated[Literal["commitment", "expense"], Form()] = "commitment",
    amount: Annotated[str, Form(max_length=20)] = "",
    description: Annotated[str, Form(max_length=300)] = "",
    entry_id: Annotated[str, Form(max_length=50)] = "",
    csrf_token: Csrf = "",
) -> Response:
    form = {"line": line, "kind": kind, "amount": amount.strip(), "description": description}
    text = amount.strip().replace(",", "")
    problem = None
    if not check_csrf(request, who, csrf_token):
        problem = FORM_EXPIRED
    else:
        try:
            value = round(float(text), 2)
            if value < 0 or len(text.partition(".")[2]) > 2:
                raise ValueError(text)
        except ValueError:
            problem = AMOUNT_INVALID
    if problem:
        return await _budget_page(
            request,
            who.lang,
            session,
            error=translate(request, problem),
            form=form,
            status_code=422,
        )
    body = {
        "line": line,
        "kind": kind,
        "amount": f"{value:.2f}",
        "description": description.strip(),
        # One entry per form shown: a second click (or a refresh) records nothing new.
        "entry_id": entry_id or None,
    }
    try:
        await backends_of(request).post_json(
            "reporting", "/budget/entries", token=session.token, json=body
        )
    except BackendError as refused:
        return await _budget_page(
            request,
            who.lang,
            session,
            error=refusal(refused, who.lang),
            form=form,
            status_code=422,
        )
    return RedirectResponse("/console/reports/budget?done=recorded", 303)


# --- the Memoria ----------------------------------------------------------------------------------


async def _memoria_page(
    request: Request,
    session: Staff,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    versions = await backends_of(request).get_json("reporting", "/reports", token=session.token)
    return _draw(
        request,
        "console_reports/memoria.html",
        {
            "versions": [v for v in versions if v["kind"] == "memoria"],
        },
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get("/reports/memoria", response_class=HTMLResponse)
async def memoria(request: Request, session: Staff, done: str | None = None) -> HTMLResponse:
    return await _memoria_page(request, session, done=done)


@router.post("/reports/memoria", response_class=HTMLResponse)
async def build_memoria(
    request: Request,
    who: Who,
    session: Staff,
    language: Annotated[Lang, Form()] = "es",
    final: Annotated[bool, Form()] = False,
    csrf_token: Csrf = "",
) -> Response:
    """A draft to preview (`reports:build`), or the final version, which publishes it
    (`reports:publish` as well; reporting refuses a role without it)."""
    if instead := await _send(
        request,
        who,
        session,
        csrf_token,
        partial(_memoria_page, request, session),
        "POST",
        "/memoria",
        refused_status=422,
        params={"lang": language, "final": "true" if final else "false"},
    ):
        return instead
    return RedirectResponse(
        f"/console/reports/memoria?done={'published' if final else 'built'}", 303
    )


@router.get("/reports/memoria/{report_id}.{fmt}")
async def memoria_file(
    request: Request,
    session: Staff,
    report_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,100}$")],
    fmt: Literal["html", "pdf"],
) -> Response:
    """A version, draft or final, fetched with the signed-in person's token (a draft needs
    `reports:read`) and shown from this site."""
    found = await backends_of(request).get_raw(
        "reporting", f"/memoria/{report_id}.{fmt}", token=session.token
    )
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="memoria-{report_id}.{fmt}"',
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = DOCUMENT_POLICY
    media_type = "text/html; charset=utf-8" if fmt == "html" else "application/pdf"
    return Response(found.content, media_type=media_type, headers=headers)


# --- the rapporteur's page ---------------------------------------------------------------------


def token_sessions(token: str) -> list[str]:
    """The sessions the signed-in person's token names (a rapporteur's), read from its claims
    to offer them in the form. Not a check: reporting verifies the token and refuses any other
    session."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return []
    sessions = claims.get("sessions") if isinstance(claims, dict) else None
    return sorted(str(s) for s in sessions) if isinstance(sessions, list) else []


def _texts(form: dict[str, str]) -> dict[str, dict[str, str]]:
    """The languages the rapporteur wrote a title in, each with its four headings."""
    return {
        lang: {part: form.get(f"{lang}_{part}", "").strip() for part in HEADINGS}
        for lang in LANGS
        if form.get(f"{lang}_title", "").strip()
    }


async def _rapporteur_page(
    request: Request,
    session: Staff,
    *,
    editing: dict[str, Any] | None = None,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await backends_of(request).get_json("reporting", "/conclusions", token=session.token)
    return _draw(
        request,
        "console_reports/rapporteur.html",
        {
            "conclusions": found,
            "sessions": token_sessions(session.token),
            "statuses": CONCLUSION_STATUSES,
            "headings": HEADINGS,
            "editing": editing,
        },
        done=done,
        error=error,
        status_code=status_code,
    )


@router.get("/rapporteur", response_class=HTMLResponse)
async def rapporteur(
    request: Request, session: Staff, edit: uuid.UUID | None = None, done: str | None = None
) -> HTMLResponse:
    editing = None
    if edit is not None:
        found = await backends_of(request).get_json(
            "reporting", "/conclusions", token=session.token
        )
        editing = next((c for c in found if c["id"] == str(edit)), None)
    return await _rapporteur_page(request, session, editing=editing, done=done)


@router.post("/rapporteur/conclusions", response_class=HTMLResponse)
async def save_conclusion(
    request: Request,
    who: Who,
    session: Staff,
    conclusion_id: Annotated[str, Form(max_length=40)] = "",
    session_code: Annotated[str, Form(max_length=40)] = "",
    rapporteur_name: Annotated[str, Form(max_length=200)] = "",
    es_title: Annotated[str, Form(max_length=300)] = "",
    es_key_issues: Annotated[str, Form(max_length=10_000)] = "",
    es_discussion: Annotated[str, Form(max_length=20_000)] = "",
    es_way_forward: Annotated[str, Form(max_length=10_000)] = "",
    en_title: Annotated[str, Form(max_length=300)] = "",
    en_key_issues: Annotated[str, Form(max_length=10_000)] = "",
    en_discussion: Annotated[str, Form(max_length=20_000)] = "",
    en_way_forward: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """A new draft (`POST /conclusions`) or an edit of one (`PUT /conclusions/{id}`)."""
    form = {
        "es_title": es_title,
        "es_key_issues": es_key_issues,
        "es_discussion": es_discussion,
        "es_way_forward": es_way_forward,
        "en_title": en_title,
        "en_key_issues": en_key_issues,
        "en_discussion": en_discussion,
        "en_way_forward": en_way_forward,
    }
    texts = _texts(form)
    editing = {
        "id": conclusion_id or None,
        "session_code": session_code.strip(),
        "rapporteur": rapporteur_name.strip() or None,
        "texts": {lang: {p: form[f"{lang}_{p}"] for p in HEADINGS} for lang in LANGS},
        "status": "draft",
    }
    problem = None
    if not check_csrf(request, who, csrf_token):
        problem = FORM_EXPIRED
    elif not editing["session_code"]:
        problem = SESSION_NEEDED
    elif not texts:
        problem = TITLE_NEEDED
    if problem:
        return await _rapporteur_page(
            request, session, editing=editing, error=translate(request, problem), status_code=422
        )
    body = {
        "session_code": editing["session_code"],
        "texts": texts,
        "rapporteur": editing["rapporteur"],
    }
    backends = backends_of(request)
    try:
        if conclusion_id:
            identifier = uuid.UUID(conclusion_id)
            await backends.request(
                "reporting", "PUT", f"/conclusions/{identifier}", token=session.token, json=body
            )
        else:
            await backends.post_json("reporting", "/conclusions", token=session.token, json=body)
    except ValueError:
        return await _rapporteur_page(request, session, editing=None, status_code=404)
    except BackendError as refused:
        if refused.status == 403:  # another session's: say so on the page, keep the text
            error = refused.message(who.lang) or str(refused)
            status_code = 403
        else:
            error, status_code = refusal(refused, who.lang), 422
        return await _rapporteur_page(
            request, session, editing=editing, error=error, status_code=status_code
        )
    return RedirectResponse("/console/rapporteur?done=saved", 303)


@router.post("/rapporteur/conclusions/{conclusion_id}/submit", response_class=HTMLResponse)
async def submit_conclusion(
    request: Request, who: Who, session: Staff, conclusion_id: uuid.UUID, csrf_token: Csrf = ""
) -> Response:
    page = partial(_rapporteur_page, request, session)
    path = f"/conclusions/{conclusion_id}/submit"
    if instead := await _send(
        request, who, session, csrf_token, page, "POST", path, refused_status=409
    ):
        return instead
    return RedirectResponse("/console/rapporteur?done=submitted", 303)

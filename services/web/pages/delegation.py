"""A delegation's focal point, with the access the secretariat sent them: their delegation's
members, nominating, substituting and withdrawing one (registration's `/delegations/{code}`
routes; registration limits the token to this delegation)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError
from services.web.i18n import N_
from services.web.pages.auth import Who
from services.web.pages.console import STATUS_NAMES
from services.web.pages.party import field_errors, party_of, send_party_form
from services.web.rendering import backends_of, render, translate, visitor
from services.web.session import CSRF_FIELD, PartySession
from shared import i18n

router = APIRouter(prefix="/delegation")

NOMINEE_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "job_title",
    "organisation",
    "language",
    "privacy_policy",
    "listed_publicly",
    "photos",
    "share_with_exhibitors",
)
CONSENTS = ("privacy_policy", "listed_publicly", "photos", "share_with_exhibitors")
OUTCOMES = {
    "nominated": N_("{name} was nominated."),
    "already_member": N_("{name} is already a member: nothing changed."),
    "substituted": N_("{name} took the member's seat; the member's registration is cancelled."),
    "withdrawn": N_("The member was withdrawn; their seat is free again."),
}


def _path(code: str) -> str:
    return f"/delegations/{quote(code, safe='')}"


async def _delegation(request: Request, party: PartySession) -> dict[str, Any]:
    found: dict[str, Any] = await backends_of(request).get_json(
        "registration", _path(party.party_id), token=party.token
    )
    return found


def _nominee(form: dict[str, str]) -> dict[str, Any]:
    """The registration body of a nomination form (empty optional fields left out)."""
    body: dict[str, Any] = {
        name: form[name].strip()
        for name in ("given_name", "family_name", "email", "phone", "job_title", "organisation")
        if form.get(name, "").strip()
    }
    for required in ("given_name", "family_name", "email"):
        body.setdefault(required, "")
    body["language"] = form.get("language") if form.get("language") in ("es", "en") else "es"
    body["consents"] = {name: form.get(name) == "yes" for name in CONSENTS}
    return body


async def _form_of(request: Request) -> dict[str, str]:
    submitted = await request.form()
    return {
        key: str(value)[:500]
        for key, value in submitted.items()
        if isinstance(value, str) and key in (*NOMINEE_FIELDS, CSRF_FIELD)
    }


def _done(outcome: str, member: str | None, status: str | None, name: str = "") -> str:
    query = {"done": outcome, "member": member or "", "status": status or "", "name": name}
    return "/delegation?" + urlencode({k: v for k, v in query.items() if v})


async def _members(request: Request, party: PartySession) -> list[dict[str, Any]]:
    """Each member as registration shows them to their focal point, their days and refusal
    reasons put in the visitor's language."""
    found: list[dict[str, Any]] = await backends_of(request).get_json(
        "registration", _path(party.party_id) + "/members", token=party.token
    )
    lang = visitor(request).lang
    for member in found:
        member["days"] = [
            i18n.date_text(day, lang, "d MMM") for day in member.get("checked_in_days", [])
        ]
        member["reasons"] = [
            reason.get(f"message_{lang}") or reason.get("message_es", "")
            for reason in member.get("rejection_reasons", [])
        ]
        member["name"] = " ".join(
            part for part in (member.get("given_name"), member.get("family_name")) if part
        )
    return found


async def _page(
    request: Request,
    party: PartySession,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    done: str | None = None,
    member: str | None = None,
    status: str | None = None,
    name: str | None = None,
) -> HTMLResponse:
    delegation = await _delegation(request, party)
    members = await _members(request, party)
    notice = None
    if done in OUTCOMES:
        notice = translate(request, OUTCOMES[done], name=name or "")
    return render(
        request,
        "party/delegation.html",
        {
            "delegation": delegation,
            "members": members,
            "form": form or {"language": "es"},
            "errors": errors or {},
            "error": error,
            "notice": notice,
            "member": member,
            "member_status": status if status in STATUS_NAMES else None,
            "status_names": STATUS_NAMES,
            "action": "/delegation/members",
            "substituting": None,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def delegation_page(
    request: Request,
    who: Who,
    party: PartySession = party_of("focal_point"),
    done: Annotated[str | None, Query(max_length=30)] = None,
    member: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    name: Annotated[str | None, Query(max_length=210)] = None,
) -> HTMLResponse:
    return await _page(request, party, done=done, member=member, status=status, name=name)


async def _refused_form(
    request: Request,
    party: PartySession,
    refused: BackendError,
    form: dict[str, str],
    template_context: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A nomination or substitution registration refused (send_party_form has already raised
    what is the app's to draw): its errors under the form's fields."""
    errors, general = field_errors(request, refused, NOMINEE_FIELDS)
    status_code = 422 if refused.status == 422 else 409
    if template_context is None:
        return await _page(
            request, party, form=form, errors=errors, error=general, status_code=status_code
        )
    return render(
        request,
        "party/substitute.html",
        {**template_context, "form": form, "errors": errors, "error": general},
        status_code=status_code,
    )


def _name(form: dict[str, str]) -> str:
    return f"{form.get('given_name', '').strip()} {form.get('family_name', '').strip()}".strip()


@router.post("/members", response_class=HTMLResponse)
async def nominate(
    request: Request, who: Who, party: PartySession = party_of("focal_point")
) -> Response:
    form = await _form_of(request)

    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        return await _page(request, party, form=form, error=error, status_code=status_code)

    async def refused(error: BackendError) -> HTMLResponse:
        return await _refused_form(request, party, error, form)

    answer, instead = await send_party_form(
        request,
        who,
        party,
        form.get(CSRF_FIELD),
        redraw,
        "registration",
        "POST",
        f"{_path(party.party_id)}/members",
        refused=refused,
        json=_nominee(form),
    )
    if instead is not None:
        return instead
    outcome = str(answer.get("outcome", "nominated"))
    target = _done(outcome, answer.get("participant_id"), answer.get("status"), _name(form))
    return RedirectResponse(target, status_code=303)


@router.get("/members/{participant_id}/substitute", response_class=HTMLResponse)
async def substitute_form(
    request: Request,
    who: Who,
    participant_id: uuid.UUID,
    party: PartySession = party_of("focal_point"),
) -> HTMLResponse:
    delegation = await _delegation(request, party)
    return render(
        request,
        "party/substitute.html",
        _substitute_context(delegation, participant_id) | {"form": {"language": "es"}},
    )


def _substitute_context(delegation: dict[str, Any], participant_id: uuid.UUID) -> dict[str, Any]:
    return {
        "delegation": delegation,
        "member": str(participant_id),
        "action": f"/delegation/members/{participant_id}/substitute",
        "errors": {},
        "error": None,
    }


@router.post("/members/{participant_id}/substitute", response_class=HTMLResponse)
async def substitute(
    request: Request,
    who: Who,
    participant_id: uuid.UUID,
    party: PartySession = party_of("focal_point"),
) -> Response:
    form = await _form_of(request)
    delegation = await _delegation(request, party)
    context = _substitute_context(delegation, participant_id)

    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        page = {**context, "form": form, "error": error}
        return render(request, "party/substitute.html", page, status_code=status_code)

    async def refused(error: BackendError) -> HTMLResponse:
        return await _refused_form(request, party, error, form, context)

    answer, instead = await send_party_form(
        request,
        who,
        party,
        form.get(CSRF_FIELD),
        redraw,
        "registration",
        "POST",
        f"{_path(party.party_id)}/members/{participant_id}/substitute",
        refused=refused,
        json=_nominee(form),
    )
    if instead is not None:
        return instead
    target = _done("substituted", answer.get("participant_id"), answer.get("status"), _name(form))
    return RedirectResponse(target, status_code=303)


@router.post("/members/{participant_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request,
    who: Who,
    participant_id: uuid.UUID,
    party: PartySession = party_of("focal_point"),
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        return await _page(request, party, error=error, status_code=status_code)

    answer, instead = await send_party_form(
        request,
        who,
        party,
        csrf_token,
        redraw,
        "registration",
        "DELETE",
        f"{_path(party.party_id)}/members/{participant_id}",
    )
    if instead is not None:
        return instead
    target = _done("withdrawn", answer.get("participant_id"), answer.get("status"))
    return RedirectResponse(target, status_code=303)

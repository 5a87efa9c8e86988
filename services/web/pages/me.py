"""A participant, with the personal code from their e-mails: their agenda, signing up for a
session and giving the seat up, and their calendar (scheduling's published agenda, their
personal feed and `/sessions/{code}/signups`; scheduling limits the code to this person)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError
from services.web.i18n import N_
from services.web.pages.auth import Who, signed_in
from services.web.pages.party import field_errors, party_of, send_party_form
from services.web.rendering import backends_of, render, translate
from services.web.session import CSRF_FIELD, PartySession

router = APIRouter()

ICAL = "text/calendar; charset=utf-8"
SESSION_CODE = r"^[A-Za-z0-9_.:-]{1,80}$"
DONE = {
    "confirmed": N_("You have a seat in “{title}”."),
    "waitlisted": N_("“{title}” is full: you are on its waiting list, number {position}."),
    "cancelled": N_("You gave up your place in “{title}”."),
}

Participant = Annotated[PartySession, party_of("participant")]


def uids(calendar: bytes) -> set[str]:
    """Session codes of an iCalendar feed's events (`UID:<code>@<forum>.foro`), lines unfolded."""
    text = calendar.decode("utf-8", "replace").replace("\r\n ", "").replace("\n ", "")
    found = set()
    for line in text.splitlines():
        if line.startswith("UID:"):
            found.add(line[4:].split("@", 1)[0])
    return found


def _feed_token(url: str | None) -> str | None:
    """The read-only feed token in the agenda link scheduling gives after a sign-up."""
    if not url:
        return None
    found = parse_qs(urlsplit(url).query).get("token")
    return found[0] if found else None


async def _mine(request: Request, party: PartySession, lang: str) -> set[str]:
    try:
        feed = await backends_of(request).get_raw(
            "scheduling",
            f"/people/{quote(party.party_id, safe='')}/agenda.ics",
            token=party.token,
            params={"lang": lang},
        )
    except BackendError as refused:
        if refused.status != 404:  # 404: nothing published yet
            raise
        return set()
    return uids(feed.content)


async def _page(
    request: Request, party: PartySession, status_code: int = 200, **context: Any
) -> HTMLResponse:
    who = request.state.visitor
    try:
        agenda = await backends_of(request).get_json("scheduling", "/agenda.json")
    except BackendError as refused:
        if refused.status != 404:
            raise
        agenda = None
    mine = await _mine(request, party, who.lang)
    days = (agenda or {}).get("days", [])
    sessions = [item for day in days for item in day.get("items", [])]
    return render(
        request,
        "party/me.html",
        {
            "agenda": agenda,
            "days": days,
            "mine": mine,
            "my_sessions": [s for s in sessions if s.get("code") in mine],
            "feed_url": (
                f"{request.base_url}me/calendar/{quote(party.party_id, safe='')}.ics"
                f"?token={quote(party.feed, safe='')}"
                if party.feed
                else None
            ),
            **context,
        },
        status_code=status_code,
    )


def _title(agenda_items: list[dict[str, Any]], code: str, lang: str) -> str:
    for item in agenda_items:
        if item.get("code") == code:
            title = item.get("title") or {}
            return str(title.get(lang) or title.get("es") or code)
    return code


@router.get("/me", response_class=HTMLResponse)
async def me_page(
    request: Request,
    who: Who,
    party: Participant,
    done: Annotated[str | None, Query(max_length=30)] = None,
    title: Annotated[str | None, Query(max_length=300)] = None,
    position: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> HTMLResponse:
    notice = None
    if done in DONE:
        notice = translate(request, DONE[done], title=title or "", position=position or "")
    return await _page(request, party, notice=notice)


@router.post("/me/sessions/{code}/signup", response_class=HTMLResponse)
async def sign_up(
    request: Request,
    who: Who,
    party: Participant,
    code: Annotated[str, Path(pattern=SESSION_CODE)],
    title: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    answer, instead = await _send(
        request,
        who,
        party,
        csrf_token,
        "POST",
        f"/sessions/{quote(code, safe='')}/signups",
        json={"participant_id": party.party_id},
    )
    if instead is not None:
        return instead
    status = "waitlisted" if answer.get("status") == "waitlisted" else "confirmed"
    query = f"done={status}&title={quote(title or code)}"
    if answer.get("position"):
        query += f"&position={int(answer['position'])}"
    response = RedirectResponse(f"/me?{query}#mine", status_code=303)
    feed = _feed_token(answer.get("agenda_ics"))
    if feed and feed != party.feed:  # keep the read-only calendar link for the page
        signed_in(
            request,
            response,
            PartySession(
                party.kind, party.party_id, party.label, party.token, party.expires_at, feed
            ),
        )
    return response


@router.post("/me/sessions/{code}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request,
    who: Who,
    party: Participant,
    code: Annotated[str, Path(pattern=SESSION_CODE)],
    title: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    _, instead = await _send(
        request,
        who,
        party,
        csrf_token,
        "DELETE",
        f"/sessions/{quote(code, safe='')}/signups/{quote(party.party_id, safe='')}",
    )
    if instead is not None:
        return instead
    return RedirectResponse(
        f"/me?done=cancelled&title={quote(title or code)}#mine", status_code=303
    )


async def _send(
    request: Request,
    who: Who,
    party: PartySession,
    csrf_token: str,
    method: str,
    path: str,
    **options: Any,
) -> tuple[Any, HTMLResponse | None]:
    """A sign-up or cancellation sent to scheduling; a refusal is told with its reason
    (`detail.reason`, English)."""

    async def redraw(error: str | None, status_code: int) -> HTMLResponse:
        return await _page(request, party, error=error, status_code=status_code)

    async def refused(error: BackendError) -> HTMLResponse:
        _, general = field_errors(request, error, ())
        detail = error.detail
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            general = detail["reason"]
        return await redraw(general, 409)

    return await send_party_form(
        request,
        who,
        party,
        csrf_token,
        redraw,
        "scheduling",
        method,
        path,
        refused=refused,
        **options,
    )


@router.get("/me/agenda.ics")
async def my_calendar(request: Request, who: Who, party: Participant) -> Response:
    """The participant's agenda as an iCalendar file, now (with the code in their cookie)."""
    feed = await backends_of(request).get_raw(
        "scheduling",
        f"/people/{quote(party.party_id, safe='')}/agenda.ics",
        token=party.token,
        params={"lang": who.lang},
    )
    return Response(
        feed.content,
        media_type=ICAL,
        headers={
            "Content-Disposition": 'attachment; filename="agenda.ics"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/me/calendar/{participant_id}.ics")
async def subscribed_calendar(
    request: Request,
    who: Who,
    participant_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    token: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    """A calendar app's subscription: the read-only feed token scheduling gave rides in the
    address (calendar apps send no cookie and no header); scheduling checks it."""
    feed = await backends_of(request).get_raw(
        "scheduling",
        f"/people/{participant_id}/agenda.ics",
        params={"token": token, "lang": who.lang},
    )
    return Response(
        feed.content,
        media_type=ICAL,
        headers={
            "Content-Disposition": 'inline; filename="agenda.ics"',
            "Cache-Control": "no-store",
        },
    )

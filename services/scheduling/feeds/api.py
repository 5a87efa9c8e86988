"""The published programme for everyone: agenda JSON and iCal feeds (whole programme, per room,
per person), and, for the secretariat, where the feeds are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from services.scheduling.deps import Deps, Refused, Scheduling
from services.scheduling.documents import ReleaseDocument
from services.scheduling.feeds import handlers, rules
from services.scheduling.words import SCHEDULING_WORDS
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal

ICAL = "text/calendar; charset=utf-8"
LangQuery = Query(None, description="Language of titles: es or en (default: the forum's).")

router = APIRouter(tags=["agenda and feeds"])
links = APIRouter(prefix="/programme", tags=["secretariat"])


def language(deps: Scheduling, lang: str | None) -> str:
    forum = deps.pack.forum
    return lang if lang in forum.languages else forum.default_language


def ical(body: bytes, filename: str) -> Response:
    return Response(
        body, media_type=ICAL, headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


async def published(deps: Scheduling, number: int | None = None) -> ReleaseDocument:
    try:
        return await handlers.release(deps, number)
    except Refused as refused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=refused.reason) from None


@router.get("/agenda.json", summary="The published programme (JSON, venue time, es/en)")
@router.get("/agenda", summary="The published programme (JSON, venue time, es/en)")
async def get_agenda(
    request: Request, deps: Deps, release: int | None = Query(None, ge=1)
) -> dict[str, Any]:
    document, base = await published(deps, release), deps.public_base(request)
    return {
        **rules.agenda(document, deps.pack),
        "feeds": {
            "ical": f"{base}/agenda.ics",
            "per_room": {
                r.code: f"{base}/rooms/{r.code}/agenda.ics" for r in deps.pack.programme.rooms
            },
        },
    }


@router.get(
    "/agenda.ics", summary="The whole published programme (iCalendar)", response_class=Response
)
async def programme_ical(deps: Deps, lang: str | None = LangQuery) -> Response:
    document, chosen = await published(deps), language(deps, lang)
    name = deps.pack.forum.short_name.get(chosen)
    return ical(
        rules.calendar(
            document.sessions, deps.pack, lang=chosen, name=name, release=document.number
        ),
        "programme.ics",
    )


@router.get(
    "/rooms/{room}/agenda.ics",
    summary="One room's published programme (iCalendar)",
    response_class=Response,
)
async def room_ical(room: str, deps: Deps, lang: str | None = LangQuery) -> Response:
    found = deps.pack.programme.room(room)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="room: no such room")
    document, chosen = await published(deps), language(deps, lang)
    sessions = [s for s in document.sessions if s.room == room]
    name = f"{deps.pack.forum.short_name.get(chosen)} · {found.name.get(chosen)}"
    return ical(
        rules.calendar(sessions, deps.pack, lang=chosen, name=name, release=document.number),
        f"{room}.ics",
    )


@router.get(
    "/people/{subject}/agenda.ics",
    summary="A person's agenda (iCalendar): sessions they take part in or signed up for",
    description="`subject` is a person id from the programme or a registration participant id. "
    "The person's link carries their feed token (`?token=`, read-only: `agenda:read` for that "
    "person); staff with `agenda:read` read anyone's with `Authorization: Bearer`.",
    response_class=Response,
)
async def person_ical(
    subject: str,
    deps: Deps,
    lang: str | None = LangQuery,
    principal: Principal = Depends(require(Permission.AGENDA_READ, query="token")),
    # Read by `require` above (a calendar app sends no header); declared so the docs show it.
    token: str | None = Query(None, description="The feed token of the person's link."),
) -> Response:
    principal.require_participant(subject)
    try:
        document, mine = await handlers.personal(deps, subject)
    except Refused as refused:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=refused.reason) from None
    chosen = language(deps, lang)
    mine_name = SCHEDULING_WORDS[chosen]["my_agenda"]
    name = f"{deps.pack.forum.short_name.get(chosen)} · {mine_name}"
    return ical(
        rules.calendar(mine, deps.pack, lang=chosen, name=name, release=document.number),
        "agenda.ics",
    )


@links.get(
    "/feeds",
    summary="Where the agenda and the iCal feeds are",
    dependencies=[Depends(require(Permission.PROGRAMME_READ))],
)
async def feed_links(
    request: Request, deps: Deps, person: str | None = Query(None, max_length=64)
) -> dict[str, Any]:
    base = deps.public_base(request)
    found: dict[str, Any] = {
        "agenda": f"{base}/agenda",
        "ical": f"{base}/agenda.ics",
        "rooms": {r.code: f"{base}/rooms/{r.code}/agenda.ics" for r in deps.pack.programme.rooms},
    }
    if person:
        found["person"] = deps.personal_feed_url(base, person)
    return found

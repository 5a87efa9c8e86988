"""Attachments a trigger may ask for, built from the pack and the event (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from services.notification.domain import dig_any, parse_moment
from services.notification.templates import translate
from shared.contracts.envelope import derive_id
from shared.pack import EventPack


def _calendar(uid: str, summary: str, start: Any, end: Any, location: str, stamp: datetime) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//foro//notification//ES")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = CalendarEvent()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("location", location)
    calendar.add_component(event)
    return str(calendar.to_ical().decode("utf-8"))


_FORUM_ICAL: dict[tuple[object, ...], str] = {}


def forum_ical(pack: EventPack, lang: str, stamp: datetime) -> dict[str, str]:
    """The forum's days as an iCalendar event. The same for everyone in one language, so it is
    made once a day (its DTSTAMP: the first of that day's messages)."""
    forum = pack.forum
    location = ", ".join(
        p for p in (forum.venue.name, forum.venue.address or forum.venue.city) if p
    )
    what = (
        f"{forum.id}@foro",
        forum.name.get(lang),
        forum.dates[0],
        forum.dates[-1] + timedelta(days=1),
        location,
    )
    key = (*what, stamp.date())
    if (text := _FORUM_ICAL.get(key)) is None:
        if len(_FORUM_ICAL) > 64:
            _FORUM_ICAL.clear()
        text = _FORUM_ICAL[key] = _calendar(*what, stamp)
    return {"filename": "foro.ics", "content_type": "text/calendar", "text": text}


def session_ical(
    pack: EventPack, event: Mapping[str, Any], lang: str, stamp: datetime
) -> dict[str, str] | None:
    start = parse_moment(dig_any(event, "current.starts_at|slot.starts_at|starts_at"))
    if start is None:
        return None
    end = parse_moment(dig_any(event, "current.ends_at|slot.ends_at|ends_at")) or start + timedelta(
        hours=1
    )
    session = str(dig_any(event, "session_code|session_id") or "session")
    title = translate(dig_any(event, "title") or session, lang)
    room = translate(
        dig_any(event, "current.room_name|slot.room_name|current.room|slot.room"), lang
    )
    location = ", ".join(p for p in (room, pack.forum.venue.name) if p)
    uid = f"{derive_id(pack.forum.id, 'session', session)}@foro"
    return {
        # Named by the session's code, which reads the same in every language (`B1.2.ics`).
        "filename": f"{_file_name(session)}.ics",
        "content_type": "text/calendar",
        "text": _calendar(uid, title, start, end, location, stamp),
    }


def _file_name(code: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in code) or "session"


def build(
    kinds: tuple[str, ...], pack: EventPack, event: Mapping[str, Any], lang: str, stamp: datetime
) -> list[dict[str, str]]:
    found = []
    for kind in kinds:
        attachment = (
            forum_ical(pack, lang, stamp)
            if kind == "forum_ical"
            else session_ical(pack, event, lang, stamp)
        )
        if attachment:
            found.append(attachment)
    return found

"""The published programme as people read it: agenda JSON and iCalendar (RFC 5545) feeds.

Pure functions of a release document and the pack; the API serves them. Times in the iCal feeds
carry the venue's time zone (TZID with its VTIMEZONE), so calendars show venue time however the
reader's device is set; titles follow the requested language and descriptions carry both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent

from services.scheduling.documents import SCHEDULED, ReleaseDocument, SessionSnapshot
from services.scheduling.words import SCHEDULING_WORDS
from shared.pack import EventPack

PRODID = "-//foro//scheduling//ES"


def _local(moment: datetime, pack: EventPack) -> datetime:
    return moment.astimezone(pack.forum.tz)


def agenda(release: ReleaseDocument, pack: EventPack) -> dict[str, Any]:
    """The published programme by day, in venue time, bilingual."""
    rooms = {room.code: room for room in pack.programme.rooms}
    days = {day.index: day for day in pack.programme.days}
    by_date: dict[str, list[dict[str, Any]]] = {}
    for snap in release.sessions:
        start, end = _local(snap.starts_at, pack), _local(snap.ends_at, pack)
        room = rooms.get(snap.room or "")
        by_date.setdefault(start.date().isoformat(), []).append(
            {
                "code": snap.code,
                "kind": snap.kind,
                "parent": snap.parent,
                "status": snap.status,
                "title": snap.title,
                "description": snap.description,
                "topics": snap.topics,
                "starts_at": start.isoformat(),
                "ends_at": end.isoformat(),
                "room": {
                    "code": room.code,
                    "name": room.name.model_dump(),
                    "capacity": room.capacity,
                }
                if room
                else None,
                "people": [
                    {
                        k: getattr(p, k)
                        for k in ("person_id", "name", "role", "affiliation", "country")
                    }
                    for p in snap.people
                ],
                "seats": snap.seats or (room.capacity if room else None),
                "signed_up": snap.signed_up,
            }
        )
    dates = pack.forum.dates
    out_days = []
    for index, day in enumerate(dates):
        heading = days.get(index)
        hours = heading.expo_hours if heading else None
        out_days.append(
            {
                "index": index,
                "date": day.isoformat(),
                "title": heading.title.model_dump() if heading else None,
                "expo_hours": {
                    "opens_at": hours.opens_at.strftime("%H:%M"),
                    "closes_at": hours.closes_at.strftime("%H:%M"),
                }
                if hours
                else None,
                "items": sorted(
                    by_date.get(day.isoformat(), []), key=lambda i: (i["starts_at"], i["code"])
                ),
            }
        )
    return {
        "forum_id": pack.forum.id,
        "forum": pack.forum.name.model_dump(),
        "venue": pack.forum.venue.model_dump(),
        "time_zone": pack.forum.time_zone,
        "release": release.number,
        "published_at": release.published_at.astimezone(UTC).isoformat(),
        "changes": release.changes,
        "rooms": [
            {"code": r.code, "name": r.name.model_dump(), "capacity": r.capacity}
            for r in pack.programme.rooms
        ],
        "days": out_days,
    }


def calendar(
    sessions: Iterable[SessionSnapshot], pack: EventPack, *, lang: str, name: str, release: int
) -> bytes:
    """An iCalendar of the given (published) sessions; cancelled ones are marked CANCELLED."""
    other = "en" if lang == "es" else "es"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", pack.forum.time_zone)
    rooms = {room.code: room for room in pack.programme.rooms}
    venue = pack.forum.venue
    for snap in sessions:
        event = VEvent()
        event.add("uid", f"{snap.code}@{pack.forum.id}.foro")
        event.add("dtstamp", datetime.now(UTC))
        event.add("sequence", release)
        event.add("dtstart", _local(snap.starts_at, pack))
        event.add("dtend", _local(snap.ends_at, pack))
        event.add("summary", f"{snap.code} · {snap.title[lang]}", parameters={"LANGUAGE": lang})
        lines = [snap.title[other]]
        if snap.description:
            lines += ["", snap.description[lang], snap.description[other]]
        if snap.topics:
            lines += [""] + [f"- {t['title'][lang]} / {t['title'][other]}" for t in snap.topics]
        people = [p for p in snap.people if p.name]
        roles = SCHEDULING_WORDS[lang]["roles"]
        if people:
            lines += [""] + [
                f"{roles.get(p.role, p.role)}: {p.name}"
                + (f" ({p.affiliation})" if p.affiliation else "")
                for p in people
            ]
        event.add("description", "\n".join(lines))
        room = rooms.get(snap.room or "")
        place = (
            f"{room.name.get(lang)}, {venue.name}, {venue.city}"
            if room
            else f"{venue.name}, {venue.city}"
        )
        event.add("location", place)
        event.add("categories", [snap.kind])
        event.add("status", "CONFIRMED" if snap.status == SCHEDULED else "CANCELLED")
        cal.add_component(event)
    cal.add_missing_timezones()
    body: bytes = cal.to_ical()
    return body


def personal(release: ReleaseDocument, subject: str, seated: set[str]) -> list[SessionSnapshot]:
    """A person's sessions in a release: those the draft lists them on or seats them in
    (`seated`, codes), and those the release names them on."""
    return [s for s in release.sessions if s.code in seated or s.names(subject)]

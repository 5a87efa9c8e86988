"""Statistics computed from the projections' per-entity state — pure, so they are tested alone.

They count the stored documents as they are (dicts, see `documents.py`): a Memoria of a large
forum reads thousands, and building a model of each would cost more than reading it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from shared.pack import EventPack

ATTENDING = "confirmed"
SIGNUP_ENDED = {"cancelled", "withdrawn", "removed", "declined", "rejected", "signup_cancelled"}
NOT_SEATED = {"signup_waitlisted", "waitlisted"}
ATTENDED = {"attended", "checked_in", "present"}


def _sorted(counter: Counter) -> dict[str, int]:
    return {str(key): counter[key] for key in sorted(counter, key=lambda k: (-counter[k], str(k)))}


def participant_statistics(
    states: list[dict[str, Any]], sector_of: Mapping[str, str], tz: tzinfo = UTC
) -> dict[str, Any]:
    """Counts by status; by category, country, sector (the pack's, of the category) and language
    among confirmed participants; check-in rates among confirmed participants, overall and per day;
    sign-ups by the day (in `tz`, the forum's zone) each was first recorded, whatever came of it."""
    by_status: Counter[str] = Counter()
    dims: dict[str, Counter[str]] = {
        name: Counter() for name in ("category", "country", "language")
    }
    by_sector: Counter[str] = Counter()
    checked_in, by_day = 0, Counter[str]()
    erased = 0
    first_seen: Counter[str] = Counter()  # the stamps' times to the minute: far fewer to convert
    for state in states:
        status = state.get("status") or "unknown"
        by_status[status] += 1
        if state.get("registered_as_of"):
            first_seen[state["registered_as_of"][:16]] += 1
        erased += bool(state.get("erased"))
        if status != ATTENDING:
            continue
        for name, counter in dims.items():
            counter[state.get(name) or "unknown"] += 1
        by_sector[sector_of.get(state.get("category") or "", "other")] += 1
        scans = (state.get("checkins") or {}).values()
        checked_in += bool(scans)
        by_day.update({scan["day"] for scan in scans})
    confirmed = by_status[ATTENDING]
    signups: Counter[str] = Counter()
    for minute, n in first_seen.items():
        at = datetime.fromisoformat(minute).replace(tzinfo=UTC).astimezone(tz)
        signups[at.date().isoformat()] += n
    return {
        "registered": sum(
            n for s, n in by_status.items() if s in ("confirmed", "waitlisted", "pending_approval")
        ),
        "confirmed": confirmed,
        "erased": erased,
        "by_status": _sorted(by_status),
        "by_category": _sorted(dims["category"]),
        "by_country": _sorted(dims["country"]),
        "by_sector": _sorted(by_sector),
        "by_language": _sorted(dims["language"]),
        "signups_by_day": dict(sorted(signups.items())),
        "check_in": {
            "checked_in": checked_in,
            "rate": round(checked_in / confirmed, 4) if confirmed else 0.0,
            "by_day": {
                day: {"checked_in": n, "rate": round(n / confirmed, 4) if confirmed else 0.0}
                for day, n in sorted(by_day.items())
            },
        },
    }


def sectors_of_categories(pack: EventPack) -> dict[str, str]:
    """The sector the pack counts each category's participants under (`other` if unset)."""
    return {category.code: category.sector or "other" for category in pack.categories}


def _kind_status(entities: list[dict[str, Any]], kind: str) -> Counter:
    return Counter(e.get("status") or "unknown" for e in entities if e.get("kind") == kind)


def _stamp(at: datetime) -> str:
    """`at` as the time part of a stamp (`EventView.stamp`): stamps then compare as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _slots(
    pack: EventPack, sessions: dict[str, dict[str, Any]]
) -> list[tuple[str, str, datetime, datetime]]:
    """(code, room, start, end) of every item held in a room, as rescheduled when it was."""
    slots = []
    for item in pack.programme.items:
        if item.room is None or item.kind in ("block", "break"):
            continue
        start, end = pack.item_datetimes(item)
        room = item.room
        moved = sessions.get(item.code, {})
        try:
            start = datetime.fromisoformat(moved["starts_at"]) if moved.get("starts_at") else start
            end = datetime.fromisoformat(moved["ends_at"]) if moved.get("ends_at") else end
        except ValueError:
            pass
        slots.append((item.code, moved.get("room") or room, start, end))
    return slots


def session_statistics(
    pack: EventPack, participants: list[dict[str, Any]], entities: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per programme item held in a room: sign-ups, attendance and fill against capacity.

    Attendance is a scan at the item itself, or at its room while it ran (check-in points are rooms),
    or a sign-up marked attended."""
    signed: Counter[str] = Counter()
    attended: Counter[str] = Counter()
    capacity: dict[str, int] = {}
    status: dict[str, str] = {}
    sessions: dict[str, dict[str, Any]] = {}
    for entity in entities:
        attributes = entity.get("attributes") or {}
        code = str(attributes.get("session_code") or attributes.get("code") or "")
        if entity.get("kind") == "session_signup":
            if entity.get("status") in ATTENDED:
                attended[code] += 1
            elif entity.get("status") not in SIGNUP_ENDED | NOT_SEATED:
                signed[code] += 1
        elif entity.get("kind") == "session":
            status[code] = entity.get("status") or ""
            sessions[code] = attributes
            if isinstance(attributes.get("capacity"), int):
                capacity[code] = attributes["capacity"]
    slots = _slots(pack, sessions)
    items = {item.code for item in pack.programme.items}
    # Per room, what ran there and when, as stamps: a scan's stamp (time, then `|event id`)
    # falls in [start, end) exactly when its time does.
    in_room: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for code, room, start, end in slots:
        in_room[room].append((code, _stamp(start), _stamp(end)))
    for participant in participants:
        for scan in (participant.get("checkins") or {}).values():
            point = scan.get("point") or ""
            if point in items:
                attended[point] += 1
                continue
            at = scan["as_of"]
            for code, start_stamp, end_stamp in in_room.get(point, ()):
                if start_stamp <= at < end_stamp:
                    attended[code] += 1
                    break
    rows = []
    for code, room_code, start, end in slots:
        item = pack.programme.item(code)
        assert item is not None  # slots are the pack's items
        held_in = pack.programme.room(room_code)
        seats = capacity.get(code) or (held_in.capacity if held_in else 0)
        present = attended.get(code, 0)
        local_start, local_end = start.astimezone(pack.forum.tz), end.astimezone(pack.forum.tz)
        rows.append(
            {
                "code": code,
                "day": item.day,
                "starts_at": local_start.strftime("%H:%M"),
                "ends_at": local_end.strftime("%H:%M"),
                "room": room_code,
                "capacity": seats,
                "signed_up": signed.get(code, 0),
                "attended": present,
                "fill": round(present / seats, 4) if seats else 0.0,
                "status": status.get(code, "held"),
            }
        )
    return rows


def statistics(
    pack: EventPack,
    participants: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    event_counts: dict[str, int],
) -> dict[str, Any]:
    """Everything `GET /statistics` and the Memoria show; equal inputs give equal output."""
    kinds: dict[str, Counter] = defaultdict(Counter)
    for entity in entities:
        kinds[entity.get("kind") or "unknown"][entity.get("status") or "unknown"] += 1
    notifications = [e for e in entities if e.get("kind") == "notification"]
    by_channel: Counter = Counter()
    for message in notifications:
        by_channel[
            f"{(message.get('attributes') or {}).get('channel') or 'unknown'}:{message.get('status')}"
        ] += 1
    exhibitors = _kind_status(entities, "exhibitor")
    meetings = _kind_status(entities, "meeting")
    return {
        "forum_id": pack.forum.id,
        "participants": participant_statistics(
            participants, sectors_of_categories(pack), pack.forum.tz
        ),
        "sessions": session_statistics(pack, participants, entities),
        "expo": {
            "exhibitors": sum(exhibitors.values()),
            "exhibitors_by_status": _sorted(exhibitors),
            "exhibitors_by_sector": _sorted(
                Counter(
                    (e.get("attributes") or {}).get("sector") or "unknown"
                    for e in entities
                    if e.get("kind") == "exhibitor"
                )
            ),
            "booths_assigned": _kind_status(entities, "booth")["assigned"],
            "launches": sum(_kind_status(entities, "launch").values()),
            "leads": sum(_kind_status(entities, "lead").values()),
            "meetings": sum(meetings.values()),
            "meetings_confirmed": meetings["confirmed"] + meetings["accepted"] + meetings["held"],
            "meetings_by_status": _sorted(meetings),
        },
        "job_fair": {
            "posts": sum(_kind_status(entities, "job_post").values()),
            "applications": sum(_kind_status(entities, "job_application").values()),
        },
        "notifications": {
            "sent": sum(1 for m in notifications if m.get("status") in ("sent", "delivered")),
            "failed": sum(1 for m in notifications if m.get("status") == "failed"),
            "by_channel_status": _sorted(by_channel),
        },
        "entities": {kind: _sorted(counter) for kind, counter in sorted(kinds.items())},
        "events": {
            "total": sum(event_counts.values()),
            "by_type": dict(sorted(event_counts.items())),
        },
    }

"""Reminders' rules, free of I/O: which reminders a trigger (re)schedules or cancels for a
person, and when each is due."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.notification.domain import dig_any, parse_moment, reminder_id
from services.notification.templates import Trigger
from shared.pack import EventPack

_KEY_FIELD = re.compile(r"\{([^{}]+)\}")


def reminder_key(template: str, event: Mapping[str, Any]) -> str | None:
    """'session:{session_id|session.code}' with the event's values; None when one is missing."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = dig_any(event, match.group(1))
        if found is None or isinstance(found, (dict, list)):
            missing = True
            return ""
        return str(found)

    key = _KEY_FIELD.sub(value, template)
    return None if missing else key


def reminder_due(anchor: datetime, offset_hours: float) -> datetime:
    return anchor + timedelta(hours=offset_hours)


def without_people(body: Mapping[str, Any], trigger: Trigger) -> dict[str, Any]:
    """The event as a reminder keeps it: without the people it names (other people's contacts
    must not be copied into each person's reminder)."""
    paths = [*trigger.recipients]
    if trigger.contact is not None:
        paths += [p for p in (trigger.contact.email, trigger.contact.phone) if p]
    people = {
        alternative.split(".")[0]
        for path in paths
        for alternative in path.split("|")
        if alternative
    }
    return {key: value for key, value in body.items() if key not in people}


@dataclass(frozen=True)
class Scheduled:
    reminder_id: str
    fields: dict[str, Any]


def reminders_of(
    trigger: Trigger,
    body: Mapping[str, Any],
    person_id: str,
    pack: EventPack,
    now: datetime,
    correlation_id: str,
) -> tuple[list[Scheduled], list[str]]:
    """The reminders a trigger (re)schedules for the person, and the ids of those it cancels.
    A reminder of what has begun already is not scheduled."""
    scheduled: list[Scheduled] = []
    for rule in trigger.reminders:
        key = reminder_key(rule.key, body)
        anchor: datetime | None
        if rule.anchor == "forum_start":
            anchor = datetime.combine(pack.forum.dates[0], datetime.min.time(), pack.forum.tz)
            first = pack.programme.items_on(0)
            if first:
                anchor = pack.item_datetimes(first[0])[0]
        else:
            anchor = parse_moment(dig_any(body, rule.anchor))
        if key is None or anchor is None or anchor <= now:
            continue  # what it reminds of has begun (or cannot be placed): nothing to remind
        fields = {
            "key": key,
            "person_id": person_id,
            "message_type": rule.message_type,
            "anchor": anchor,
            "due_at": reminder_due(anchor, rule.offset_hours),
            "event": without_people(body, trigger),
            "correlation_id": correlation_id,
        }
        scheduled.append(Scheduled(reminder_id(key, person_id), fields))
    cancelled = [
        reminder_id(key, person_id)
        for template in trigger.cancel_reminders
        if (key := reminder_key(template, body)) is not None
    ]
    return scheduled, cancelled

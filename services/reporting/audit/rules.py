"""The audit trail's rules — pure: one entry per domain event, and what an erasure leaves of it.

An entry holds the event's id, type, time and producer, its correlation id, who caused it (the
envelope's `actor`: `{subject, kind, roles, token_id}`, or the system when it names no one) and
the ids of what it concerns (`subjects.py`). Nothing else of the event is copied: no names, no
e-mails, no free text. Every value kept is shaped like an id, a code or a time (`ID`), so an
entry holds no personal data even when an event carries some where an id belongs.

A participant acting on their own is the actor `participant:<id>`; once they are erased, every
entry they caused — before or after the erasure arrives — names the actor `erased`, without the
token id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.reporting.audit.subjects import ID, KINDS, subjects_of
from services.reporting.projections.views import EventView

SYSTEM = "system"
ERASED = "erased"
UNKNOWN = "unknown"
ERASURE = "participant.erased"
PARTICIPANT_ACTOR = "participant:"

type Entry = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who caused an event, as an entry keeps it: ids and role names only."""

    subject: str
    kind: str
    roles: tuple[str, ...] = ()
    token_id: str | None = None

    def dump(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "roles": list(self.roles),
            "token_id": self.token_id,
        }


SYSTEM_ACTOR = Actor(SYSTEM, SYSTEM)
ERASED_ACTOR = Actor(ERASED, ERASED)


def _id_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and ID.fullmatch(value) else None


def actor_of(envelope: Mapping[str, Any]) -> Actor:
    """The envelope's `actor`, keeping only values shaped like ids; none → the system; a
    subject that is no id (an operator's e-mail given as `--actor`) → `unknown`."""
    raw = envelope.get("actor")
    if raw is None:
        return SYSTEM_ACTOR
    if not isinstance(raw, Mapping):
        return Actor(UNKNOWN, UNKNOWN)
    roles = raw.get("roles") or ()
    return Actor(
        subject=_id_or_none(raw.get("subject")) or UNKNOWN,
        kind=_id_or_none(raw.get("kind")) or UNKNOWN,
        roles=tuple(sorted({r for r in roles if _id_or_none(r)}))
        if isinstance(roles, list)
        else (),
        token_id=_id_or_none(raw.get("token_id")),
    )


def participant_actor(participant_id: str) -> str:
    """The actor subject of a participant acting on their own."""
    return f"{PARTICIPANT_ACTOR}{participant_id}"


def erased_participant(event: EventView) -> str | None:
    """The participant an erasure event erases; None for any other event."""
    if event.event_type != ERASURE:
        return None
    return _id_or_none(str(event.payload.get("participant_id") or ""))


def entry_of(event: EventView, erased: frozenset[str] = frozenset()) -> Entry:
    """The audit entry of `event`; an actor among the `erased` participants is `erased`."""
    payload = event.payload
    actor = actor_of(payload)
    if actor.subject.startswith(PARTICIPANT_ACTOR) and (
        actor.subject.removeprefix(PARTICIPANT_ACTOR) in erased
    ):
        actor = ERASED_ACTOR
    entry: Entry = {
        "_id": str(event.event_id),
        "stamp": event.stamp,
        "type": event.event_type,
        "occurred_at": event.occurred_at,
        "producer": _id_or_none(event.producer) or UNKNOWN,
        "correlation_id": _id_or_none(payload.get("correlation_id")),
        "actor": actor.dump(),
    }
    entry.update(subjects_of(event.event_type, payload))
    return entry


def entries_of(events: Iterable[EventView], erased: frozenset[str] = frozenset()) -> list[Entry]:
    """One entry per event id (a message published twice is one entry), erasures among the
    events themselves applied too."""
    events = list(events)
    erased = erased | {p for p in map(erased_participant, events) if p is not None}
    by_id = {str(event.event_id): entry_of(event, erased) for event in events}
    return list(by_id.values())


def actor_participants(events: Iterable[EventView]) -> set[str]:
    """The participants acting on their own among `events`' actors."""
    found = set()
    for event in events:
        subject = actor_of(event.payload).subject
        if subject.startswith(PARTICIPANT_ACTOR):
            found.add(subject.removeprefix(PARTICIPANT_ACTOR))
    return found


# --- reading -----------------------------------------------------------------------------------

FILTERS = (*KINDS, "actor")
"""What `GET /audit` filters on: a subject kind's id, or an actor's subject."""

ACTOR_FIELD = "actor.subject"
# Which filter's index finds the entries when several are given: the one likely to match fewest
# (a person or an exhibitor has tens of entries; a session, hundreds; an actor, thousands).
MOST_SELECTIVE_FIRST = (
    "token",
    "account",
    "participant",
    "exhibitor",
    "action_item",
    "report",
    "budget_line",
    "delegation",
    "session",
    ACTOR_FIELD,
)


def query_of(filters: Mapping[str, str | None]) -> dict[str, str]:
    """The entries' fields and values for the given `filters` (unknown names and empty values
    ignored), the most selective first."""
    query: dict[str, str] = {}
    for name in FILTERS:
        value = filters.get(name)
        if not value:
            continue
        if name == "delegation":  # a delegation's id is `<forum_id>:<code>`; entries keep the code
            value = value.rsplit(":", 1)[-1]
        if name == "account":  # a username is kept lower-cased
            value = value.lower()
        query[ACTOR_FIELD if name == "actor" else name] = value
    return {field: query[field] for field in MOST_SELECTIVE_FIRST if field in query}


def matches(entry: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """Whether `entry` meets every condition of `query` (as `query_of` makes it)."""
    for field, value in query.items():
        if field == ACTOR_FIELD:
            if (entry.get("actor") or {}).get("subject") != value:
                return False
        elif value not in (entry.get(field) or ()):
            return False
    return True


CSV_HEADER = (
    "event_id",
    "occurred_at",
    "type",
    "actor",
    "actor_kind",
    "actor_roles",
    "token_id",
    "correlation_id",
    *KINDS,
)


def csv_row(entry: Mapping[str, Any]) -> list[str]:
    """An entry as a CSV line (`CSV_HEADER`): several ids of one kind separated by spaces."""
    actor = entry.get("actor") or {}
    occurred = entry.get("occurred_at")
    return [
        str(entry["_id"]),
        occurred.isoformat() if isinstance(occurred, datetime) else str(occurred or ""),
        str(entry.get("type", "")),
        str(actor.get("subject", "")),
        str(actor.get("kind", "")),
        " ".join(actor.get("roles") or ()),
        str(actor.get("token_id") or ""),
        str(entry.get("correlation_id") or ""),
        *(" ".join(entry.get(kind) or ()) for kind in KINDS),
    ]

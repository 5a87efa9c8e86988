"""Conflicts of the draft: what stops a programme from being published (errors) or should be
looked at (warnings). Pure: sessions in, conflicts out, each with its reason in Spanish and
English. Found by sorting and sweeping (per room, per person), never by comparing all pairs
(`bench/scheduling_conflicts.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.scheduling.documents import SCHEDULED, SessionDocument
from shared import i18n
from shared.pack import EventPack

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Conflict:
    """One reason the programme cannot (error) or should not (warning) be published as it is."""

    kind: str
    severity: Severity
    sessions: tuple[str, ...]
    reason_es: str
    reason_en: str
    room: str | None = None
    person_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "sessions": list(self.sessions),
            "room": self.room,
            "person_id": self.person_id,
            "reason_es": self.reason_es,
            "reason_en": self.reason_en,
        }


@dataclass(frozen=True)
class Scheduled:
    """What conflict detection needs of a session."""

    code: str
    kind: str
    start: datetime
    end: datetime
    room: str | None = None
    parent: str | None = None
    expected_audience: int = 0
    people: tuple[tuple[str, str | None, str], ...] = ()  # (person key, name, role)

    @classmethod
    def from_document(cls, doc: SessionDocument) -> Scheduled:
        return cls(
            code=doc.code,
            kind=doc.kind,
            start=doc.starts_at,
            end=doc.ends_at,
            room=doc.room,
            parent=doc.parent,
            expected_audience=doc.expected_audience,
            people=tuple((p.key, p.name, p.role) for p in doc.people),
        )


@dataclass(frozen=True)
class VenueRules:
    """The frame sessions must fit: rooms and capacities, forum days and the venue's daily hours."""

    rooms: Mapping[str, int]
    dates: Sequence[date]
    opens: time
    closes: time
    tz: ZoneInfo

    @classmethod
    def from_pack(cls, pack: EventPack, opens: time, closes: time) -> VenueRules:
        return cls(
            rooms={room.code: room.capacity for room in pack.programme.rooms},
            dates=tuple(pack.forum.dates),
            opens=opens,
            closes=closes,
            tz=pack.forum.tz,
        )


def _related(a: Scheduled, b: Scheduled) -> bool:
    # A block and its own sessions share their room and their chair by design.
    return a.parent == b.code or b.parent == a.code


def overlapping_pairs(
    sessions: Iterable[Scheduled], keys: Callable[[Scheduled], Iterable[str]]
) -> Iterator[tuple[str, Scheduled, Scheduled]]:
    """(key, earlier, later) for every two sessions sharing a key whose times overlap.

    Sort-and-sweep per key: sessions sorted by start; a list of those still running is pruned of
    the ones that ended before the next start. Cost O(n log n + overlaps), not O(n²).
    """
    groups: dict[str, list[Scheduled]] = defaultdict(list)
    for session in sessions:
        for key in set(keys(session)):
            groups[key].append(session)
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda s: (s.start, s.end, s.code))
        running: list[Scheduled] = []
        for session in group:
            running = [other for other in running if other.end > session.start]
            for other in running:
                if not _related(other, session):
                    yield key, other, session
            running.append(session)


def _hhmm(moment: datetime, tz: ZoneInfo) -> str:
    return i18n.time_text(moment.astimezone(tz), "es")


def find_conflicts(sessions: Sequence[Scheduled], venue: VenueRules) -> list[Conflict]:
    """Every conflict of the scheduled (not cancelled) sessions, each with its reason."""
    tz = venue.tz
    found: list[Conflict] = []

    for room, a, b in overlapping_pairs(sessions, lambda s: [s.room] if s.room else []):
        found.append(
            Conflict(
                "room_double_booked",
                "error",
                (a.code, b.code),
                f"{a.code} ({_hhmm(a.start, tz)}-{_hhmm(a.end, tz)}) y {b.code} "
                f"({_hhmm(b.start, tz)}-{_hhmm(b.end, tz)}) ocupan la sala «{room}» a la vez.",
                f"{a.code} ({_hhmm(a.start, tz)}-{_hhmm(a.end, tz)}) and {b.code} "
                f"({_hhmm(b.start, tz)}-{_hhmm(b.end, tz)}) are both in room '{room}' at the same time.",
                room=room,
            )
        )

    names = {key: name for s in sessions for key, name, _ in s.people}
    for person, a, b in overlapping_pairs(sessions, lambda s: [key for key, _, _ in s.people]):
        who = names.get(person) or person
        found.append(
            Conflict(
                "person_double_booked",
                "error",
                (a.code, b.code),
                f"{who} debe estar en {a.code} y en {b.code} a la vez "
                f"({_hhmm(b.start, tz)}-{_hhmm(min(a.end, b.end), tz)}).",
                f"{who} is due in {a.code} and in {b.code} at the same time "
                f"({_hhmm(b.start, tz)}-{_hhmm(min(a.end, b.end), tz)}).",
                person_id=person,
            )
        )

    dates = set(venue.dates)
    first, last = min(venue.dates), max(venue.dates)
    for s in sessions:
        local_start, local_end = s.start.astimezone(tz), s.end.astimezone(tz)
        if local_start.date() not in dates or local_end.date() != local_start.date():
            found.append(
                Conflict(
                    "outside_venue_hours",
                    "error",
                    (s.code,),
                    f"{s.code} cae fuera de los días del foro "
                    f"({i18n.date_range(first, last, 'es')}).",
                    f"{s.code} falls outside the forum's days ({i18n.date_range(first, last, 'en')}).",
                    room=s.room,
                )
            )
        elif local_start.time() < venue.opens or local_end.time() > venue.closes:
            found.append(
                Conflict(
                    "outside_venue_hours",
                    "error",
                    (s.code,),
                    f"{s.code} ({_hhmm(s.start, tz)}-{_hhmm(s.end, tz)}) cae fuera del horario de la sede "
                    f"({i18n.time_text(venue.opens, 'es')}-{i18n.time_text(venue.closes, 'es')}).",
                    f"{s.code} ({_hhmm(s.start, tz)}-{_hhmm(s.end, tz)}) falls outside the venue's hours "
                    f"({i18n.time_text(venue.opens, 'en')}-{i18n.time_text(venue.closes, 'en')}).",
                    room=s.room,
                )
            )

        if s.room is not None:
            capacity = venue.rooms.get(s.room)
            if capacity is None:
                found.append(
                    Conflict(
                        "unknown_room",
                        "error",
                        (s.code,),
                        f"{s.code} usa la sala «{s.room}», que no existe en la sede.",
                        f"{s.code} uses room '{s.room}', which the venue does not have.",
                        room=s.room,
                    )
                )
            elif s.expected_audience > capacity:
                found.append(
                    Conflict(
                        "over_capacity",
                        "error",
                        (s.code,),
                        f"{s.code} espera {i18n.count(s.expected_audience, 'persona', 'personas', 'es')}; "
                        f"la sala «{s.room}» tiene {i18n.count(capacity, 'plaza', 'plazas', 'es')}.",
                        f"{s.code} expects {i18n.count(s.expected_audience, 'person', 'people', 'en')}; "
                        f"room '{s.room}' seats {i18n.number(capacity, 'en')}.",
                        room=s.room,
                    )
                )

    with_rapporteur = {
        s.code for s in sessions if any(role == "rapporteur" for _, _, role in s.people)
    }
    for s in sessions:
        if (
            s.kind == "session"
            and s.code not in with_rapporteur
            and s.parent not in with_rapporteur
        ):
            found.append(
                Conflict(
                    "no_rapporteur",
                    "warning",
                    (s.code,),
                    f"{s.code} no tiene relator: nadie recogerá sus conclusiones para la Memoria.",
                    f"{s.code} has no rapporteur: nobody will record its conclusions for the Memoria.",
                )
            )
    return found


def hard(conflicts: Iterable[Conflict]) -> list[Conflict]:
    return [c for c in conflicts if c.severity == "error"]


def scheduled(documents: Iterable[SessionDocument]) -> list[Scheduled]:
    return [Scheduled.from_document(d) for d in documents if d.status == SCHEDULED]

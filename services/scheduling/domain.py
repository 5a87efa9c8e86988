"""Scheduling's rules, free of I/O: the programme as documents, conflicts, releases, seats.

A session document (collection `sessions`, one per agenda item of the draft) holds the item
(times in UTC, room, titles), the people on it with their roles, and its seats: `confirmed` and
`waitlist`, lists of participant ids. The secretariat edits the draft; a *release* is an immutable
snapshot of it with a changelog against the previous release. Conflicts are found by sorting and
sweeping (per room, per person), never by comparing all pairs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.contracts.envelope import derive_id
from shared.contracts.scheduling import (
    AffectedPerson,
    ChangeSummary,
    ProgrammePublished,
    SessionCancelled,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
    SessionSignupWaitlisted,
)
from shared.decisions import Change
from shared.pack import EventPack, ProgrammeItem

PRODUCER = "scheduling"
ROLES = ("speaker", "panelist", "moderator", "chair", "rapporteur")
SCHEDULED, CANCELLED = "scheduled", "cancelled"
# Items people sign up for: not breaks (everyone), not blocks (their sessions are the unit).
SIGNUP_KINDS = frozenset({"session", "inauguration", "expo_opening", "closing"})
ERASED_NAME = None  # an erased person's name is removed, the seat or role stays counted


def session_id(forum_id: str, code: str) -> str:
    return f"{forum_id}:{code}"


def person_id_for(forum_id: str, email: str | None, name: str, affiliation: str | None) -> str:
    """A stable id for a person on the programme: by e-mail when known, else name and affiliation."""
    basis = (
        email.lower() if email else f"{name.strip().lower()}|{(affiliation or '').strip().lower()}"
    )
    return "p-" + derive_id(forum_id, "person", basis).hex[:16]


# --- seeding from the pack --------------------------------------------------------------------


def seed_document(pack: EventPack, item: ProgrammeItem, now: datetime) -> dict[str, Any]:
    """The draft document of one pack agenda item (inserted only when absent)."""
    starts_at, ends_at = pack.item_datetimes(item)
    return {
        "forum_id": pack.forum.id,
        "code": item.code,
        "kind": item.kind,
        "parent": item.parent,
        "title": item.title.model_dump(),
        "description": item.description.model_dump() if item.description else None,
        "topics": [{"code": t.code, "title": t.title.model_dump()} for t in item.topics],
        "starts_at": starts_at.astimezone(ZoneInfo("UTC")),
        "ends_at": ends_at.astimezone(ZoneInfo("UTC")),
        "room": item.room,
        "expected_audience": item.expected_audience,
        "seats": None,
        "status": SCHEDULED,
        "cancel_reason": None,
        "people": [],
        "confirmed": [],
        "waitlist": [],
        "origin": "pack",
        "created_at": now,
        "updated_at": now,
    }


PACK_FIELDS = (
    "kind",
    "parent",
    "title",
    "description",
    "topics",
    "starts_at",
    "ends_at",
    "room",
    "expected_audience",
)


def resync_from_pack(
    doc: Mapping[str, Any] | None, seeded: Mapping[str, Any], now: datetime
) -> Change | None:
    """What the secretariat never edited of a pack item follows the pack (a deployment moved the
    forum's dates, say); a field edited in the draft keeps the secretariat's value."""
    if doc is None or doc.get("origin") != "pack":
        return None
    kept = set(doc.get("edited_fields", ()))
    changed = {
        name: seeded[name]
        for name in PACK_FIELDS
        if name not in kept and doc.get(name) != seeded[name]
    }
    return Change(set={**changed, "updated_at": now}) if changed else None


# --- conflicts --------------------------------------------------------------------------------

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
    def from_document(cls, doc: Mapping[str, Any]) -> Scheduled:
        return cls(
            code=doc["code"],
            kind=doc["kind"],
            start=doc["starts_at"],
            end=doc["ends_at"],
            room=doc.get("room"),
            parent=doc.get("parent"),
            expected_audience=doc.get("expected_audience", 0),
            people=tuple(
                (p.get("participant_id") or p["person_id"], p.get("name"), p["role"])
                for p in doc.get("people", ())
            ),
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
    return moment.astimezone(tz).strftime("%H:%M")


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
                    f"{s.code} cae fuera de los días del foro ({first:%d/%m/%Y}-{last:%d/%m/%Y}).",
                    f"{s.code} falls outside the forum's days ({first:%Y-%m-%d} to {last:%Y-%m-%d}).",
                    room=s.room,
                )
            )
        elif local_start.time() < venue.opens or local_end.time() > venue.closes:
            found.append(
                Conflict(
                    "outside_venue_hours",
                    "error",
                    (s.code,),
                    f"{s.code} ({local_start:%H:%M}-{local_end:%H:%M}) cae fuera del horario de la sede "
                    f"({venue.opens:%H:%M}-{venue.closes:%H:%M}).",
                    f"{s.code} ({local_start:%H:%M}-{local_end:%H:%M}) falls outside the venue's hours "
                    f"({venue.opens:%H:%M}-{venue.closes:%H:%M}).",
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
                        f"{s.code} espera {s.expected_audience} personas; la sala «{s.room}» tiene {capacity} plazas.",
                        f"{s.code} expects {s.expected_audience} people; room '{s.room}' seats {capacity}.",
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


def scheduled(documents: Iterable[Mapping[str, Any]]) -> list[Scheduled]:
    return [Scheduled.from_document(d) for d in documents if d.get("status") == SCHEDULED]


# --- releases ---------------------------------------------------------------------------------

PUBLIC_PERSON_FIELDS = ("person_id", "name", "role", "affiliation", "country", "participant_id")


def snapshot(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The published form of a session: no contact details, no seat lists (counts only)."""
    return {
        "code": doc["code"],
        "kind": doc["kind"],
        "parent": doc.get("parent"),
        "title": doc["title"],
        "description": doc.get("description"),
        "topics": doc.get("topics", []),
        "starts_at": doc["starts_at"],
        "ends_at": doc["ends_at"],
        "room": doc.get("room"),
        "expected_audience": doc.get("expected_audience", 0),
        "status": doc["status"],
        "cancel_reason": doc.get("cancel_reason"),
        "people": [
            {name: p.get(name) for name in PUBLIC_PERSON_FIELDS} for p in doc.get("people", [])
        ],
        "seats": doc.get("seats"),
        "signed_up": len(doc.get("confirmed", [])),
        "waitlisted": len(doc.get("waitlist", [])),
    }


def _people_key(snap: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(p["person_id"], p["role"]) for p in snap.get("people", [])}


def changelog(
    previous: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> ChangeSummary:
    """What `current` (snapshots) changes relative to `previous` (the last release's snapshots)."""
    before = {s["code"]: s for s in previous if s["status"] == SCHEDULED}
    added, moved, cancelled, people, updated = [], [], [], [], []
    now_codes = set()
    for snap in current:
        code = snap["code"]
        if snap["status"] != SCHEDULED:
            if code in before:
                cancelled.append(code)
            continue
        now_codes.add(code)
        old = before.get(code)
        if old is None:
            added.append(code)
            continue
        if (old["starts_at"], old["ends_at"], old["room"]) != (
            snap["starts_at"],
            snap["ends_at"],
            snap["room"],
        ):
            moved.append(code)
        if _people_key(old) != _people_key(snap):
            people.append(code)
        if any(
            old.get(k) != snap.get(k)
            for k in ("title", "description", "topics", "expected_audience")
        ):
            updated.append(code)
    cancelled.extend(code for code in before if code not in now_codes and code not in cancelled)
    return ChangeSummary(
        added=sorted(added),
        moved=sorted(moved),
        cancelled=sorted(cancelled),
        people_changed=sorted(people),
        updated=sorted(updated),
    )


def slot(snap: Mapping[str, Any], pack: EventPack) -> dict[str, Any]:
    room = pack.programme.room(snap["room"]) if snap.get("room") else None
    return {
        "starts_at": snap["starts_at"],
        "ends_at": snap["ends_at"],
        "time_zone": pack.forum.time_zone,
        "room": snap.get("room"),
        "room_name": room.name.model_dump() if room else None,
    }


def affected_people(
    doc: Mapping[str, Any], attendees: Mapping[str, Mapping[str, Any]]
) -> list[AffectedPerson]:
    """Everyone a change to the session concerns, each once: its people, then its attendees.

    `attendees` maps participant id → projected participant (name, contacts, language).
    """
    seen: set[str] = set()
    out: list[AffectedPerson] = []
    for person in doc.get("people", []):
        key = person.get("participant_id") or person["person_id"]
        if key in seen:
            continue
        seen.add(key)
        registered = attendees.get(person.get("participant_id") or "", {})
        out.append(
            AffectedPerson(
                relation=person["role"],
                participant_id=person.get("participant_id"),
                person_id=person["person_id"],
                name=person.get("name"),
                # Registration is the source of truth for a registered person's contacts.
                email=registered.get("email") or person.get("email")
                if not registered.get("erased")
                else None,
                phone=registered.get("phone") or person.get("phone")
                if not registered.get("erased")
                else None,
                language=registered.get("language") or person.get("language") or "es",
            )
        )
    for relation, ids in (
        ("attendee", doc.get("confirmed", [])),
        ("waitlisted", doc.get("waitlist", [])),
    ):
        for participant_id in ids:
            if participant_id in seen:
                continue
            seen.add(participant_id)
            who = attendees.get(participant_id, {})
            out.append(
                AffectedPerson(
                    relation=relation,
                    participant_id=participant_id,
                    name=display_name(who),
                    email=who.get("email"),
                    phone=who.get("phone"),
                    language=who.get("language") or "es",
                )
            )
    return out


def participants_on(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Registration ids of everyone on or signed up for the sessions: whose contacts to look up."""
    ids: set[str] = set()
    for doc in documents:
        ids.update(doc.get("confirmed", []), doc.get("waitlist", []))
        ids.update(p["participant_id"] for p in doc.get("people", []) if p.get("participant_id"))
    return sorted(ids)


def display_name(participant: Mapping[str, Any]) -> str | None:
    parts = [participant.get("given_name"), participant.get("family_name")]
    return " ".join(p for p in parts if p) or None


@dataclass
class Release:
    """A release ready to be written: its document and the events in its outbox."""

    document: dict[str, Any]
    events: list[Any] = field(default_factory=list)


def build_release(
    pack: EventPack,
    number: int,
    documents: Sequence[Mapping[str, Any]],
    previous: Sequence[Mapping[str, Any]],
    warnings: Sequence[Conflict],
    attendees: Mapping[str, Mapping[str, Any]],
    now: datetime,
    note: str | None = None,
) -> Release:
    """Release `number` of the draft `documents`, with its changelog and announcements.

    Event ids derive from the forum, release number and session, so a retried publication of
    the same release produces the same events (consumers drop the duplicates).
    """
    forum_id = pack.forum.id
    snaps = sorted((snapshot(d) for d in documents), key=lambda s: (s["starts_at"], s["code"]))
    changes = changelog(previous, snaps)
    by_code = {d["code"]: d for d in documents}
    before = {s["code"]: s for s in previous}
    events: list[Any] = []
    for code in changes.moved:
        doc = by_code[code]
        events.append(
            SessionRescheduled(
                event_id=derive_id(forum_id, "release", number, "session.rescheduled", code),
                producer=PRODUCER,
                forum_id=forum_id,
                release=number,
                session_code=code,
                title=doc["title"],
                previous=slot(before[code], pack),
                current=slot(snapshot(doc), pack),
                affected=affected_people(doc, attendees),
            )
        )
    for code in changes.cancelled:
        doc = by_code.get(code)
        events.append(
            SessionCancelled(
                event_id=derive_id(forum_id, "release", number, "session.cancelled", code),
                producer=PRODUCER,
                forum_id=forum_id,
                release=number,
                session_code=code,
                title=(doc or before[code])["title"],
                previous=slot(before[code], pack),
                reason=(doc or {}).get("cancel_reason"),
                affected=affected_people(doc or before[code], attendees),
            )
        )
    published = ProgrammePublished(
        event_id=derive_id(forum_id, "release", number, "programme.published"),
        producer=PRODUCER,
        forum_id=forum_id,
        release=number,
        published_at=now,
        sessions=sum(1 for s in snaps if s["status"] == SCHEDULED),
        warnings=len(warnings),
        changes=changes,
        note=note,
    )
    document = {
        "forum_id": forum_id,
        "number": number,
        "published_at": now,
        "note": note,
        "changes": changes.model_dump(),
        "warnings": [w.as_dict() for w in warnings],
        "sessions": snaps,
    }
    return Release(document, [published, *events])


# --- draft edits ------------------------------------------------------------------------------


def edit(doc: Mapping[str, Any] | None, fields: Mapping[str, Any], now: datetime) -> Change | None:
    if doc is None:
        return None
    changed = {k: v for k, v in fields.items() if doc.get(k) != v}
    if not changed:
        return None
    edited = sorted(set(doc.get("edited_fields", ())) | set(changed))
    return Change(set={**changed, "edited_fields": edited, "updated_at": now})


def set_people(
    doc: Mapping[str, Any] | None, people: list[dict[str, Any]], now: datetime
) -> Change | None:
    """Replace the people on a session, keeping each returning person's invitation record."""
    if doc is None:
        return None
    previous = {(p["person_id"], p["role"]): p for p in doc.get("people", [])}
    merged = []
    for person in people:
        old = previous.get((person["person_id"], person["role"]), {})
        merged.append(
            {
                **person,
                "invitation": old.get("invitation"),
                "participant_id": person.get("participant_id") or old.get("participant_id"),
            }
        )
    return Change(set={"people": merged, "updated_at": now})


# --- seats ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatOutcome:
    status: Literal["confirmed", "waitlisted", "refused"]
    position: int = 0
    reason: str | None = None


def capacity_of(doc: Mapping[str, Any], rooms: Mapping[str, int]) -> int | None:
    """Seats for sign-up: set by the secretariat, else the room's capacity; None = no limit."""
    if doc.get("seats") is not None:
        return doc["seats"]
    return rooms.get(doc.get("room") or "")


def _signup_payload(doc: Mapping[str, Any], participant_id: str, pack: EventPack) -> dict[str, Any]:
    return {
        "producer": PRODUCER,
        "forum_id": doc["forum_id"],
        "session_code": doc["code"],
        "participant_id": uuid.UUID(participant_id),
        "title": doc["title"],
        "slot": slot(snapshot(doc), pack),
    }


def take_seat(
    doc: Mapping[str, Any] | None, participant_id: str, pack: EventPack, rooms: Mapping[str, int]
) -> tuple[Change | None, SeatOutcome]:
    """A seat if one is free, else a waitlist place; asking twice changes nothing."""
    if doc is None:
        return None, SeatOutcome("refused", reason="session: no such session")
    confirmed, waitlist = list(doc.get("confirmed", [])), list(doc.get("waitlist", []))
    if participant_id in confirmed:
        return None, SeatOutcome("confirmed")
    if participant_id in waitlist:
        return None, SeatOutcome("waitlisted", waitlist.index(participant_id) + 1)
    if doc["status"] != SCHEDULED:
        return None, SeatOutcome("refused", reason="session: the session is cancelled")
    if doc["kind"] not in SIGNUP_KINDS:
        return None, SeatOutcome("refused", reason=f"session: a {doc['kind']} takes no sign-ups")
    capacity = capacity_of(doc, rooms)
    payload = _signup_payload(doc, participant_id, pack)
    # Nobody jumps the queue: a free seat goes to the waitlist first (see `give_up_seat`).
    if (capacity is None or len(confirmed) < capacity) and not waitlist:
        confirmed.append(participant_id)
        return Change(
            set={"confirmed": confirmed}, events=[SessionSignupConfirmed(**payload)]
        ), SeatOutcome("confirmed")
    waitlist.append(participant_id)
    outcome = SeatOutcome("waitlisted", len(waitlist))
    return (
        Change(
            set={"waitlist": waitlist},
            events=[SessionSignupWaitlisted(**payload, position=len(waitlist))],
        ),
        outcome,
    )


def give_up_seat(
    doc: Mapping[str, Any] | None, participant_id: str, pack: EventPack, rooms: Mapping[str, int]
) -> tuple[Change | None, list[str]]:
    """Free the participant's seat or waitlist place and promote the first waiting; idempotent."""
    if doc is None:
        return None, []
    confirmed, waitlist = list(doc.get("confirmed", [])), list(doc.get("waitlist", []))
    if participant_id in confirmed:
        was = "confirmed"
        confirmed.remove(participant_id)
    elif participant_id in waitlist:
        was = "waitlisted"
        waitlist.remove(participant_id)
    else:
        return None, []
    events: list[Any] = [
        SessionSignupCancelled(**_signup_payload(doc, participant_id, pack), was=was)
    ]
    capacity = capacity_of(doc, rooms)
    promoted: list[str] = []
    while waitlist and (capacity is None or len(confirmed) < capacity):
        promoted.append(waitlist.pop(0))
        confirmed.append(promoted[-1])
        events.append(SessionSignupPromoted(**_signup_payload(doc, promoted[-1], pack)))
    return Change(set={"confirmed": confirmed, "waitlist": waitlist}, events=events), promoted


# --- a participant's time: the attendance document -------------------------------------------


def reserve_time(
    attendance: Mapping[str, Any] | None, code: str, start: datetime, end: datetime
) -> tuple[Change | None, str | None]:
    """Hold the session's time for the participant unless another held session overlaps it.

    Returns (change, None) or (None, code of the overlapping session). Holding it already is fine.
    """
    holds = list((attendance or {}).get("holds", []))
    if any(h["code"] == code for h in holds):
        return None, None
    for hold in holds:
        if hold["starts_at"] < end and start < hold["ends_at"]:
            return None, hold["code"]
    holds.append({"code": code, "starts_at": start, "ends_at": end})
    return Change(set={"holds": holds}), None


def release_time(attendance: Mapping[str, Any] | None, code: str) -> Change | None:
    holds = list((attendance or {}).get("holds", []))
    kept = [h for h in holds if h["code"] != code]
    return Change(set={"holds": kept}) if len(kept) != len(holds) else None


def retime_hold(
    attendance: Mapping[str, Any] | None, code: str, start: datetime, end: datetime
) -> Change | None:
    holds = list((attendance or {}).get("holds", []))
    updated = [
        ({**h, "starts_at": start, "ends_at": end} if h["code"] == code else h) for h in holds
    ]
    return Change(set={"holds": updated}) if updated != holds else None


# --- the participants projection ----------------------------------------------------------------

PROJECTED = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "language",
    "country",
    "organisation",
    "category",
    "status",
)
# What an erasure keeps: the status and the groups a participant is counted in.
COUNTED = ("language", "country", "category", "status")


def project_participant(
    doc: Mapping[str, Any] | None,
    participant: Mapping[str, Any],
    occurred_at: datetime,
    *,
    registers: bool = False,
) -> Change | None:
    """The latest registration snapshot of a participant; older snapshots are ignored.

    An erased participant stays erased: only a confirmation that happened after the erasure (the
    person registered again, `registers`) brings personal data back. A snapshot that arrives after
    the erasure still moves what counts (status, category…) when it is newer than what is held, so
    the document ends the same whether the erasure overtook it or not.
    """
    # When the person last confirmed: kept in any order, so a late erasure can tell a new start.
    registered = (
        {"registered_at": occurred_at}
        if registers
        and (doc is None or doc.get("registered_at") is None or doc["registered_at"] < occurred_at)
        else {}
    )
    if doc is not None and doc.get("erased") and not (registers and occurred_at > doc["erased_at"]):
        parked: dict[str, Any] = dict(registered)
        if doc.get("status_as_of") is None or doc["status_as_of"] < occurred_at:
            parked |= {name: participant.get(name) for name in COUNTED}
            parked |= {"forum_id": participant["forum_id"], "status_as_of": occurred_at}
        return Change(set=parked) if parked else None
    if doc is not None and doc.get("as_of") and doc["as_of"] > occurred_at:
        return Change(set=registered) if registered else None
    fields = {name: participant.get(name) for name in PROJECTED}
    fields["forum_id"] = participant["forum_id"]
    fields["as_of"] = occurred_at
    fields["status_as_of"] = occurred_at
    fields["erased"] = False
    return Change(set={**fields, **registered})


def erase_participant(doc: Mapping[str, Any] | None, erased_at: datetime) -> Change:
    """Forget the participant's personal data. An erasure that arrives after the person registered
    again (a confirmation that happened after it) only records when it happened."""
    if (
        doc is not None
        and not doc.get("erased")
        and doc.get("registered_at")
        and doc["registered_at"] > erased_at
    ):
        return Change(set={"erased_at": max(erased_at, doc.get("erased_at") or erased_at)})
    return Change(
        set={
            "given_name": None,
            "family_name": None,
            "email": None,
            "phone": None,
            "organisation": None,
            "erased": True,
            "erased_at": erased_at,
            "as_of": erased_at,
        }
    )


def erase_from_people(
    doc: Mapping[str, Any] | None, participant_id: str, now: datetime
) -> Change | None:
    """Anonymise a participant wherever they appear on a session; roles and counts remain."""
    if doc is None:
        return None
    people = [
        {
            **p,
            "name": ERASED_NAME,
            "email": None,
            "phone": None,
            "affiliation": None,
            "erased": True,
        }
        if p.get("participant_id") == participant_id and not p.get("erased")
        else p
        for p in doc.get("people", [])
    ]
    if people == doc.get("people", []):
        return None
    return Change(set={"people": people, "updated_at": now})


def link_people(doc: Mapping[str, Any] | None, participant_id: str, email: str) -> Change | None:
    """Link people on a session to the registered participant with the same e-mail."""
    if doc is None:
        return None
    people = [
        {**p, "participant_id": participant_id}
        if (p.get("email") or "").lower() == email.lower() and not p.get("participant_id")
        else p
        for p in doc.get("people", [])
    ]
    if people == doc.get("people", []):
        return None
    return Change(set={"people": people})


# --- invitations and travel support ---------------------------------------------------------

InvitationStatus = Literal["invited", "accepted", "declined"]
INVITATION_MOVES: dict[str | None, set[str]] = {
    None: {"invited"},
    "declined": {"invited"},
    "invited": {"accepted", "declined"},
    "accepted": {"declined"},
}


def find_person(doc: Mapping[str, Any], person_id: str) -> dict[str, Any] | None:
    return next((p for p in doc.get("people", []) if p["person_id"] == person_id), None)


def move_invitation(
    doc: Mapping[str, Any] | None,
    person_id: str,
    to: InvitationStatus,
    event: Any,
    now: datetime,
    travel_support: bool = False,
) -> tuple[Change | None, str | None]:
    """Invite, accept or decline; returns (change, refusal reason)."""
    if doc is None:
        return None, "session: no such session"
    person = find_person(doc, person_id)
    if person is None:
        return None, "person_id: not on this session"
    current = (person.get("invitation") or {}).get("status")
    if current == to:
        return None, None
    if to not in INVITATION_MOVES.get(current, set()):
        return None, f"invitation: cannot go from {current or 'not invited'} to {to}"
    people = []
    for p in doc["people"]:
        if p["person_id"] == person_id:
            invitation = dict(p.get("invitation") or {})
            invitation.update(status=to, updated_at=now)
            if to == "invited":
                invitation["travel_support"] = travel_support
            p = {**p, "invitation": invitation}
        people.append(p)
    return Change(set={"people": people, "updated_at": now}, events=[event]), None


def commit_support(
    ledger: Mapping[str, Any] | None, key: str, amount: Decimal, line_amount: Decimal
) -> tuple[Change | None, Decimal, str | None]:
    """Add a commitment to the budget-line ledger unless it would exceed the line.

    Returns (change, total after, refusal reason). A key already committed is not added again.
    """
    commitments = list((ledger or {}).get("commitments", []))
    total = sum((Decimal(c["amount"]) for c in commitments), Decimal(0))
    if any(c["key"] == key for c in commitments):
        return None, total, None
    if total + amount > line_amount:
        left = line_amount - total
        return (
            None,
            total,
            f"amount: {amount} exceeds what is left on the panelist-support line ({left} of {line_amount})",
        )
    commitments.append({"key": key, "amount": str(amount)})
    return Change(set={"commitments": commitments}), total + amount, None


def cancel_support(
    ledger: Mapping[str, Any] | None, key: str
) -> tuple[Change | None, Decimal | None, Decimal]:
    """Withdraw a commitment; returns (change, amount released or None, total still committed)."""
    commitments = list((ledger or {}).get("commitments", []))
    kept = [c for c in commitments if c["key"] != key]
    total = sum((Decimal(c["amount"]) for c in kept), Decimal(0))
    if len(kept) == len(commitments):
        return None, None, total
    released = next(Decimal(c["amount"]) for c in commitments if c["key"] == key)
    return Change(set={"commitments": kept}), released, total

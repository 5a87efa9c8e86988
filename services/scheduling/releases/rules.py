"""Releases: the draft published as an immutable, numbered snapshot with a changelog against the
previous release, and one announcement per session it moved or cancelled. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.scheduling.conflicts.rules import Conflict
from services.scheduling.documents import (
    PRODUCER,
    SCHEDULED,
    ParticipantProjection,
    Person,
    PublicPerson,
    SessionDocument,
    SessionSnapshot,
    dump_all,
)
from shared.contracts.envelope import Event, derive_id
from shared.contracts.scheduling import (
    AffectedPerson,
    ChangeSummary,
    LocalizedText,
    ProgrammePublished,
    SessionCancelled,
    SessionRescheduled,
    Slot,
)
from shared.pack import EventPack

PUBLIC_PERSON_FIELDS = ("person_id", "name", "role", "affiliation", "country", "participant_id")
DESCRIPTIVE = ("title", "description", "topics", "expected_audience")


def snapshot(doc: SessionDocument) -> SessionSnapshot:
    """The published form of a session: no contact details, no seat lists (counts only)."""
    return SessionSnapshot.model_validate(
        {
            "code": doc.code,
            "kind": doc.kind,
            "parent": doc.parent,
            "title": doc.title,
            "description": doc.description,
            "topics": doc.topics,
            "starts_at": doc.starts_at,
            "ends_at": doc.ends_at,
            "room": doc.room,
            "expected_audience": doc.expected_audience,
            "status": doc.status,
            "cancel_reason": doc.cancel_reason,
            "people": [
                {name: getattr(p, name) for name in PUBLIC_PERSON_FIELDS} for p in doc.people
            ],
            "seats": doc.seats,
            "signed_up": len(doc.confirmed),
            "waitlisted": len(doc.waitlist),
        }
    )


def _people_key(snap: SessionSnapshot) -> set[tuple[str, str]]:
    return {(p.person_id, p.role) for p in snap.people}


def changelog(
    previous: Sequence[SessionSnapshot], current: Sequence[SessionSnapshot]
) -> ChangeSummary:
    """What `current` changes relative to `previous` (the last release's snapshots)."""
    before = {s.code: s for s in previous if s.status == SCHEDULED}
    added, moved, cancelled, people, updated = [], [], [], [], []
    now_codes = set()
    for snap in current:
        code = snap.code
        if snap.status != SCHEDULED:
            if code in before:
                cancelled.append(code)
            continue
        now_codes.add(code)
        old = before.get(code)
        if old is None:
            added.append(code)
            continue
        if (old.starts_at, old.ends_at, old.room) != (snap.starts_at, snap.ends_at, snap.room):
            moved.append(code)
        if _people_key(old) != _people_key(snap):
            people.append(code)
        if any(getattr(old, k) != getattr(snap, k) for k in DESCRIPTIVE):
            updated.append(code)
    cancelled.extend(code for code in before if code not in now_codes and code not in cancelled)
    return ChangeSummary(
        added=sorted(added),
        moved=sorted(moved),
        cancelled=sorted(cancelled),
        people_changed=sorted(people),
        updated=sorted(updated),
    )


def slot(snap: SessionSnapshot, pack: EventPack) -> Slot:
    room = pack.programme.room(snap.room) if snap.room else None
    return Slot(
        starts_at=snap.starts_at,
        ends_at=snap.ends_at,
        time_zone=pack.forum.time_zone,
        room=snap.room,
        room_name=LocalizedText.model_validate(room.name.model_dump()) if room else None,
    )


def title_of(session: SessionDocument | SessionSnapshot) -> LocalizedText:
    return LocalizedText.model_validate(session.title)


def affected_people(
    people: Sequence[Person | PublicPerson],
    confirmed: Sequence[str],
    waitlist: Sequence[str],
    attendees: Mapping[str, ParticipantProjection],
) -> list[AffectedPerson]:
    """Everyone a change to a session concerns, each once: its people, then its attendees.

    `attendees` maps participant id → projected participant (name, contacts, language).
    """
    seen: set[str] = set()
    out: list[AffectedPerson] = []
    for person in people:
        key = person.participant_id or person.person_id
        if key in seen:
            continue
        seen.add(key)
        registered = attendees.get(person.participant_id or "")
        erased = registered is not None and registered.erased
        # Registration is the source of truth for a registered person's contacts.
        email = getattr(person, "email", None)
        phone = getattr(person, "phone", None)
        out.append(
            AffectedPerson.model_validate(
                {
                    "relation": person.role,
                    "participant_id": person.participant_id,
                    "person_id": person.person_id,
                    "name": person.name,
                    "email": None if erased else (registered and registered.email) or email,
                    "phone": None if erased else (registered and registered.phone) or phone,
                    "language": (registered and registered.language)
                    or getattr(person, "language", None)
                    or "es",
                }
            )
        )
    for relation, ids in (("attendee", confirmed), ("waitlisted", waitlist)):
        for participant_id in ids:
            if participant_id in seen:
                continue
            seen.add(participant_id)
            who = attendees.get(participant_id)
            out.append(
                AffectedPerson.model_validate(
                    {
                        "relation": relation,
                        "participant_id": participant_id,
                        "name": who.display_name if who else None,
                        "email": who.email if who else None,
                        "phone": who.phone if who else None,
                        "language": (who.language if who else None) or "es",
                    }
                )
            )
    return out


def affected_by(
    doc: SessionDocument, attendees: Mapping[str, ParticipantProjection]
) -> list[AffectedPerson]:
    return affected_people(doc.people, doc.confirmed, doc.waitlist, attendees)


def participants_on(documents: Iterable[SessionDocument]) -> list[str]:
    """Registration ids of everyone on or signed up for the sessions: whose contacts to look up."""
    ids: set[str] = set()
    for doc in documents:
        ids.update(doc.confirmed, doc.waitlist)
        ids.update(p.participant_id for p in doc.people if p.participant_id)
    return sorted(ids)


@dataclass
class Release:
    """A release ready to be written: its document and the events in its outbox."""

    document: dict[str, Any]
    events: list[Event] = field(default_factory=list)


def build_release(
    pack: EventPack,
    number: int,
    documents: Sequence[SessionDocument],
    previous: Sequence[SessionSnapshot],
    warnings: Sequence[Conflict],
    attendees: Mapping[str, ParticipantProjection],
    now: datetime,
    note: str | None = None,
) -> Release:
    """Release `number` of the draft `documents`, with its changelog and announcements.

    Event ids derive from the forum, release number and session, so a retried publication of
    the same release produces the same events (consumers drop the duplicates).
    """
    forum_id = pack.forum.id
    snaps = sorted((snapshot(d) for d in documents), key=lambda s: (s.starts_at, s.code))
    changes = changelog(previous, snaps)
    by_code = {d.code: d for d in documents}
    before = {s.code: s for s in previous}
    events: list[Event] = []
    for code in changes.moved:
        doc = by_code[code]
        events.append(
            SessionRescheduled(
                event_id=derive_id(forum_id, "release", number, "session.rescheduled", code),
                producer=PRODUCER,
                forum_id=forum_id,
                release=number,
                session_code=code,
                title=title_of(doc),
                previous=slot(before[code], pack),
                current=slot(snapshot(doc), pack),
                affected=affected_by(doc, attendees),
            )
        )
    for code in changes.cancelled:
        found = by_code.get(code)
        old = before[code]
        events.append(
            SessionCancelled(
                event_id=derive_id(forum_id, "release", number, "session.cancelled", code),
                producer=PRODUCER,
                forum_id=forum_id,
                release=number,
                session_code=code,
                title=title_of(found or old),
                previous=slot(old, pack),
                reason=found.cancel_reason if found else None,
                affected=affected_by(found, attendees)
                if found
                else affected_people(old.people, (), (), attendees),
            )
        )
    published = ProgrammePublished(
        event_id=derive_id(forum_id, "release", number, "programme.published"),
        producer=PRODUCER,
        forum_id=forum_id,
        release=number,
        published_at=now,
        sessions=sum(1 for s in snaps if s.status == SCHEDULED),
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
        "sessions": dump_all(snaps),
    }
    return Release(document, [published, *events])

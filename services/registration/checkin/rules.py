"""Check-in, free of I/O.

A check-in is recorded on the participant document under `checkins`, keyed by an id derived from
(participant, point, local date): scanning the same badge at the same point on the same day again
finds the key and changes nothing, so `attendee.checked_in` is published once.

A scan may carry when it was made (`scanned_at`, a door scanner that queued it while offline) and
the scanner's own id for it (`scan_id`): the day is the scan's, not the sync's, so a scan queued
before midnight counts for its own day; and the replay of the very scan that checked the person in
is recognised by its id (answered as that first scan was, nothing recorded again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.registration.badges.rules import may_hold_badge
from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import PRODUCER, problem
from shared.contracts.envelope import FieldProblem, derive_id
from shared.contracts.registration import AttendeeCheckedIn
from shared.decisions import Change
from shared.pack import Forum

SCAN_CLOCK_SKEW = timedelta(minutes=1)
"""How far ahead of registration's clock a scanner's clock may be."""
SCAN_MAX_AGE = timedelta(hours=24)
"""The oldest queued scan accepted: a scanner offline longer brings its scans to the desk."""


@dataclass(frozen=True)
class CheckinOutcome:
    checkin_id: str
    first: bool
    replayed: bool = False  # the same scan (`scan_id`) sent again: answered as it was first


def scan_time_refusal(scanned_at: datetime, now: datetime) -> FieldProblem | None:
    """Why a scan's own time is not accepted: no time zone, in the future beyond the clocks' skew,
    or older than a day; None when it is."""
    if scanned_at.tzinfo is None or scanned_at.utcoffset() is None:
        return problem(
            "scanned_at",
            "scanned_at_without_offset",
            "La hora del escaneo debe indicar su zona horaria (p. ej. 2025-05-12T09:30:00Z).",
            "The scan's time must carry its time zone offset (e.g. 2025-05-12T09:30:00Z).",
        )
    if scanned_at > now + SCAN_CLOCK_SKEW:
        return problem(
            "scanned_at",
            "scanned_at_in_future",
            "La hora del escaneo está en el futuro: revise el reloj del dispositivo.",
            "The scan's time is in the future: check the scanning device's clock.",
        )
    if scanned_at < now - SCAN_MAX_AGE:
        hours = int(SCAN_MAX_AGE.total_seconds() // 3600)
        return problem(
            "scanned_at",
            "scanned_at_too_old",
            f"El escaneo tiene más de {hours} horas: registre la asistencia en el mostrador.",
            f"The scan is more than {hours} hours old: record the attendance at the desk.",
        )
    return None


def checkin_window_refusal(forum: Forum, now: datetime, margin: timedelta) -> FieldProblem | None:
    """Why nobody checks in at `now`: before the forum's first day or after its last (venue time),
    give or take `margin` (set-up the evening before, a late closing); None inside the window."""
    opens, closes = forum.starts_at - margin, forum.ends_at + margin
    days = f"{forum.dates[0]:%Y-%m-%d} – {forum.dates[-1]:%Y-%m-%d} ({forum.time_zone})"
    if now < opens:
        return problem(
            "day",
            "checkin_not_open",
            f"El registro de asistencia aún no está abierto: el foro se celebra del {days}.",
            f"Check-in is not open yet: the forum runs {days}.",
        )
    if now >= closes:
        return problem(
            "day",
            "checkin_closed",
            f"El registro de asistencia está cerrado: el foro se celebró del {days}.",
            f"Check-in is closed: the forum ran {days}.",
        )
    return None


def checkin_id(participant_id: str, point: str, day: date) -> str:
    return str(derive_id("checkin", participant_id, point, day.isoformat()))


def check_in(
    document: ParticipantDocument,
    point: str,
    day: date,
    now: datetime,
    scan_id: str | None = None,
) -> tuple[Change | None, CheckinOutcome]:
    """Record the first check-in of the day at `point` (made at `now`, the scan's time); a repeat
    scan changes nothing. The replay of the scan that checked in (same `scan_id`) says so."""
    key = checkin_id(document.id, point, day)
    for entry in document.checkins:
        if entry.id == key:
            replayed = scan_id is not None and (entry.model_extra or {}).get("scan_id") == scan_id
            return None, CheckinOutcome(key, first=replayed, replayed=replayed)
    # The whole list is written: the earlier entries exactly as stored, then this one.
    checkins = [entry.model_dump() for entry in document.checkins]
    recorded: dict[str, object] = {"id": key, "point": point, "day": day.isoformat(), "at": now}
    if scan_id is not None:
        recorded["scan_id"] = scan_id
    checkins.append(recorded)
    # A badge holder is a registered participant: these were given at sign-up.
    assert document.forum_id is not None and document.category is not None
    assert document.country is not None
    event = AttendeeCheckedIn(
        event_id=uuid.UUID(key),
        occurred_at=now,
        producer=PRODUCER,
        forum_id=document.forum_id,
        participant_id=uuid.UUID(document.id),
        category=document.category,
        country=document.country,
        point=point,
        day=day.isoformat(),
    )
    return Change(set={"checkins": checkins}, events=[event]), CheckinOutcome(key, first=True)


def checkin_refusal(
    document: ParticipantDocument | None, token_id: str, needs_accreditation: bool
) -> FieldProblem | None:
    """Why a correctly signed token does not let the person in; None if it does."""
    if document is None:
        return problem(
            "token",
            "unknown_token",
            "La credencial no corresponde a ninguna persona inscrita.",
            "The badge does not belong to any registered person.",
        )
    badge = document.badge
    if (
        badge is None
        or badge.token_id != token_id
        or not may_hold_badge(document, needs_accreditation)
    ):
        return problem(
            "token",
            "revoked_token",
            "Esta credencial fue revocada: la persona debe pasar por acreditación.",
            "This badge has been revoked: the person must go to the accreditation desk.",
        )
    return None

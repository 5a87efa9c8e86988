"""Expo's rules, free of I/O: zones, booth allocation, stage and meeting slots, leads, CVs.

Exhibitor documents move through
    (new) ─► applied ─► approved ─► (booth assigned)
                    └─► rejected
Booth allocation is a pure function of the approved exhibitors and the booth inventory:
exhibitors are served in approval order (then id), each gets the best free booth of its zone
(its own preferences first, then the tier it asked for, then position on the floor), and every
answer carries an explanation in both languages. Writing the answer is the repository's job:
a booth is taken by a conditional update, so two exhibitors never share one even when the
decisions race.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts.envelope import Event, FieldProblem, derive_id
from shared.contracts.expo import Explanation
from shared.decisions import Change, Decision
from shared.pack import EventPack

PRODUCER = "expo"

TIER_RANK = {"standard": 0, "premium": 1, "sponsor": 2}


def problem(field_name: str, code: str, es: str, en: str) -> FieldProblem:
    return FieldProblem(field=field_name, code=code, message_es=es, message_en=en)


def explain(code: str, es: str, en: str) -> Explanation:
    return Explanation(code=code, es=es, en=en)


def new_event(
    cls: type[Event], *key: object, correlation_id: str | None = None, **payload: Any
) -> Event:
    """An event caused by a command (not by another event): its id is derived from `key`, so a
    retried command that decides the same thing writes the same event."""
    event_id = derive_id(cls.type_name(), *key)
    return cls(
        event_id=event_id,
        producer=PRODUCER,
        correlation_id=correlation_id or str(event_id),
        **payload,
    )


# --- exhibitors -------------------------------------------------------------------------------


def exhibitor_zone(pack: EventPack, exhibitor_type: str, sector: str | None) -> str:
    """The zone an exhibitor belongs to: its sector's zone for types that use sectors, else its
    type's zone."""
    kind = pack.exhibitor_type(exhibitor_type)
    if kind is None:
        raise ValueError(f"unknown exhibitor type {exhibitor_type!r}")
    if kind.uses_sectors and sector:
        found = pack.sector(sector)
        if found is not None:
            return found.zone
    return kind.zone


def application_problems(
    pack: EventPack,
    *,
    exhibitor_type: str,
    sector: str | None,
    preferences: Sequence[str],
    staff: int,
) -> list[FieldProblem]:
    """Why an application cannot be recorded; empty when it can."""
    problems: list[FieldProblem] = []
    kind = pack.exhibitor_type(exhibitor_type)
    if kind is None:
        codes = ", ".join(t.code for t in pack.exhibitor_types)
        problems.append(
            problem(
                "exhibitor_type",
                "unknown_exhibitor_type",
                f"Tipo de expositor desconocido; use uno de: {codes}.",
                f"Unknown exhibitor type; use one of: {codes}.",
            )
        )
    elif kind.uses_sectors:
        if sector is None or pack.sector(sector) is None:
            codes = ", ".join(s.code for s in pack.sectors)
            problems.append(
                problem(
                    "sector",
                    "sector_required",
                    f"Las empresas deben indicar su sector: {codes}.",
                    f"Companies must state their sector: {codes}.",
                )
            )
    elif sector is not None:
        problems.append(
            problem(
                "sector",
                "sector_not_applicable",
                "Solo las empresas indican un sector.",
                "Only companies state a sector.",
            )
        )
    if kind is not None and kind.code == "job_fair_employer" and not pack.job_fair.enabled:
        problems.append(
            problem(
                "exhibitor_type",
                "job_fair_closed",
                "Este foro no tiene bolsa de trabajo.",
                "This forum has no job fair.",
            )
        )
    for index, code in enumerate(preferences):
        if pack.booth(code) is None:
            problems.append(
                problem(
                    f"booth_preferences[{index}]",
                    "unknown_booth",
                    f"El stand {code} no existe en el plano.",
                    f"Booth {code} is not on the floor plan.",
                )
            )
    if staff > 10:
        problems.append(
            problem(
                "staff",
                "too_many_staff",
                "Un expositor registra como máximo 10 personas.",
                "An exhibitor registers at most 10 staff.",
            )
        )
    return problems


# --- booth allocation -------------------------------------------------------------------------


@dataclass(frozen=True)
class BoothSlot:
    """A booth as allocation sees it."""

    code: str
    zone: str
    tier: str
    x: int
    y: int
    exhibitor_id: str | None = None


@dataclass(frozen=True)
class Applicant:
    """An approved exhibitor waiting for a booth."""

    exhibitor_id: str
    zone: str
    tier: str = "standard"
    preferences: tuple[str, ...] = ()
    approved_at: datetime | None = None


@dataclass(frozen=True)
class Allocation:
    exhibitor_id: str
    booth: str | None
    explanation: Explanation


def allocation_order(applicants: Iterable[Applicant]) -> list[Applicant]:
    """First approved, first served; ties (and unknown dates) by id, so reruns agree."""
    return sorted(
        applicants,
        key=lambda a: (a.approved_at is None, a.approved_at or datetime.min, a.exhibitor_id),
    )


def eligible(applicant: Applicant, booth: BoothSlot) -> bool:
    """Same zone, and no booth above the tier the exhibitor asked (and pays) for."""
    return booth.zone == applicant.zone and TIER_RANK[booth.tier] <= TIER_RANK[applicant.tier]


def rank_booths(applicant: Applicant, free: Iterable[BoothSlot]) -> list[BoothSlot]:
    """Eligible free booths, best first: preferences in the exhibitor's order, then the tier it
    asked for (then the next lower), then floor position (row, column, code)."""
    preference = {code: index for index, code in enumerate(applicant.preferences)}
    wanted = TIER_RANK[applicant.tier]
    candidates = [booth for booth in free if eligible(applicant, booth)]
    return sorted(
        candidates,
        key=lambda b: (
            preference.get(b.code, len(preference)),
            wanted - TIER_RANK[b.tier],
            b.y,
            b.x,
            b.code,
        ),
    )


def _zone_name(pack: EventPack, zone: str, lang: str) -> str:
    found = pack.zone(zone)
    return found.name.get(lang) if found else zone


def explain_choice(pack: EventPack, applicant: Applicant, booth: BoothSlot) -> Explanation:
    """Why `booth`; candidates are tried in rank order, so every preference listed before it was
    taken, or outside the exhibitor's zone or tier."""
    zone_es, zone_en = (
        _zone_name(pack, applicant.zone, "es"),
        _zone_name(pack, applicant.zone, "en"),
    )
    if booth.code in applicant.preferences:
        rank = applicant.preferences.index(booth.code) + 1
        taken = applicant.preferences[: rank - 1]
        before = (
            f" (sus preferencias anteriores, {', '.join(taken)}, ya estaban ocupadas o no eran de su zona o nivel)"
            if taken
            else ""
        )
        before_en = (
            f" (your earlier preferences, {', '.join(taken)}, were taken or outside your zone or tier)"
            if taken
            else ""
        )
        return explain(
            "preference_honoured",
            f"Su preferencia n.º {rank}, {booth.code}, estaba libre en la zona «{zone_es}»{before}.",
            f"Your preference #{rank}, {booth.code}, was free in the “{zone_en}” zone{before_en}.",
        )
    why_es = why_en = ""
    if applicant.preferences:
        why_es = f"Sus preferencias ({', '.join(applicant.preferences)}) estaban ocupadas o fuera de su zona o nivel. "
        why_en = f"Your preferences ({', '.join(applicant.preferences)}) were taken or outside your zone or tier. "
    return explain(
        "first_free_in_zone",
        f"{why_es}{booth.code} es el primer stand libre de la zona «{zone_es}», nivel {booth.tier}, "
        f"por cercanía a la entrada (fila {booth.y}, columna {booth.x}).",
        f"{why_en}{booth.code} is the first free booth in the “{zone_en}” zone, {booth.tier} tier, "
        f"nearest the entrance (row {booth.y}, column {booth.x}).",
    )


def explain_refusal(pack: EventPack, applicant: Applicant) -> Explanation:
    zone_es, zone_en = (
        _zone_name(pack, applicant.zone, "es"),
        _zone_name(pack, applicant.zone, "en"),
    )
    return explain(
        "zone_full",
        f"No queda ningún stand libre de nivel {applicant.tier} o inferior en la zona «{zone_es}», "
        "que corresponde a su tipo o sector. La secretaría puede asignarle uno manualmente.",
        f"No free booth of the {applicant.tier} tier or below is left in the “{zone_en}” zone, "
        "the one for your type or sector. The secretariat can assign one manually.",
    )


def choose_booth(pack: EventPack, applicant: Applicant, free: Iterable[BoothSlot]) -> Allocation:
    ranked = rank_booths(applicant, free)
    if not ranked:
        return Allocation(applicant.exhibitor_id, None, explain_refusal(pack, applicant))
    best = ranked[0]
    return Allocation(applicant.exhibitor_id, best.code, explain_choice(pack, applicant, best))


def allocate(
    pack: EventPack, applicants: Iterable[Applicant], booths: Iterable[BoothSlot]
) -> list[Allocation]:
    """The whole floor, deterministically: same applicants and booths, same answer."""
    free_by_zone: dict[str, dict[str, BoothSlot]] = {}
    for booth in booths:
        if booth.exhibitor_id is None:
            free_by_zone.setdefault(booth.zone, {})[booth.code] = booth
    answers = []
    for applicant in allocation_order(applicants):
        zone = free_by_zone.get(applicant.zone, {})
        answer = choose_booth(pack, applicant, zone.values())
        if answer.booth is not None:
            del zone[answer.booth]
        answers.append(answer)
    return answers


# --- time slots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other_start: datetime, other_end: datetime) -> bool:
        return self.starts_at < other_end and other_start < self.ends_at


def expo_window(pack: EventPack, day: int) -> Slot | None:
    entry = next((d for d in pack.programme.days if d.index == day), None)
    if entry is None or entry.expo_hours is None:
        return None
    date, tz = pack.forum.dates[day], pack.forum.tz
    return Slot(
        datetime.combine(date, entry.expo_hours.opens_at, tz),
        datetime.combine(date, entry.expo_hours.closes_at, tz),
    )


def slot_grid(pack: EventPack, minutes: int) -> list[Slot]:
    """Every `minutes`-long slot of the expo's opening hours, in time order."""
    slots = []
    step = timedelta(minutes=minutes)
    for day in range(pack.forum.days):
        window = expo_window(pack, day)
        if window is None:
            continue
        start = window.starts_at
        while start + step <= window.ends_at:
            slots.append(Slot(start.astimezone(UTC), (start + step).astimezone(UTC)))
            start += step
    return slots


def free_in(holds: Iterable[dict[str, Any]], slot: Slot, *, ignore: str | None = None) -> bool:
    return not any(h["id"] != ignore and slot.overlaps(h["starts_at"], h["ends_at"]) for h in holds)


def common_free_slots(
    grid: Sequence[Slot],
    *calendars: Iterable[dict[str, Any]],
    ignore: str | None = None,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Slots free in every calendar (holds of `ignore` do not count: they are this meeting's own)."""
    holds = [list(c) for c in calendars]
    return [
        slot
        for slot in grid
        if (not_before is None or slot.starts_at >= not_before)
        and all(free_in(h, slot, ignore=ignore) for h in holds)
    ]


def hold_entry(hold_id: str, kind: str, slot: Slot, **extra: Any) -> dict[str, Any]:
    return {
        "id": hold_id,
        "kind": kind,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        **extra,
    }


def reserve(calendar: dict[str, Any] | None, hold: dict[str, Any]) -> Decision[bool]:
    """Add `hold` to a busy calendar unless it overlaps another hold; idempotent per hold id.

    The result says whether the calendar holds it now."""
    holds = list((calendar or {}).get("holds", []))
    if any(h["id"] == hold["id"] for h in holds):
        return Decision(True)
    if not free_in(holds, Slot(hold["starts_at"], hold["ends_at"])):
        return Decision(False)
    return Decision(True, Change(set={"holds": [*holds, hold]}))


def release(calendar: dict[str, Any] | None, hold_id: str) -> Change | None:
    holds = list((calendar or {}).get("holds", []))
    kept = [h for h in holds if h["id"] != hold_id]
    return Change(set={"holds": kept}) if len(kept) != len(holds) else None


# --- session holds: scheduling's events, in whatever order they arrive ------------------------
#
# A sign-up, its cancellation, the session's reschedule and its cancellation travel on separate
# queues and race. Each session hold is stamped with the `occurred_at` of the event that placed
# it, and a release leaves a tombstone (`released`: hold id and when) in the calendar, so the
# newest event wins whichever arrives last: a cancellation that overtook its sign-up keeps the
# late sign-up out, and an old sign-up does not move a rescheduled hold back.


def _millis(at: datetime) -> datetime:
    """The database keeps milliseconds: compare at that precision, so a redelivery matches its own stamp."""
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


def _released_at(calendar: dict[str, Any] | None, hold_id: str) -> datetime | None:
    return next((r["at"] for r in (calendar or {}).get("released", []) if r["id"] == hold_id), None)


def session_hold(
    calendar: dict[str, Any] | None, hold_id: str, slot: Slot, at: datetime
) -> Change | None:
    """The participant sits in the session during `slot`, as of `at`; older news changes nothing."""
    at = _millis(at)
    released = _released_at(calendar, hold_id)
    if released is not None and released >= at:
        return None  # given up (or the session cancelled) after this news: the release stands
    holds = list((calendar or {}).get("holds", []))
    current = next((h for h in holds if h["id"] == hold_id), None)
    if current is not None and current.get("as_of") is not None and current["as_of"] >= at:
        return None  # a newer sign-up or reschedule already placed it
    hold = hold_entry(hold_id, "session", slot, as_of=at)
    if current == hold:
        return None
    return Change(set={"holds": [*(h for h in holds if h["id"] != hold_id), hold]})


def session_release(calendar: dict[str, Any] | None, hold_id: str, at: datetime) -> Change | None:
    """The participant no longer sits in the session, as of `at`: the hold goes and a tombstone
    stays, unless a newer sign-up placed the hold after this release."""
    at = _millis(at)
    holds = list((calendar or {}).get("holds", []))
    current = next((h for h in holds if h["id"] == hold_id), None)
    if current is not None and current.get("as_of") is not None and current["as_of"] > at:
        return None
    released = list((calendar or {}).get("released", []))
    before = _released_at(calendar, hold_id)
    if current is None and before is not None and before >= at:
        return None
    tombstones = [
        *(r for r in released if r["id"] != hold_id),
        {"id": hold_id, "at": max(at, before or at)},
    ]
    return Change(set={"holds": [h for h in holds if h["id"] != hold_id], "released": tombstones})


# --- launches on the expo stage ---------------------------------------------------------------


def stage_room(pack: EventPack) -> str:
    """The room launches take place in: the one the expo opening uses, else `expo_stage`."""
    opening = next((i for i in pack.programme.items if i.kind == "expo_opening" and i.room), None)
    return opening.room if opening else "expo_stage"


def launch_problems(
    pack: EventPack,
    stage: dict[str, Any] | None,
    launch_id: str,
    exhibitor_id: str,
    slot: Slot,
    day: int,
    per_exhibitor: int,
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    window = expo_window(pack, day) if 0 <= day < pack.forum.days else None
    if window is None:
        return [
            problem(
                "day", "expo_closed", "La Expo no abre ese día.", "The Expo is not open that day."
            )
        ]
    if slot.starts_at < window.starts_at or slot.ends_at > window.ends_at:
        problems.append(
            problem(
                "starts_at",
                "outside_expo_hours",
                f"El escenario solo se usa en horario de la Expo ({window.starts_at:%H:%M}–{window.ends_at:%H:%M}).",
                f"The stage is used only during Expo hours ({window.starts_at:%H:%M}–{window.ends_at:%H:%M}).",
            )
        )
    room = stage_room(pack)
    for item in pack.programme.items:
        if item.room == room and item.day == day:
            start, end = pack.item_datetimes(item)
            if slot.overlaps(start, end):
                problems.append(
                    problem(
                        "starts_at",
                        "stage_in_programme",
                        f"El escenario está ocupado por «{item.title.es}» ({start:%H:%M}–{end:%H:%M}).",
                        f"The stage holds “{item.title.en}” then ({start:%H:%M}–{end:%H:%M}).",
                    )
                )
    launches = [
        entry for entry in (stage or {}).get("launches", []) if entry["launch_id"] != launch_id
    ]
    for other in launches:
        if slot.overlaps(other["starts_at"], other["ends_at"]):
            problems.append(
                problem(
                    "starts_at",
                    "slot_taken",
                    f"Ya hay un lanzamiento de {other['starts_at']:%H:%M} a {other['ends_at']:%H:%M} UTC.",
                    f"Another launch holds {other['starts_at']:%H:%M}–{other['ends_at']:%H:%M} UTC.",
                )
            )
    if sum(1 for other in launches if other["exhibitor_id"] == exhibitor_id) >= per_exhibitor:
        problems.append(
            problem(
                "exhibitor_id",
                "launch_limit",
                f"Cada expositor tiene como máximo {per_exhibitor} lanzamientos por día.",
                f"Each exhibitor has at most {per_exhibitor} launches a day.",
            )
        )
    return problems


# --- leads ------------------------------------------------------------------------------------


def lead_id(exhibitor_id: str, participant_id: str) -> str:
    """One lead per exhibitor and attendee: scanning again merges into it."""
    return str(derive_id("lead", exhibitor_id, participant_id))


def scan_refusal(attendee: dict[str, Any] | None) -> Explanation | None:
    """Why a scan stores no lead; None when it may."""
    if attendee is None or not attendee.get("status"):
        return explain(
            "unknown_badge",
            "Esta credencial no corresponde a ningún participante conocido.",
            "This badge does not belong to any known participant.",
        )
    if attendee.get("erased"):
        return explain(
            "erased",
            "Los datos de esta persona fueron borrados a su pedido.",
            "This person's data was erased at their request.",
        )
    if attendee.get("status") not in {"confirmed"}:
        return explain(
            "not_confirmed",
            "La inscripción de esta persona no está confirmada.",
            "This person's registration is not confirmed.",
        )
    if not attendee.get("consents", {}).get("share_with_exhibitors"):
        return explain(
            "no_consent",
            "La persona no autorizó compartir sus datos de contacto con expositores; no se guarda nada.",
            "The attendee did not consent to share contact details with exhibitors; nothing is stored.",
        )
    return None


CONTACT_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "organisation",
    "job_title",
    "country",
)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def leads_csv(leads: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "lead_id",
            "participant_id",
            *CONTACT_FIELDS,
            "scans",
            "first_scanned_at",
            "last_scanned_at",
            "notes",
        ]
    )
    for lead in leads:
        contact = lead.get("contact") or {}
        writer.writerow(
            [
                _cell(lead["_id"]),
                _cell(lead["participant_id"]),
                *(_cell(contact.get(name)) for name in CONTACT_FIELDS),
                lead.get("scans", 1),
                _cell(_iso(lead.get("first_scanned_at"))),
                _cell(_iso(lead.get("last_scanned_at"))),
                _cell(" | ".join(lead.get("notes", []))),
            ]
        )
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


# --- CVs --------------------------------------------------------------------------------------

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def cv_refusal(data: bytes, max_bytes: int) -> tuple[str | None, Explanation | None]:
    """(media type, None) for an acceptable CV, or (None, why not). Looks at the bytes, never
    at the name or the declared type a browser sent."""
    if len(data) > max_bytes:
        return None, explain(
            "cv_too_large",
            f"El CV supera el máximo de {max_bytes // 1024} KB.",
            f"The CV is larger than the {max_bytes // 1024} KB limit.",
        )
    if len(data) == 0:
        return None, explain("cv_empty", "El archivo del CV está vacío.", "The CV file is empty.")
    if data.startswith(b"%PDF-"):
        return PDF, None
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(
                io.BytesIO(data)
            ) as archive:  # the directory only; nothing is extracted
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            names = set()
        if "word/document.xml" in names and "[Content_Types].xml" in names:
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None, explain(
                    "cv_has_macros",
                    "El documento contiene macros; envíe un PDF o un DOCX sin macros.",
                    "The document contains macros; send a PDF or a macro-free DOCX.",
                )
            return DOCX, None
    return None, explain(
        "cv_type_not_allowed",
        "Solo se aceptan CV en PDF o DOCX.",
        "Only PDF or DOCX CVs are accepted.",
    )


def safe_filename(name: str | None, media_type: str) -> str:
    stem = (
        "".join(
            ch
            for ch in (name or "cv").rsplit(".", 1)[0]
            if ch.isascii() and (ch.isalnum() or ch in "-_")
        )[:60]
        or "cv"
    )
    return f"{stem}.{'pdf' if media_type == PDF else 'docx'}"

"""Booth allocation, free of I/O.

Allocation is a pure function of the approved exhibitors and the booth inventory: exhibitors are
served in approval order (then id), each gets the best free booth of its zone (its own
preferences first, then the tier it asked for, then position on the floor), and every answer
carries an explanation in both languages. Writing the answer is the repository's job: a booth is
taken by a conditional update, so two exhibitors never share one even when the decisions race;
the rules below then record it on the exhibitor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.expo.common import explain, new_event
from services.expo.documents import BoothDocument, ExhibitorDocument
from shared.contracts.expo import BoothAssigned, BoothReleased, BoothRequestRefused, Explanation
from shared.decisions import Change, Decision
from shared.pack import EventPack

TIER_RANK = {"standard": 0, "premium": 1, "sponsor": 2}


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


def applicant_of(document: ExhibitorDocument) -> Applicant:
    return Applicant(
        exhibitor_id=document.id,
        zone=document.zone,
        tier=document.tier,
        preferences=tuple(document.booth_preferences),
        approved_at=document.approved_at,
    )


def booth_slot(document: BoothDocument) -> BoothSlot:
    return BoothSlot(
        code=document.id,
        zone=document.zone,
        tier=document.tier,
        x=document.x,
        y=document.y,
        exhibitor_id=document.exhibitor_id,
    )


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


# --- what the exhibitor document records ------------------------------------------------------


def preferences(document: ExhibitorDocument | None, wanted: list[str]) -> Change | None:
    """The exhibitor's booth preferences replaced (from a booth request)."""
    if document is None or document.booth_preferences == wanted:
        return None
    return Change(set={"booth_preferences": wanted})


def record_booth(
    document: ExhibitorDocument | None,
    booth: BoothDocument,
    explanation: Explanation,
    manual: bool,
) -> Decision[bool]:
    """The booth this exhibitor claimed, with `booth.assigned`; False when it already holds
    another booth (a concurrent request for the same exhibitor won)."""
    if document is None:
        return Decision(False)
    if document.booth == booth.id:
        return Decision(True)
    if document.booth is not None:
        return Decision(False)
    event = new_event(
        BoothAssigned,
        document.id,
        booth.id,
        len(document.booth_history),
        forum_id=document.forum_id,
        exhibitor_id=document.id,
        exhibitor_name=document.name,
        booth=booth.id,
        zone=booth.zone,
        tier=booth.tier,
        price_usd=booth.price_usd,
        manual=manual,
        explanation=explanation,
    )
    return Decision(
        True,
        Change(
            set={
                "booth": booth.id,
                "booth_explanation": explanation.model_dump(),
                "booth_manual": manual,
                "booth_refusal": None,
                "booth_history": [*document.booth_history, booth.id],
            },
            events=[event],
        ),
    )


def record_refusal(document: ExhibitorDocument | None, explanation: Explanation) -> Change | None:
    """No booth for the exhibitor, with `booth.request_refused` — once per distinct reason."""
    if document is None or document.booth is not None:
        return None
    previous = document.booth_refusal
    if previous is not None and previous.code == explanation.code and previous.en == explanation.en:
        return None  # already told exactly this
    event = new_event(
        BoothRequestRefused,
        document.id,
        "refused",
        document.refusals,
        forum_id=document.forum_id,
        exhibitor_id=document.id,
        zone=document.zone,
        explanation=explanation,
    )
    return Change(
        set={"booth_refusal": explanation.model_dump(), "refusals": document.refusals + 1},
        events=[event],
    )


def unassign(document: ExhibitorDocument | None, code: str, reason: str) -> Change | None:
    """The exhibitor no longer holds `code`, with `booth.released`."""
    if document is None or document.booth != code:
        return None
    event = new_event(
        BoothReleased,
        document.id,
        code,
        "released",
        len(document.booth_history),
        forum_id=document.forum_id,
        exhibitor_id=document.id,
        booth=code,
        reason=reason,
    )
    return Change(
        set={"booth": None, "booth_explanation": None, "booth_manual": False}, events=[event]
    )


def manual_explanation(reason: str) -> Explanation:
    return explain(
        "manual", f"Asignado por la secretaría: {reason}", f"Assigned by the secretariat: {reason}"
    )

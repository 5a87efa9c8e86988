"""Expo's use cases: plain async functions taking a command or an event and `Expo` (the deps).

Rules live in `domain`; these functions load documents, call the rules and write through the
repository. Several use cases touch more than one document (a booth and its exhibitor, two
calendars and a table): each step is one idempotent single-document write, ordered so that a
crash between steps leaves something the next attempt completes or undoes (see each function).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from services.expo import domain
from services.expo.repository import ExpoRepository
from services.expo.schemas import ExhibitorApplication, JobPost, LaunchRequest, MeetingRequest
from services.expo.settings import ExpoSettings
from shared.badges import BadgeTokenRefused, verify_badge_token
from shared.contracts.envelope import Event, FieldProblem, derive_id
from shared.contracts.expo import (
    BoothAssigned,
    BoothReleased,
    BoothRequestRefused,
    ExhibitorApplied,
    ExhibitorApproved,
    ExhibitorRejected,
    Explanation,
    InterviewScheduled,
    JobApplicationReceived,
    JobPosted,
    LaunchScheduled,
    LeadCaptured,
    MeetingConfirmed,
    MeetingDeclined,
    MeetingRequested,
    Party,
)
from shared.contracts.registration import Consents, RegistrationSubmitted
from shared.decisions import Change, Decision
from shared.pack import EventPack

log = structlog.get_logger("foro.expo")

STAFF_CATEGORY = "exhibitor_staff"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Expo:
    """Everything expo's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ExpoRepository
    settings: ExpoSettings
    clock: Callable[[], datetime] = utc_now


class Refused(Exception):
    """A command that cannot be done, with what the person can do about it."""

    def __init__(
        self,
        status: int,
        explanation: Explanation | None = None,
        problems: list[FieldProblem] | None = None,
    ):
        super().__init__(explanation.code if explanation else "invalid")
        self.status = status
        self.explanation = explanation
        self.problems = problems or []

    def detail(self) -> dict[str, Any]:
        if self.explanation is not None:
            return self.explanation.model_dump()
        return {"code": "invalid", "problems": [p.model_dump() for p in self.problems]}


def refused(status: int, code: str, es: str, en: str) -> Refused:
    return Refused(status, domain.explain(code, es, en))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- exhibitors -------------------------------------------------------------------------------


def exhibitor_id_for(forum_id: str, application_id: str) -> str:
    return str(derive_id(forum_id, "exhibitor", application_id))


def _exhibitor_payload(document: dict[str, Any], forum_id: str) -> dict[str, Any]:
    return {
        "forum_id": forum_id,
        "exhibitor_id": document["_id"],
        "name": document["name"],
        "exhibitor_type": document["exhibitor_type"],
        "sector": document.get("sector"),
        "zone": document["zone"],
        "language": document.get("language", "es"),
    }


async def submit_application(application: ExhibitorApplication, deps: Expo) -> dict[str, Any]:
    pack, now = deps.pack, deps.clock()
    problems = domain.application_problems(
        pack,
        exhibitor_type=application.exhibitor_type,
        sector=application.sector,
        preferences=application.booth_preferences,
        staff=len(application.staff),
    )
    if application.staff and not application.staff_consented:
        problems.append(
            domain.problem(
                "staff_consented",
                "staff_consent_required",
                "Confirme que su personal aceptó la política de privacidad del foro.",
                "Confirm that your staff accepted the forum's privacy policy.",
            )
        )
    if problems:
        raise Refused(422, problems=problems)
    exhibitor_id = exhibitor_id_for(pack.forum.id, application.application_id)
    zone = domain.exhibitor_zone(pack, application.exhibitor_type, application.sector)
    fields = {
        "forum_id": pack.forum.id,
        "application_id": application.application_id,
        "name": application.name,
        "exhibitor_type": application.exhibitor_type,
        "sector": application.sector,
        "zone": zone,
        "country": application.country,
        "language": application.language,
        "description": application.description,
        "contact": application.contact.model_dump(),
        "staff": [s.model_dump() for s in application.staff],
        "tier": application.tier,
        "booth_preferences": list(application.booth_preferences),
        "updated_at": now,
    }

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None:
            new = {
                **fields,
                "_id": exhibitor_id,
                "status": "applied",
                "applied_at": now,
                "booth": None,
            }
            event = domain.new_event(
                ExhibitorApplied,
                exhibitor_id,
                **_exhibitor_payload(new, pack.forum.id),
                staff_count=len(application.staff),
            )
            return Change(
                set={**fields, "status": "applied", "applied_at": now, "booth": None},
                events=[event],
            )
        if document["status"] != "applied":
            raise refused(
                409,
                "already_decided",
                "La secretaría ya resolvió esta solicitud.",
                "The secretariat has already decided on this application.",
            )
        return Change(set=fields)

    applied = await deps.repository.exhibitors.apply(exhibitor_id, None, decide)
    log.info("exhibitor application recorded", exhibitor_id=exhibitor_id)
    return applied.document or {}


async def approve_exhibitor(exhibitor_id: str, deps: Expo) -> tuple[dict[str, Any], str]:
    """Approve; returns the exhibitor and its access token (shown once, stored as a hash).
    Staff sign-ups for registration are written in the same document write as the approval."""
    pack, now = deps.pack, deps.clock()
    token = secrets.token_urlsafe(32)
    staff_category = pack.category(STAFF_CATEGORY)

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None:
            raise refused(404, "not_found", "Expositor desconocido.", "Unknown exhibitor.")
        if document["status"] != "applied":
            raise refused(
                409,
                "already_decided",
                f"La solicitud ya está en estado «{document['status']}».",
                f"The application is already {document['status']}.",
            )
        events: list[Event] = [
            domain.new_event(
                ExhibitorApproved,
                exhibitor_id,
                **_exhibitor_payload(document, pack.forum.id),
                contact_email=document["contact"]["email"],
                staff_count=len(document.get("staff", [])),
            )
        ]
        if staff_category is not None:
            events += staff_signups(document, pack.forum.id)
        return Change(
            set={
                "status": "approved",
                "approved_at": now,
                "token_hash": hash_token(token),
                "updated_at": now,
            },
            events=events,
        )

    applied = await deps.repository.exhibitors.apply(exhibitor_id, None, decide)
    log.info(
        "exhibitor approved",
        exhibitor_id=exhibitor_id,
        staff=len((applied.document or {}).get("staff", [])),
    )
    return applied.document or {}, token


def staff_signups(document: dict[str, Any], forum_id: str) -> list[RegistrationSubmitted]:
    """One `registration.submitted` per staff member, with ids derived from the exhibitor and the
    person, so a repeated approval write publishes the same events and registration dedups them."""
    signups = []
    for index, member in enumerate(document.get("staff", [])):
        event_id = derive_id(document["_id"], "staff", member["email"])
        signups.append(
            RegistrationSubmitted(
                event_id=event_id,
                producer=domain.PRODUCER,
                correlation_id=str(derive_id(ExhibitorApproved.type_name(), document["_id"])),
                forum_id=forum_id,
                submission_id=f"expo:{document['_id']}:{index}",
                category=STAFF_CATEGORY,
                given_name=member["given_name"],
                family_name=member["family_name"],
                email=member["email"],
                phone=member.get("phone"),
                organisation=document["name"][:200],
                job_title=member.get("job_title"),
                country=document["country"],
                language=member.get("language", "es"),
                consents=Consents(privacy_policy=True),
            )
        )
    return signups


async def reject_exhibitor(exhibitor_id: str, reason: str, deps: Expo) -> dict[str, Any]:
    pack, now = deps.pack, deps.clock()

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None:
            raise refused(404, "not_found", "Expositor desconocido.", "Unknown exhibitor.")
        if document["status"] == "rejected" and document.get("rejection_reason") == reason:
            return None
        if document["status"] != "applied":
            raise refused(
                409,
                "already_decided",
                f"La solicitud ya está en estado «{document['status']}».",
                f"The application is already {document['status']}.",
            )
        event = domain.new_event(
            ExhibitorRejected,
            exhibitor_id,
            **_exhibitor_payload(document, pack.forum.id),
            contact_email=document["contact"]["email"],
            reason=reason,
        )
        return Change(
            set={"status": "rejected", "rejection_reason": reason, "updated_at": now},
            events=[event],
        )

    applied = await deps.repository.exhibitors.apply(exhibitor_id, None, decide)
    return applied.document or {}


async def rotate_token(exhibitor_id: str, deps: Expo) -> str:
    token = secrets.token_urlsafe(32)

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document["status"] != "approved":
            raise refused(
                404,
                "not_found",
                "No hay expositor aprobado con ese id.",
                "No approved exhibitor has that id.",
            )
        return Change(set={"token_hash": hash_token(token)})

    await deps.repository.exhibitors.apply(exhibitor_id, None, decide)
    return token


# --- booths -----------------------------------------------------------------------------------


def applicant_of(document: dict[str, Any]) -> domain.Applicant:
    return domain.Applicant(
        exhibitor_id=document["_id"],
        zone=document["zone"],
        tier=document.get("tier", "standard"),
        preferences=tuple(document.get("booth_preferences", [])),
        approved_at=document.get("approved_at"),
    )


def booth_slot(document: dict[str, Any]) -> domain.BoothSlot:
    return domain.BoothSlot(
        code=document["_id"],
        zone=document["zone"],
        tier=document["tier"],
        x=document["x"],
        y=document["y"],
        exhibitor_id=document.get("exhibitor_id"),
    )


@dataclass
class BoothAnswer:
    exhibitor_id: str
    booth: str | None
    explanation: Explanation
    manual: bool = False


async def _record_booth(
    deps: Expo, exhibitor_id: str, booth: dict[str, Any], explanation: Explanation, *, manual: bool
) -> bool:
    """Write the claimed booth on the exhibitor (with `booth.assigned`); False when the exhibitor
    already holds another booth (a concurrent request for the same exhibitor won)."""

    def decide(document: dict[str, Any] | None) -> Decision[bool]:
        if document is None:
            return Decision(False)
        if document.get("booth") == booth["_id"]:
            return Decision(True)
        if document.get("booth") is not None:
            return Decision(False)
        history = len(document.get("booth_history", []))
        event = domain.new_event(
            BoothAssigned,
            exhibitor_id,
            booth["_id"],
            history,
            forum_id=deps.pack.forum.id,
            exhibitor_id=exhibitor_id,
            exhibitor_name=document["name"],
            booth=booth["_id"],
            zone=booth["zone"],
            tier=booth["tier"],
            price_usd=booth["price_usd"],
            manual=manual,
            explanation=explanation,
        )
        return Decision(
            True,
            Change(
                set={
                    "booth": booth["_id"],
                    "booth_explanation": explanation.model_dump(),
                    "booth_manual": manual,
                    "booth_refusal": None,
                    "booth_history": [*document.get("booth_history", []), booth["_id"]],
                },
                events=[event],
            ),
        )

    return bool((await deps.repository.exhibitors.apply(exhibitor_id, None, decide)).result)


async def _record_refusal(deps: Expo, exhibitor_id: str, explanation: Explanation) -> None:
    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document.get("booth") is not None:
            return None
        previous = document.get("booth_refusal") or {}
        if previous.get("code") == explanation.code and previous.get("en") == explanation.en:
            return None  # already told exactly this
        count = document.get("refusals", 0)
        event = domain.new_event(
            BoothRequestRefused,
            exhibitor_id,
            "refused",
            count,
            forum_id=deps.pack.forum.id,
            exhibitor_id=exhibitor_id,
            zone=document["zone"],
            explanation=explanation,
        )
        return Change(
            set={"booth_refusal": explanation.model_dump(), "refusals": count + 1}, events=[event]
        )

    await deps.repository.exhibitors.apply(exhibitor_id, None, decide)


async def _approved(deps: Expo, exhibitor_id: str) -> dict[str, Any]:
    document = await deps.repository.exhibitor(exhibitor_id)
    if document is None:
        raise refused(404, "not_found", "Expositor desconocido.", "Unknown exhibitor.")
    if document["status"] != "approved":
        raise refused(
            409,
            "not_approved",
            "La secretaría todavía no aprobó a este expositor.",
            "The secretariat has not approved this exhibitor yet.",
        )
    return document


async def request_booth(
    exhibitor_id: str, deps: Expo, preferences: list[str] | None = None
) -> BoothAnswer:
    """Give the exhibitor the best free booth of its zone, or say why not.

    Steps: (1) a booth the exhibitor already holds (also one claimed by an attempt that crashed
    before step 3) is simply recorded; (2) candidates are claimed in rank order by the
    conditional update — losing a race just moves on to the next candidate; (3) the claim is
    recorded on the exhibitor; if a concurrent request for the same exhibitor recorded another
    booth first, this claim is released.
    """
    repo, now = deps.repository, deps.clock()
    if preferences is not None:
        unknown = [code for code in preferences if deps.pack.booth(code) is None]
        if unknown:
            raise refused(
                422,
                "unknown_booth",
                f"Stands inexistentes: {', '.join(unknown)}.",
                f"No such booths: {', '.join(unknown)}.",
            )
        await repo.exhibitors.apply(
            exhibitor_id,
            None,
            lambda d: (
                Change(set={"booth_preferences": preferences})
                if d and d.get("booth_preferences") != preferences
                else None
            ),
        )
    document = await _approved(deps, exhibitor_id)
    if document.get("booth"):
        return BoothAnswer(
            exhibitor_id,
            document["booth"],
            Explanation(**document["booth_explanation"]),
            document.get("booth_manual", False),
        )
    held = await repo.booth_held_by(exhibitor_id)
    if held is not None:
        explanation = Explanation(**held["explanation"])
        if await _record_booth(
            deps, exhibitor_id, held, explanation, manual=held.get("manual", False)
        ):
            return BoothAnswer(exhibitor_id, held["_id"], explanation, held.get("manual", False))
        await repo.release_booth(
            held["_id"], exhibitor_id
        )  # a concurrent request recorded another one
        current = await repo.exhibitor(exhibitor_id) or {}
        return BoothAnswer(
            exhibitor_id, current.get("booth"), Explanation(**current["booth_explanation"])
        )
    applicant = applicant_of(document)
    free = {b["_id"]: b for b in await repo.free_booths()}
    ranked = domain.rank_booths(applicant, (booth_slot(b) for b in free.values()))
    for candidate in ranked:
        explanation = domain.explain_choice(deps.pack, applicant, candidate)
        if not await repo.claim_booth(
            candidate.code,
            exhibitor_id,
            document["name"],
            explanation.model_dump(),
            manual=False,
            now=now,
        ):
            continue  # lost the race for it: the next candidate
        if await _record_booth(deps, exhibitor_id, free[candidate.code], explanation, manual=False):
            log.info("booth assigned", exhibitor_id=exhibitor_id, booth=candidate.code)
            return BoothAnswer(exhibitor_id, candidate.code, explanation)
        await repo.release_booth(candidate.code, exhibitor_id)
        current = await repo.exhibitor(exhibitor_id) or {}
        return BoothAnswer(
            exhibitor_id, current.get("booth"), Explanation(**current["booth_explanation"])
        )
    explanation = domain.explain_refusal(deps.pack, applicant)
    await _record_refusal(deps, exhibitor_id, explanation)
    log.info("booth refused", exhibitor_id=exhibitor_id, reason=explanation.code)
    return BoothAnswer(exhibitor_id, None, explanation)


async def allocate_floor(deps: Expo) -> list[BoothAnswer]:
    """Allocate every approved exhibitor without a booth, in the deterministic order of
    `domain.allocate`. The plan is computed once on one read of the floor; each placement is
    still the guarded claim-then-record, and an exhibitor whose planned booth was taken
    meanwhile (a concurrent request) goes through `request_booth`'s full path instead."""
    repo, now = deps.repository, deps.clock()
    waiting = {d["_id"]: d for d in await repo.approved_without_booth(deps.pack.forum.id)}
    booths = await repo.all_booths()
    answers: list[BoothAnswer] = []
    for booth in booths:  # claimed by an attempt that crashed before recording it: record it now
        if booth.get("exhibitor_id") in waiting:
            answers.append(await request_booth(booth["exhibitor_id"], deps))
            waiting.pop(booth["exhibitor_id"])
    plan = domain.allocate(
        deps.pack, [applicant_of(d) for d in waiting.values()], [booth_slot(b) for b in booths]
    )
    by_code = {b["_id"]: b for b in booths}
    for allocation in plan:
        exhibitor_id, code = allocation.exhibitor_id, allocation.booth
        if code is None:
            await _record_refusal(deps, exhibitor_id, allocation.explanation)
            answers.append(BoothAnswer(exhibitor_id, None, allocation.explanation))
            continue
        name = waiting[exhibitor_id]["name"]
        if await repo.claim_booth(
            code, exhibitor_id, name, allocation.explanation.model_dump(), manual=False, now=now
        ):
            if await _record_booth(
                deps, exhibitor_id, by_code[code], allocation.explanation, manual=False
            ):
                answers.append(BoothAnswer(exhibitor_id, code, allocation.explanation))
                continue
            await repo.release_booth(code, exhibitor_id)
        answers.append(await request_booth(exhibitor_id, deps))
    return answers


async def _unassign(deps: Expo, exhibitor_id: str, code: str, reason: str) -> None:
    """Exhibitor first, booth second: a crash between leaves the booth held by the exhibitor,
    and the exhibitor's next request records it again instead of two exhibitors sharing it."""

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document.get("booth") != code:
            return None
        released = len(document.get("booth_history", []))
        event = domain.new_event(
            BoothReleased,
            exhibitor_id,
            code,
            "released",
            released,
            forum_id=deps.pack.forum.id,
            exhibitor_id=exhibitor_id,
            booth=code,
            reason=reason,
        )
        return Change(
            set={"booth": None, "booth_explanation": None, "booth_manual": False}, events=[event]
        )

    await deps.repository.exhibitors.apply(exhibitor_id, None, decide)
    await deps.repository.release_booth(code, exhibitor_id)


async def reset_allocation(deps: Expo, reason: str) -> int:
    """Free every booth the rules assigned (manual assignments stay), so the rules can run again."""
    count = 0
    for booth in await deps.repository.all_booths():
        if booth.get("exhibitor_id") and not booth.get("manual"):
            await _unassign(deps, booth["exhibitor_id"], booth["_id"], reason)
            count += 1
    return count


async def assign_manually(
    deps: Expo, code: str, exhibitor_id: str, reason: str, displace: bool
) -> BoothAnswer:
    repo, now = deps.repository, deps.clock()
    booth = await repo.booth(code)
    if booth is None:
        raise refused(
            404, "unknown_booth", f"El stand {code} no existe.", f"Booth {code} does not exist."
        )
    document = await _approved(deps, exhibitor_id)
    if booth.get("exhibitor_id") == exhibitor_id:
        return BoothAnswer(
            exhibitor_id, code, Explanation(**booth["explanation"]), booth.get("manual", False)
        )
    if booth.get("exhibitor_id"):
        if not displace:
            raise refused(
                409,
                "booth_taken",
                f"El stand {code} ya está asignado; use displace para liberarlo.",
                f"Booth {code} is taken; set displace to free it.",
            )
        await _unassign(deps, booth["exhibitor_id"], code, reason)
    if document.get("booth"):
        await _unassign(deps, exhibitor_id, document["booth"], reason)
    explanation = domain.explain(
        "manual", f"Asignado por la secretaría: {reason}", f"Assigned by the secretariat: {reason}"
    )
    if not await repo.claim_booth(
        code, exhibitor_id, document["name"], explanation.model_dump(), manual=True, now=now
    ):
        raise refused(
            409,
            "booth_taken",
            f"Otro expositor tomó el stand {code} en este momento.",
            f"Another exhibitor took booth {code} just now.",
        )
    if not await _record_booth(deps, exhibitor_id, booth, explanation, manual=True):
        await repo.release_booth(code, exhibitor_id)
        raise refused(
            409,
            "exhibitor_busy",
            "El expositor recibió otro stand en este momento.",
            "The exhibitor got another booth just now.",
        )
    return BoothAnswer(exhibitor_id, code, explanation, True)


async def release_manually(deps: Expo, code: str, reason: str) -> None:
    booth = await deps.repository.booth(code)
    if booth is None:
        raise refused(
            404, "unknown_booth", f"El stand {code} no existe.", f"Booth {code} does not exist."
        )
    if booth.get("exhibitor_id"):
        await _unassign(deps, booth["exhibitor_id"], code, reason)


# --- launches ---------------------------------------------------------------------------------


async def schedule_launch(
    deps: Expo, exhibitor: dict[str, Any], request: LaunchRequest
) -> dict[str, Any]:
    pack = deps.pack
    if not 0 <= request.day < pack.forum.days:
        raise Refused(
            422,
            problems=[
                domain.problem(
                    "day",
                    "expo_closed",
                    "La Expo no abre ese día.",
                    "The Expo is not open that day.",
                )
            ],
        )
    hour, minute = (int(part) for part in request.starts_at.split(":"))
    start = datetime.combine(
        pack.forum.dates[request.day], datetime.min.time(), pack.forum.tz
    ).replace(hour=hour, minute=minute)
    slot = domain.Slot(
        start.astimezone(UTC), (start + timedelta(minutes=request.minutes)).astimezone(UTC)
    )
    launch_id = str(uuid.uuid4())
    room = domain.stage_room(pack)

    def decide(stage: dict[str, Any] | None) -> Decision[list[FieldProblem]]:
        problems = domain.launch_problems(
            pack,
            stage,
            launch_id,
            exhibitor["_id"],
            slot,
            request.day,
            deps.settings.launches_per_exhibitor,
        )
        if problems:
            return Decision(problems)
        entry = {
            "launch_id": launch_id,
            "exhibitor_id": exhibitor["_id"],
            "exhibitor_name": exhibitor["name"],
            "kind": request.kind,
            "title": request.title,
            "description": request.description,
            "language": request.language,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
        }
        event = domain.new_event(
            LaunchScheduled,
            launch_id,
            forum_id=pack.forum.id,
            launch_id=launch_id,
            exhibitor_id=exhibitor["_id"],
            exhibitor_name=exhibitor["name"],
            kind=request.kind,
            title=request.title,
            description=request.description,
            language=request.language,
            room=room,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        launches = sorted([*(stage or {}).get("launches", []), entry], key=lambda e: e["starts_at"])
        return Decision(
            [],
            Change(
                set={"forum_id": pack.forum.id, "day": request.day, "launches": launches},
                events=[event],
            ),
        )

    applied = await deps.repository.stage.apply(f"{pack.forum.id}:{request.day}", None, decide)
    problems: list[FieldProblem] = applied.result
    if problems:
        raise Refused(409, problems=problems)
    return {
        "launch_id": launch_id,
        "room": room,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
    }


# --- the attendee projection (registration's and scheduling's events) -------------------------


async def project_participant(event: Any, deps: Expo) -> None:
    """registration.confirmed / updated / promoted / cancelled → the attendee a badge resolves to."""
    participant = event.participant
    pid, cause = str(participant.participant_id), str(event.event_id)

    def decide(document: dict[str, Any] | None) -> Decision[bool]:
        if document and document.get("snapshot_at") and document["snapshot_at"] > event.occurred_at:
            return Decision(False)  # an older snapshot arriving late
        erased = bool((document or {}).get("erased"))
        shared_before = bool((document or {}).get("consents", {}).get("share_with_exhibitors"))
        # An erasure that overtook this snapshot keeps the contact out; what counts (status,
        # category) is kept as it would have been had the snapshot come first.
        fields = (
            {} if erased else {name: getattr(participant, name) for name in domain.CONTACT_FIELDS}
        )
        fields |= {
            "forum_id": participant.forum_id,
            "category": participant.category,
            "language": participant.language,
            "status": participant.status,
            "snapshot_at": event.occurred_at,
        }
        consents_at = (document or {}).get("consents_at")
        withdrawn = False
        if consents_at is None or consents_at <= event.occurred_at:  # a later consent change wins
            fields |= {
                "consents": participant.consents.model_dump(),
                "consents_at": event.occurred_at,
            }
            withdrawn = (
                shared_before and not participant.consents.share_with_exhibitors and not erased
            )
        return Decision(withdrawn, Change(set=fields))

    applied = await deps.repository.attendees.apply(pid, cause, decide)
    await _after_consent(deps, pid, cause, applied, bool(applied.result))


async def change_consent(event: Any, deps: Expo) -> None:
    """participant.consent_changed: consents apply from now on."""
    pid, cause = str(event.participant_id), str(event.event_id)

    def decide(document: dict[str, Any] | None) -> Decision[bool]:
        consents_at = (document or {}).get("consents_at")
        if consents_at is not None and consents_at > event.occurred_at:
            return Decision(False)  # an older change arriving late
        # Kept after an erasure too (consents are no personal data): the same state in any order.
        shared_before = bool((document or {}).get("consents", {}).get("share_with_exhibitors"))
        withdrawn = (
            shared_before
            and not event.consents.share_with_exhibitors
            and not (document or {}).get("erased")
        )
        return Decision(
            withdrawn,
            Change(set={"consents": event.consents.model_dump(), "consents_at": event.occurred_at}),
        )

    applied = await deps.repository.attendees.apply(pid, cause, decide)
    await _after_consent(deps, pid, cause, applied, bool(applied.result))


async def _after_consent(deps: Expo, pid: str, cause: str, applied: Any, withdrawn: bool) -> None:
    sharing = bool((applied.document or {}).get("consents", {}).get("share_with_exhibitors"))
    if withdrawn or (
        applied.duplicate and not sharing
    ):  # a redelivery finishes a wipe a crash cut short
        # Consent withdrawn: exhibitors keep that they met the person (the count), not the contact.
        await _wipe_leads(deps, pid, cause, {"consent_withdrawn": True})


async def _wipe_leads(deps: Expo, participant_id: str, cause: str, flags: dict[str, Any]) -> None:
    repo = deps.repository
    for lead_id in await repo.lead_ids_of_participant(participant_id):
        await repo.leads.apply(
            lead_id,
            cause,
            lambda d: Change(set={"contact": None, "notes": [], **flags}) if d else None,
        )


async def revoke_badge(event: Any, deps: Expo) -> None:
    def decide(document: dict[str, Any] | None) -> Change | None:
        tokens = list((document or {}).get("tokens", []))
        revoked = list((document or {}).get("revoked_tokens", []))
        if event.token_id in revoked:
            return None
        return Change(
            set={
                "tokens": [t for t in tokens if t != event.token_id],
                "revoked_tokens": [*revoked[-9:], event.token_id],
            }
        )

    await deps.repository.attendees.apply(str(event.participant_id), str(event.event_id), decide)


async def record_badge(event: Any, deps: Expo) -> None:
    def decide(document: dict[str, Any] | None) -> Change | None:
        tokens = list((document or {}).get("tokens", []))
        if (
            event.token_id in tokens
            or event.token_id in (document or {}).get("revoked_tokens", [])
            or (document or {}).get("erased")
        ):
            return None  # known, or revoked before this (late) issue event arrived
        return Change(set={"tokens": [*tokens[-4:], event.token_id]})

    await deps.repository.attendees.apply(str(event.participant_id), str(event.event_id), decide)


def calendar_id(kind: str, party_id: str) -> str:
    return f"{kind}:{party_id}"


async def hold_session(event: Any, deps: Expo) -> None:
    """session.signup_confirmed / promoted: the participant is busy during the session; a
    meeting already placed at that time moves (sessions win). A cancellation or reschedule that
    overtook this event stands (see `domain.session_hold`)."""
    hold_id = f"session:{event.session_code}"
    slot = domain.Slot(event.slot.starts_at, event.slot.ends_at)
    participant = calendar_id("participant", str(event.participant_id))
    applied = await deps.repository.calendars.apply(
        participant,
        str(event.event_id),
        lambda calendar: domain.session_hold(calendar, hold_id, slot, event.occurred_at),
    )
    await _move_meetings_off_hold(deps, participant, applied.document, hold_id, event)


async def _move_meetings_off_hold(
    deps: Expo, party: str, calendar: dict[str, Any] | None, hold_id: str, cause: Any
) -> None:
    """Meetings give way to the session's hold as it stands now, not as the (maybe older) cause
    placed it; also after a redelivery, which finishes a move a crash cut short."""
    hold = next((h for h in (calendar or {}).get("holds", []) if h["id"] == hold_id), None)
    if hold is not None:
        await move_meetings_off(deps, party, domain.Slot(hold["starts_at"], hold["ends_at"]), cause)


async def move_meetings_off(deps: Expo, party: str, slot: domain.Slot, cause: Any) -> None:
    """Re-place every confirmed meeting of `party` overlapping `slot`. Read from the meetings
    themselves (not the holds), so a redelivered cause finishes a move a crash cut short."""
    for meeting in await deps.repository.confirmed_meetings_between(
        party, slot.starts_at, slot.ends_at
    ):
        await _reschedule_meeting(deps, meeting, cause)


async def _reschedule_meeting(deps: Expo, meeting: dict[str, Any], cause: Any) -> None:
    meeting_id, hold_id = meeting["_id"], f"meeting:{meeting['_id']}"
    previous = meeting["starts_at"]
    await _release_table(deps, previous, hold_id)
    placed = await _place(
        deps,
        hold_id,
        meeting["parties"],
        deps.settings.meeting_minutes,
        table=True,
        label={"kind": "meeting"},
    )
    why = domain.explain(
        "session_conflict",
        "Una de las partes se inscribió en una sesión a esa hora.",
        "One of the parties signed up for a session at that time.",
    )

    def decide(document: dict[str, Any] | None) -> Change | None:
        if (
            document is None
            or document["status"] != "confirmed"
            or document["starts_at"] != previous
        ):
            return None
        parties = {
            "forum_id": deps.pack.forum.id,
            "meeting_id": meeting_id,
            "requester": _party(document["requester"]),
            "invitee": _party(document["invitee"]),
        }
        if placed is None:
            event = domain.new_event(
                MeetingDeclined,
                meeting_id,
                cause.event_id,
                **parties,
                explanation=domain.explain(
                    "no_common_slot",
                    f"{why.es} No queda otro horario común.",
                    f"{why.en} No other common slot is left.",
                ),
            )
            return Change(
                set={"status": "declined", "explanation": event.explanation.model_dump()},
                events=[event],
            )
        slot, table = placed
        event = domain.new_event(
            MeetingConfirmed,
            meeting_id,
            cause.event_id,
            **parties,
            previous_starts_at=previous,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            table=table,
            explanation=why,
        )
        return Change(
            set={"starts_at": slot.starts_at, "ends_at": slot.ends_at, "table": table},
            events=[event],
        )

    await deps.repository.meetings.apply(meeting_id, None, decide)
    log.info("meeting moved off a session", meeting_id=meeting_id, placed=placed is not None)


async def _release_table(deps: Expo, starts_at: datetime, hold_id: str) -> None:
    def decide(document: dict[str, Any] | None) -> Change | None:
        used = dict((document or {}).get("used", {}))
        kept = {number: held for number, held in used.items() if held != hold_id}
        return Change(set={"used": kept}) if len(kept) != len(used) else None

    await deps.repository.tables.apply(
        f"tables:{starts_at.astimezone(UTC).isoformat()}", None, decide
    )


async def free_session(event: Any, deps: Expo) -> None:
    """session.signup_cancelled: the session no longer blocks; a tombstone keeps an older,
    late sign-up from placing the hold again."""
    hold_id = f"session:{event.session_code}"
    await deps.repository.calendars.apply(
        calendar_id("participant", str(event.participant_id)),
        str(event.event_id),
        lambda calendar: domain.session_release(calendar, hold_id, event.occurred_at),
    )


async def move_session(event: Any, deps: Expo) -> None:
    """session.rescheduled / cancelled: every attendee's hold follows the session, as of the
    event; a sign-up or cancellation of the attendee newer than it stands."""
    cancelled = event.event_type == "session.cancelled"
    hold_id = f"session:{event.session_code}"
    for person in event.affected:
        if person.participant_id is None:
            continue
        attendee = person.relation == "attendee"

        def decide(calendar: dict[str, Any] | None, attendee: bool = attendee) -> Change | None:
            if cancelled:
                return domain.session_release(calendar, hold_id, event.occurred_at)
            holds = (calendar or {}).get("holds", [])
            if not attendee and not any(h["id"] == hold_id for h in holds):
                return None  # a speaker or a waitlisted person who does not sit in it
            slot = domain.Slot(event.current.starts_at, event.current.ends_at)
            return domain.session_hold(calendar, hold_id, slot, event.occurred_at)

        participant = calendar_id("participant", str(person.participant_id))
        applied = await deps.repository.calendars.apply(participant, str(event.event_id), decide)
        if not cancelled:
            await _move_meetings_off_hold(deps, participant, applied.document, hold_id, event)


async def erase_participant(event: Any, deps: Expo) -> None:
    """Remove names and contact details from the projection, leads and applications; keep the
    counts (a lead stays a lead, an application stays an application) for the statistics."""
    pid, cause = str(event.participant_id), str(event.event_id)
    repo = deps.repository
    wiped = {name: None for name in domain.CONTACT_FIELDS}
    # When it happened, not when it arrived: the same document whichever event came first.
    await repo.attendees.apply(
        pid,
        cause,
        lambda d: Change(
            set={**wiped, "tokens": [], "erased": True, "erased_at": event.occurred_at}
        ),
    )
    await _wipe_leads(deps, pid, cause, {"erased": True})
    for application_id in await repo.application_ids_of_participant(pid):
        await repo.applications.apply(
            application_id,
            cause,
            lambda d: Change(set={"note": None, "cv_id": None, "erased": True}) if d else None,
        )
    for meeting_id in await repo.meeting_ids_of_party(calendar_id("participant", pid)):
        # The topic is free text the requester wrote; it may name the person.
        await repo.meetings.apply(
            meeting_id, cause, lambda d: Change(set={"topic": None, "erased": True}) if d else None
        )
    for application_id in await repo.application_ids_of_participant(pid):
        found = (
            await repo.applications.collection.find_one({"_id": application_id}, {"cv_history": 1})
            or {}
        )
        for cv_id in found.get("cv_history", []):
            await repo.delete_cv(cv_id)
    log.info("participant erased from expo", participant_id=pid)


# --- leads ------------------------------------------------------------------------------------


@dataclass
class ScanAnswer:
    stored: bool
    explanation: Explanation
    lead_id: str | None = None
    merged: bool = False
    scans: int = 0


async def resolve_scan(deps: Expo, code: str) -> tuple[dict[str, Any] | None, Explanation | None]:
    """Who a scanned code names. A signed badge token (`<payload>.<signature>`) is verified with
    the shared badge secret, then its token id looked up in the projection of `badge.issued`
    (revoked tokens are gone from it); a bare token id is looked up the same way; a participant
    id is accepted when the settings allow it."""
    repo = deps.repository
    code = code.strip()
    if "." in code:
        secrets_ = deps.settings.badge_verification_secrets()
        if not secrets_:
            return None, domain.explain(
                "badge_unverifiable",
                "Expo no tiene configurada la clave de las credenciales.",
                "Expo has no badge secret configured to verify this badge.",
            )
        try:
            token = verify_badge_token(secrets_, code, forum_id=deps.pack.forum.id)
        except BadgeTokenRefused as refusal:
            return None, domain.explain(refusal.code, refusal.message_es, refusal.message_en)
        return await repo.attendee_by_token(token.token_id), None
    if deps.settings.accept_participant_id_scans:
        try:
            return await repo.attendee(str(uuid.UUID(code))), None
        except ValueError:
            pass
    return await repo.attendee_by_token(code), None


async def scan_badge(
    deps: Expo, exhibitor: dict[str, Any], code: str, note: str | None
) -> ScanAnswer:
    repo, now = deps.repository, deps.clock()
    attendee, why_not = await resolve_scan(deps, code)
    why_not = why_not or domain.scan_refusal(attendee)
    if why_not is not None:
        return ScanAnswer(False, why_not)
    pid = attendee["_id"]
    lead_id = domain.lead_id(exhibitor["_id"], pid)
    contact = {name: attendee.get(name) for name in domain.CONTACT_FIELDS}

    def decide(lead: dict[str, Any] | None) -> Decision[tuple[bool, int]]:
        notes = list((lead or {}).get("notes", []))
        if note:
            notes = [*notes, note][-20:]
        if lead is None:
            event = domain.new_event(
                LeadCaptured,
                lead_id,
                forum_id=deps.pack.forum.id,
                lead_id=lead_id,
                exhibitor_id=exhibitor["_id"],
                participant_id=pid,
                scanned_at=now,
            )
            return Decision(
                (False, 1),
                Change(
                    set={
                        "exhibitor_id": exhibitor["_id"],
                        "participant_id": pid,
                        "contact": contact,
                        "scans": 1,
                        "first_scanned_at": now,
                        "last_scanned_at": now,
                        "notes": notes,
                    },
                    events=[event],
                ),
            )
        scans = lead.get("scans", 1) + 1
        return Decision(
            (True, scans),
            Change(
                set={"contact": contact, "scans": scans, "last_scanned_at": now, "notes": notes}
            ),
        )

    merged, scans = (await repo.leads.apply(lead_id, None, decide)).result
    if merged:
        explanation = domain.explain(
            "lead_merged",
            "Contacto ya registrado: se sumó este escaneo.",
            "Contact already captured: this scan was merged into it.",
        )
    else:
        explanation = domain.explain("lead_captured", "Contacto guardado.", "Contact captured.")
    return ScanAnswer(True, explanation, lead_id, merged, scans)


# --- B2B meetings -----------------------------------------------------------------------------


async def party_exists(deps: Expo, party: Party) -> bool:
    if party.kind == "exhibitor":
        found = await deps.repository.exhibitor(str(party.id))
        return bool(found and found["status"] == "approved")
    found = await deps.repository.attendee(str(party.id))
    return bool(found and found.get("status") == "confirmed" and not found.get("erased"))


def _party(data: dict[str, Any]) -> Party:
    return Party(kind=data["kind"], id=data["id"])


async def _take_cap(deps: Expo, party: Party, meeting_id: str) -> bool:
    """Count the meeting against the party's cap, atomically in its calendar document."""
    cap = deps.settings.meeting_cap

    def decide(calendar: dict[str, Any] | None) -> Decision[bool]:
        meetings = list((calendar or {}).get("meetings", []))
        if meeting_id in meetings:
            return Decision(True)
        if len(meetings) >= cap:
            return Decision(False)
        return Decision(
            True,
            Change(
                set={
                    "meetings": [*meetings, meeting_id],
                    "holds": (calendar or {}).get("holds", []),
                }
            ),
        )

    applied = await deps.repository.calendars.apply(
        calendar_id(party.kind, str(party.id)), None, decide
    )
    return bool(applied.result)


async def _give_back_cap(deps: Expo, party: Party, meeting_id: str) -> None:
    def decide(calendar: dict[str, Any] | None) -> Change | None:
        meetings = list((calendar or {}).get("meetings", []))
        return (
            Change(set={"meetings": [m for m in meetings if m != meeting_id]})
            if meeting_id in meetings
            else None
        )

    await deps.repository.calendars.apply(calendar_id(party.kind, str(party.id)), None, decide)


def cap_explanation(cap: int) -> Explanation:
    return domain.explain(
        "meeting_cap_reached",
        f"Se alcanzó el máximo de {cap} reuniones por persona.",
        f"The limit of {cap} meetings per person has been reached.",
    )


async def request_meeting(deps: Expo, requester: Party, request: MeetingRequest) -> dict[str, Any]:
    invitee = request.invitee
    if requester == invitee:
        raise refused(
            422,
            "same_party",
            "No puede pedirse una reunión a sí mismo.",
            "You cannot meet yourself.",
        )
    if not await party_exists(deps, requester):
        raise refused(
            403,
            "not_confirmed",
            "Solo participantes confirmados y expositores aprobados piden reuniones.",
            "Only confirmed participants and approved exhibitors request meetings.",
        )
    if not await party_exists(deps, invitee):
        raise refused(
            404,
            "unknown_invitee",
            "La otra parte no es un participante confirmado ni un expositor aprobado.",
            "The other party is not a confirmed participant or an approved exhibitor.",
        )
    meeting_id = str(uuid.uuid4())
    if not await _take_cap(deps, requester, meeting_id):
        raise Refused(409, cap_explanation(deps.settings.meeting_cap))
    now = deps.clock()
    event = domain.new_event(
        MeetingRequested,
        meeting_id,
        forum_id=deps.pack.forum.id,
        meeting_id=meeting_id,
        requester=requester,
        invitee=invitee,
        topic=request.topic,
    )
    parties = [
        calendar_id(requester.kind, str(requester.id)),
        calendar_id(invitee.kind, str(invitee.id)),
    ]
    applied = await deps.repository.meetings.apply(
        meeting_id,
        None,
        lambda d: (
            Change(
                set={
                    "forum_id": deps.pack.forum.id,
                    "status": "requested",
                    "requester": requester.model_dump(mode="json"),
                    "invitee": invitee.model_dump(mode="json"),
                    "parties": parties,
                    "topic": request.topic,
                    "requested_at": now,
                },
                events=[event],
            )
            if d is None
            else None
        ),
    )
    return applied.document or {}


async def decline_meeting(
    deps: Expo, meeting_id: str, actor: Party | None, explanation: Explanation
) -> dict[str, Any]:
    meeting = await _meeting_for(deps, meeting_id, actor)

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document["status"] != "requested":
            return None
        event = domain.new_event(
            MeetingDeclined,
            meeting_id,
            forum_id=deps.pack.forum.id,
            meeting_id=meeting_id,
            requester=_party(document["requester"]),
            invitee=_party(document["invitee"]),
            explanation=explanation,
        )
        return Change(
            set={"status": "declined", "explanation": explanation.model_dump()}, events=[event]
        )

    applied = await deps.repository.meetings.apply(meeting_id, None, decide)
    for side in ("requester", "invitee"):
        await _give_back_cap(deps, _party(meeting[side]), meeting_id)
    return applied.document or meeting


async def _meeting_for(deps: Expo, meeting_id: str, actor: Party | None) -> dict[str, Any]:
    meeting = await deps.repository.meeting(meeting_id)
    if meeting is None:
        raise refused(404, "not_found", "Reunión desconocida.", "Unknown meeting.")
    if actor is not None and _party(meeting["invitee"]) != actor:
        raise refused(
            403,
            "not_invitee",
            "Solo la parte invitada responde a la solicitud.",
            "Only the invited party answers the request.",
        )
    return meeting


async def _place(
    deps: Expo,
    hold_id: str,
    parties: list[str],
    minutes: int,
    *,
    table: bool,
    label: dict[str, Any],
) -> tuple[domain.Slot, int | None] | None:
    """The first slot free in every party's calendar (and with a free table), reserved in all of
    them. Each reservation is one conditional write on one calendar; when a later one fails,
    the earlier ones are given back and the next slot is tried."""
    repo = deps.repository
    for calendar in parties:  # stale holds of an attempt that crashed midway
        await repo.calendars.apply(calendar, None, lambda c: domain.release(c, hold_id))
    grid = domain.slot_grid(deps.pack, minutes)
    calendars = [((await repo.calendars.get(c)) or {}).get("holds", []) for c in parties]
    for slot in domain.common_free_slots(grid, *calendars, ignore=hold_id):
        hold = domain.hold_entry(hold_id, label.get("kind", "meeting"), slot)
        held: list[str] = []
        for calendar in parties:
            reserved = await repo.calendars.apply(
                calendar, None, lambda c, h=hold: domain.reserve(c, h)
            )
            if not reserved.result:
                break
            held.append(calendar)
        if len(held) == len(parties):
            number = await _take_table(deps, slot, hold_id) if table else None
            if not table or number is not None:
                return slot, number
        for calendar in held:
            await repo.calendars.apply(calendar, None, lambda c: domain.release(c, hold_id))
    return None


async def _take_table(deps: Expo, slot: domain.Slot, hold_id: str) -> int | None:
    tables = deps.settings.meeting_tables

    def decide(document: dict[str, Any] | None) -> Decision[int | None]:
        used = dict((document or {}).get("used", {}))
        if hold_id in used.values():
            return Decision(next(int(n) for n, h in used.items() if h == hold_id))
        free = next((n for n in range(1, tables + 1) if str(n) not in used), None)
        if free is None:
            return Decision(None)
        used[str(free)] = hold_id
        return Decision(free, Change(set={"used": used, "starts_at": slot.starts_at}))

    applied = await deps.repository.tables.apply(
        f"tables:{slot.starts_at.astimezone(UTC).isoformat()}", None, decide
    )
    return applied.result


async def accept_meeting(deps: Expo, meeting_id: str, actor: Party | None) -> dict[str, Any]:
    meeting = await _meeting_for(deps, meeting_id, actor)
    if meeting["status"] == "confirmed":
        return meeting
    if meeting["status"] != "requested":
        raise refused(
            409,
            "not_open",
            f"La reunión está en estado «{meeting['status']}».",
            f"The meeting is {meeting['status']}.",
        )
    invitee = _party(meeting["invitee"])
    if not await _take_cap(deps, invitee, meeting_id):
        return await decline_meeting(
            deps, meeting_id, None, cap_explanation(deps.settings.meeting_cap)
        )
    hold_id = f"meeting:{meeting_id}"
    placed = await _place(
        deps,
        hold_id,
        meeting["parties"],
        deps.settings.meeting_minutes,
        table=True,
        label={"kind": "meeting"},
    )
    if placed is None:
        return await decline_meeting(
            deps,
            meeting_id,
            None,
            domain.explain(
                "no_common_slot",
                "No queda un horario libre común con mesa disponible durante la Expo.",
                "No common free slot with a free table is left during the Expo.",
            ),
        )
    slot, table = placed

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document["status"] != "requested":
            return None
        event = domain.new_event(
            MeetingConfirmed,
            meeting_id,
            forum_id=deps.pack.forum.id,
            meeting_id=meeting_id,
            requester=_party(document["requester"]),
            invitee=invitee,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            table=table,
        )
        return Change(
            set={
                "status": "confirmed",
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "table": table,
            },
            events=[event],
        )

    applied = await deps.repository.meetings.apply(meeting_id, None, decide)
    log.info("meeting confirmed", meeting_id=meeting_id)
    return applied.document or {}


# --- job fair ---------------------------------------------------------------------------------


async def post_job(deps: Expo, exhibitor: dict[str, Any], post: JobPost) -> dict[str, Any]:
    if exhibitor["exhibitor_type"] != "job_fair_employer":
        raise refused(
            403,
            "not_an_employer",
            "Solo los empleadores de la bolsa de trabajo publican ofertas.",
            "Only job-fair employers post jobs.",
        )
    job_id, now = str(uuid.uuid4()), deps.clock()
    event = domain.new_event(
        JobPosted,
        job_id,
        forum_id=deps.pack.forum.id,
        job_id=job_id,
        exhibitor_id=exhibitor["_id"],
        employer_name=exhibitor["name"],
        title=post.title,
        location=post.location,
    )
    applied = await deps.repository.jobs.apply(
        job_id,
        None,
        lambda d: (
            Change(
                set={
                    "forum_id": deps.pack.forum.id,
                    "exhibitor_id": exhibitor["_id"],
                    "employer_name": exhibitor["name"],
                    "title": post.title,
                    "description": post.description,
                    "location": post.location,
                    "status": "open",
                    "posted_at": now,
                },
                events=[event],
            )
            if d is None
            else None
        ),
    )
    return applied.document or {}


async def apply_to_job(
    deps: Expo,
    job_id: str,
    participant_id: str,
    data: bytes,
    filename: str | None,
    note: str | None,
) -> dict[str, Any]:
    repo, now = deps.repository, deps.clock()
    job = await repo.job(job_id)
    if job is None or job["status"] != "open":
        raise refused(
            404,
            "no_such_job",
            "La oferta no existe o está cerrada.",
            "The job does not exist or is closed.",
        )
    attendee = await repo.attendee(participant_id)
    if attendee is None or attendee.get("status") != "confirmed" or attendee.get("erased"):
        raise refused(
            403,
            "not_confirmed",
            "Solo participantes con inscripción confirmada pueden postular.",
            "Only participants with a confirmed registration may apply.",
        )
    media_type, why_not = domain.cv_refusal(data, deps.settings.cv_max_bytes)
    if why_not is not None:
        raise Refused(413 if why_not.code == "cv_too_large" else 415, why_not)
    application_id = str(derive_id("application", job_id, participant_id))
    digest = hashlib.sha256(data).hexdigest()
    cv_id = str(derive_id(application_id, digest))
    await repo.store_cv(
        cv_id,
        data,
        media_type=media_type,
        filename=domain.safe_filename(filename, media_type),
        sha256=digest,
    )

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is not None:
            if document.get("cv_id") == cv_id:
                return None
            raise refused(
                409,
                "already_applied",
                "Ya postuló a esta oferta.",
                "You have already applied to this job.",
            )
        event = domain.new_event(
            JobApplicationReceived,
            application_id,
            forum_id=deps.pack.forum.id,
            application_id=application_id,
            job_id=job_id,
            exhibitor_id=job["exhibitor_id"],
            participant_id=participant_id,
        )
        return Change(
            set={
                "forum_id": deps.pack.forum.id,
                "job_id": job_id,
                "exhibitor_id": job["exhibitor_id"],
                "participant_id": participant_id,
                "cv_id": cv_id,
                "cv_history": [cv_id],
                "note": note,
                "received_at": now,
                "status": "received",
            },
            events=[event],
        )

    applied = await repo.applications.apply(application_id, None, decide)
    return applied.document or {}


async def cv_for_employer(
    deps: Expo, exhibitor: dict[str, Any], application_id: str
) -> dict[str, Any]:
    application = await deps.repository.application(application_id)
    # Another employer's application and a missing one look the same: nothing to learn by probing.
    if (
        application is None
        or application["exhibitor_id"] != exhibitor["_id"]
        or not application.get("cv_id")
    ):
        raise refused(404, "not_found", "No existe ese CV.", "No such CV.")
    cv = await deps.repository.cv(application["cv_id"])
    if cv is None:
        raise refused(404, "not_found", "No existe ese CV.", "No such CV.")
    return cv


async def schedule_interview(
    deps: Expo, exhibitor: dict[str, Any], application_id: str
) -> dict[str, Any]:
    application = await deps.repository.application(application_id)
    if application is None or application["exhibitor_id"] != exhibitor["_id"]:
        raise refused(404, "not_found", "No existe esa postulación.", "No such application.")
    if application.get("interview"):
        return application
    if application.get("erased"):
        raise refused(
            409,
            "erased",
            "La persona pidió borrar sus datos.",
            "The person asked for their data to be erased.",
        )
    hold_id = f"interview:{application_id}"
    parties = [
        calendar_id("participant", application["participant_id"]),
        calendar_id("exhibitor", exhibitor["_id"]),
    ]
    placed = await _place(
        deps,
        hold_id,
        parties,
        deps.settings.interview_minutes,
        table=False,
        label={"kind": "interview"},
    )
    if placed is None:
        raise refused(
            409,
            "no_common_slot",
            "No queda un horario libre común durante la Expo.",
            "No common free slot is left during the Expo.",
        )
    slot, _ = placed
    booth = exhibitor.get("booth")

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document.get("interview"):
            return None
        event = domain.new_event(
            InterviewScheduled,
            application_id,
            forum_id=deps.pack.forum.id,
            application_id=application_id,
            job_id=document["job_id"],
            exhibitor_id=exhibitor["_id"],
            participant_id=document["participant_id"],
            booth=booth,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        return Change(
            set={
                "status": "interview_scheduled",
                "interview": {"starts_at": slot.starts_at, "ends_at": slot.ends_at, "booth": booth},
            },
            events=[event],
        )

    applied = await deps.repository.applications.apply(application_id, None, decide)
    return applied.document or {}

"""Scheduling's use cases: plain async functions of a request or message and the dependencies.

Every state change is one `AggregateStore.apply` on one document; what must be announced goes in
that document's outbox. Steps spanning documents (a sign-up: the participant's time, then the
session's seat) are each idempotent, so repeating the request completes what a crash left undone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog

from services.scheduling import domain
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from shared.contracts.envelope import Event, derive_id
from shared.contracts.scheduling import (
    PanelistAccepted,
    PanelistDeclined,
    PanelistInvited,
    TravelSupportCancelled,
    TravelSupportCommitted,
)
from shared.decisions import Decision
from shared.pack import EventPack

log = structlog.get_logger("foro.scheduling")

BUDGET_LINE = "panelist_support"
# A hold younger than this may belong to a sign-up still taking its seat (see `sign_up`).
STALE_HOLD_SECONDS = 60


def utc_now() -> datetime:
    return datetime.now(UTC)


class Refused(Exception):
    """A request the service will not carry out, with a reason a person can act on."""

    def __init__(self, status: int, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.details = details


@dataclass
class Scheduling:
    """Everything scheduling's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ScheduleRepository
    settings: SchedulingSettings
    clock: Callable[[], datetime] = utc_now

    @property
    def forum_id(self) -> str:
        return self.pack.forum.id

    @property
    def venue(self) -> domain.VenueRules:
        return domain.VenueRules.from_pack(
            self.pack, self.settings.venue_opens_at, self.settings.venue_closes_at
        )

    def session_id(self, code: str) -> str:
        return domain.session_id(self.forum_id, code)

    def attendance_id(self, participant_id: str) -> str:
        return f"{self.forum_id}:{participant_id}"

    def feed_token(self, subject: str) -> str | None:
        secret = self.settings.feed_secret
        if secret is None:
            return None
        return hmac.new(
            secret.get_secret_value().encode(), subject.encode(), hashlib.sha256
        ).hexdigest()[:24]


# --- the programme --------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    added: int
    updated: int


async def seed_programme(deps: Scheduling) -> Seeded:
    """Put the pack's agenda into the draft: missing items are added; items the secretariat never
    edited follow the pack (moved forum dates); edited items keep the secretariat's version."""
    now, added, updated = deps.clock(), 0, 0
    for item in deps.pack.programme.items:
        document = domain.seed_document(deps.pack, item, now)
        doc_id = deps.session_id(item.code)
        if await deps.repository.insert_if_absent(doc_id, document):
            added += 1
            continue
        applied = await deps.repository.sessions.apply(
            doc_id, None, lambda doc, seeded=document: domain.resync_from_pack(doc, seeded, now)
        )
        updated += applied.change is not None
    log.info("programme seeded", added=added, updated=updated, items=len(deps.pack.programme.items))
    return Seeded(added, updated)


async def conflicts(deps: Scheduling) -> list[domain.Conflict]:
    documents = await deps.repository.draft(deps.forum_id)
    return domain.find_conflicts(domain.scheduled(documents), deps.venue)


async def publish(deps: Scheduling, note: str | None = None) -> dict[str, Any]:
    """Publish the draft as the next release; refused while hard conflicts exist."""
    repo, now = deps.repository, deps.clock()
    documents = await repo.draft(deps.forum_id)
    found = domain.find_conflicts(domain.scheduled(documents), deps.venue)
    if errors := domain.hard(found):
        raise Refused(
            409,
            f"programme: {len(errors)} conflict(s) must be fixed before publishing",
            [c.as_dict() for c in errors],
        )
    previous = await repo.latest_release(deps.forum_id)
    number = (previous or {}).get("number", 0) + 1
    previous_sessions = (previous or {}).get("sessions", [])
    changes = domain.changelog(previous_sessions, [domain.snapshot(d) for d in documents])
    if previous is not None and not any(changes.model_dump().values()):
        raise Refused(409, "programme: nothing changed since the last release")
    touched = set(changes.moved) | set(changes.cancelled)
    attendees = await repo.participants_by_id(
        domain.participants_on([d for d in documents if d["code"] in touched])
    )
    release = domain.build_release(
        deps.pack,
        number,
        documents,
        previous_sessions,
        [c for c in found if c.severity == "warning"],
        attendees,
        now,
        note,
    )
    applied = await repo.releases.apply(
        f"{deps.forum_id}:{number}",
        None,
        lambda existing: (
            None if existing else domain.Change(set=release.document, events=release.events)
        ),
    )
    if applied.change is None:
        raise Refused(
            409, f"programme: release {number} was published meanwhile; review and publish again"
        )
    await _follow_published_changes(deps, number, documents, touched)
    log.info(
        "programme published",
        release=number,
        **{k: len(v) for k, v in changes.model_dump().items()},
    )
    return applied.document or {}


async def _follow_published_changes(
    deps: Scheduling, number: int, documents: list[dict[str, Any]], touched: set[str]
) -> None:
    """Attendees' held times follow what the release moved or cancelled (each step idempotent)."""
    for doc in documents:
        if doc["code"] not in touched:
            continue
        for participant_id in (*doc.get("confirmed", []), *doc.get("waitlist", [])):
            decide = _retime(doc) if doc["status"] == domain.SCHEDULED else _release(doc)
            await deps.repository.attendance.apply(
                deps.attendance_id(participant_id), f"release:{number}:{doc['code']}", decide
            )


async def publish_on_start(deps: Scheduling, seeded: Seeded) -> dict[str, Any] | None:
    """At start-up: release 1 from the seeded draft, or a release of what the pack changed in it,
    unless conflicts forbid it (then the secretariat fixes and publishes)."""
    if seeded.updated == 0 and await deps.repository.latest_release(deps.forum_id) is not None:
        return None
    try:
        return await publish(
            deps, note="Programa del paquete del foro / Programme from the event pack"
        )
    except Refused as refused:
        log.warning("programme not published at start-up", reason=refused.reason)
        return None


async def edit_session(deps: Scheduling, code: str, fields: dict[str, Any]) -> dict[str, Any]:
    applied = await deps.repository.sessions.apply(
        deps.session_id(code), None, lambda doc: domain.edit(doc, fields, deps.clock())
    )
    if applied.document is None:
        raise Refused(404, "code: no such session")
    return applied.document


async def create_session(deps: Scheduling, document: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock()
    document = {
        **document,
        "forum_id": deps.forum_id,
        "status": domain.SCHEDULED,
        "cancel_reason": None,
        "people": [],
        "confirmed": [],
        "waitlist": [],
        "origin": "secretariat",
        "created_at": now,
        "updated_at": now,
    }
    if not await deps.repository.insert_if_absent(deps.session_id(document["code"]), document):
        raise Refused(409, "code: a session with this code exists")
    return document


async def set_people(deps: Scheduling, code: str, people: list[dict[str, Any]]) -> dict[str, Any]:
    for person in people:
        person["person_id"] = person.get("person_id") or domain.person_id_for(
            deps.forum_id, person.get("email"), person["name"], person.get("affiliation")
        )
        if not person.get("participant_id") and person.get("email"):
            found = await deps.repository.participants.collection.find_one(
                {
                    "forum_id": deps.forum_id,
                    "email": person["email"].lower(),
                    "erased": {"$ne": True},
                },
                {"_id": 1},
            )
            person["participant_id"] = found["_id"] if found else None
    applied = await deps.repository.sessions.apply(
        deps.session_id(code), None, lambda doc: domain.set_people(doc, people, deps.clock())
    )
    if applied.document is None:
        raise Refused(404, "code: no such session")
    return applied.document


# --- sign-ups -------------------------------------------------------------------------------


async def sign_up(deps: Scheduling, code: str, participant_id: str) -> domain.SeatOutcome:
    """A confirmed participant asks for a seat in a session.

    Why this is correct under concurrent requests, with single-document atomicity only:
    1. the participant's time is reserved first, on their `attendance` document (optimistic
       version check): two overlapping sign-ups of one person serialise there, and the second
       sees the first's hold and is refused;
    2. then the seat, on the session document (optimistic version check): concurrent sign-ups
       for the last seats serialise there, so at most `capacity` are confirmed, the rest wait;
    3. if the session refuses (cancelled meanwhile), the hold is released again (compensation).
    A waitlist place holds the time too, so that a promotion can never create an overlap.
    Both steps are idempotent, so repeating a request whose process died between them finishes it.
    A hold left by such a crash and never retried is stale: it is dropped when it blocks another
    sign-up and the session does not list the participant (after a grace period, because a hold
    that young may belong to a sign-up between steps 1 and 2).
    """
    repo = deps.repository
    participant = await repo.participant(participant_id)
    if (
        participant is None
        or participant.get("forum_id") != deps.forum_id
        or participant.get("status") != "confirmed"
        or participant.get("erased")
    ):
        raise Refused(
            403, "participant_id: only confirmed participants of the forum can sign up for sessions"
        )
    session = await repo.session(deps.session_id(code))
    if session is None:
        raise Refused(404, "code: no such session")
    if session["status"] != domain.SCHEDULED:
        raise Refused(409, "session: the session is cancelled")
    if session["kind"] not in domain.SIGNUP_KINDS:
        raise Refused(409, f"session: a {session['kind']} takes no sign-ups")

    attendance_id = deps.attendance_id(participant_id)

    def reserve(held: dict[str, Any] | None) -> Decision[str | None]:
        change, clash = domain.reserve_time(held, code, session["starts_at"], session["ends_at"])
        if change is not None:
            change.set["holds"][-1]["held_at"] = deps.clock()
            change.set["participant_id"] = participant_id
        return Decision(clash, change)

    for _ in range(2):
        clash: str | None = (await repo.attendance.apply(attendance_id, None, reserve)).result
        if clash is None:
            break
        if not await _drop_stale_hold(deps, attendance_id, participant_id, clash):
            other = await repo.session(deps.session_id(clash))
            title = (other or {}).get("title", {}).get("en", "")
            raise Refused(
                409,
                f"session: overlaps {clash} ({title}), which you already hold; give that up first",
                {"overlaps": clash},
            )
    else:
        raise Refused(409, "session: overlaps another session you hold")

    rooms = deps.venue.rooms

    def seat(doc: dict[str, Any] | None) -> Decision[domain.SeatOutcome]:
        change, result = domain.take_seat(doc, participant_id, deps.pack, rooms)
        return Decision(result, change)

    outcome: domain.SeatOutcome = (
        await repo.sessions.apply(deps.session_id(code), None, seat)
    ).result
    if outcome.status == "refused":
        await repo.attendance.apply(
            attendance_id, None, lambda held: domain.release_time(held, code)
        )
        raise Refused(409, outcome.reason or "session: refused")
    return outcome


async def _drop_stale_hold(
    deps: Scheduling, attendance_id: str, participant_id: str, code: str
) -> bool:
    held = await deps.repository.holds_of(attendance_id)
    hold = next((h for h in (held or {}).get("holds", []) if h["code"] == code), None)
    if hold is None:
        return True  # released meanwhile: try again
    if (deps.clock() - hold.get("held_at", deps.clock())).total_seconds() < STALE_HOLD_SECONDS:
        return False
    session = await deps.repository.session(deps.session_id(code))
    if (
        session
        and session["status"] == domain.SCHEDULED
        and participant_id in (*session.get("confirmed", []), *session.get("waitlist", []))
    ):
        return False
    await deps.repository.attendance.apply(
        attendance_id, None, lambda h: domain.release_time(h, code)
    )
    return True


async def cancel_signup(
    deps: Scheduling, code: str, participant_id: str, cause: str | None = None
) -> list[str]:
    """Give up a seat or waitlist place; the first waiting is promoted. Returns who was promoted."""
    rooms = deps.venue.rooms

    def leave(doc: dict[str, Any] | None) -> Decision[list[str]]:
        change, who = domain.give_up_seat(doc, participant_id, deps.pack, rooms)
        return Decision(list(who), change)

    applied = await deps.repository.sessions.apply(deps.session_id(code), cause, leave)
    promoted: list[str] = applied.result or []  # a duplicate cause promotes nobody again
    if applied.document is None:
        raise Refused(404, "code: no such session")
    await deps.repository.attendance.apply(
        deps.attendance_id(participant_id), cause, lambda held: domain.release_time(held, code)
    )
    return promoted


# --- the participants projection (registration's events) -------------------------------------


async def project_registration(deps: Scheduling, event: Any) -> None:
    """registration.confirmed / promoted / updated / cancelled: keep the participant's snapshot.

    Registration's events reach scheduling on separate queues, so an erasure or a cancellation
    may arrive before the confirmation it followed; each completes here what the other left:
    a snapshot arriving after the erasure anonymises the people its e-mail names (the erasure did
    not know it), and a cancellation drops the sign-ups whether or not the erasure came first.
    """
    participant = event.participant.model_dump(mode="python")
    participant_id = str(event.participant.participant_id)
    participant["participant_id"] = participant_id
    cause = str(event.event_id)
    applied = await deps.repository.participants.apply(
        participant_id,
        cause,
        lambda doc: domain.project_participant(
            doc,
            participant,
            event.occurred_at,
            registers=event.event_type == "registration.confirmed",
        ),
    )
    document = applied.document
    if document is None:
        return
    # Also after a duplicate: a redelivery finishes what a crash cut short (each step is idempotent).
    if document.get("erased"):
        if participant.get("email"):
            await _forget_on_sessions(deps, participant_id, participant["email"], f"{cause}:erase")
    elif document.get("status") == "confirmed" and document.get("email"):
        for session_id in await deps.repository.sessions_with({"people.email": document["email"]}):
            await deps.repository.sessions.apply(
                session_id,
                f"{cause}:link",
                lambda doc: domain.link_people(doc, participant_id, document["email"]),
            )
    if document.get("status") in ("cancelled", "rejected"):
        await _drop_signups(deps, participant_id, cause)


async def _drop_signups(deps: Scheduling, participant_id: str, cause: str) -> None:
    query = {
        "forum_id": deps.forum_id,
        "$or": [{"confirmed": participant_id}, {"waitlist": participant_id}],
    }
    for session_id in await deps.repository.sessions_with(query):
        code = session_id.split(":", 1)[1]
        await cancel_signup(deps, code, participant_id, cause=f"{cause}:{code}")


async def _forget_on_sessions(
    deps: Scheduling, participant_id: str, email: str | None, cause: str
) -> None:
    """Anonymise the participant wherever a session names them: by id, or by an e-mail not yet linked."""
    repo, now = deps.repository, deps.clock()
    query: dict[str, Any] = {"people.participant_id": participant_id}
    if email:
        query = {"$or": [query, {"people.email": email}]}
    for session_id in await repo.sessions_with(query):

        def anonymise(doc: dict[str, Any] | None) -> domain.Change | None:
            linked = domain.link_people(doc, participant_id, email) if email else None
            doc = {**doc, **linked.set} if (doc and linked) else doc
            erased = domain.erase_from_people(doc, participant_id, now)
            return erased or linked

        await repo.sessions.apply(session_id, cause, anonymise)


async def erase_participant(deps: Scheduling, event: Any) -> None:
    """participant.erased: no name, e-mail or phone of theirs stays here; counts and roles do.
    Arriving before the participant's confirmation, it leaves a tombstone that the confirmation
    completes (see `project_registration`)."""
    repo = deps.repository
    participant_id, cause = str(event.participant_id), str(event.event_id)
    before = await repo.participant(participant_id)
    email = (before or {}).get("email")
    await repo.participants.apply(
        participant_id, cause, lambda doc: domain.erase_participant(doc, event.occurred_at)
    )
    await _forget_on_sessions(deps, participant_id, email, f"{cause}:erase")
    for release_id in await repo.releases_naming(participant_id):

        def scrub(doc: dict[str, Any] | None) -> domain.Change | None:
            if doc is None:
                return None
            sessions = [
                {
                    **s,
                    "people": [
                        {**p, "name": None, "affiliation": None, "erased": True}
                        if p.get("participant_id") == participant_id
                        else p
                        for p in s.get("people", [])
                    ],
                }
                for s in doc["sessions"]
            ]
            return domain.Change(set={"sessions": sessions})

        await repo.releases.apply(release_id, f"{cause}:erase", scrub)


# --- invitations and travel support ---------------------------------------------------------

_INVITATION_EVENTS: dict[str, type[Event]] = {
    "invited": PanelistInvited,
    "accepted": PanelistAccepted,
    "declined": PanelistDeclined,
}


async def move_invitation(
    deps: Scheduling, code: str, person_id: str, to: str, travel_support: bool = False
) -> dict[str, Any]:
    now = deps.clock()

    def decide(doc: dict[str, Any] | None) -> Decision[str | None]:
        person = domain.find_person(doc or {}, person_id) if doc else None
        event = None
        if person is not None:
            extra = {"travel_support_requested": travel_support} if to == "invited" else {}
            event = _INVITATION_EVENTS[to](
                producer=domain.PRODUCER,
                forum_id=deps.forum_id,
                session_code=code,
                person_id=person_id,
                participant_id=person.get("participant_id"),
                role=person["role"],
                country=person.get("country"),
                **extra,
            )
        change, refusal = domain.move_invitation(doc, person_id, to, event, now, travel_support)  # type: ignore[arg-type]
        return Decision(refusal, change)

    applied = await deps.repository.sessions.apply(deps.session_id(code), None, decide)
    refusal: str | None = applied.result
    if refusal:
        raise Refused(404 if "no such" in refusal or "not on" in refusal else 409, refusal)
    person = domain.find_person(applied.document or {}, person_id) or {}
    if to == "declined":
        # Also when the decline was recorded before a crash: the ledger step is idempotent.
        await _cancel_travel_support(deps, code, person)
    return person


def support_id(deps: Scheduling, code: str, person_id: str) -> str:
    return str(derive_id(deps.forum_id, BUDGET_LINE, code, person_id))


def _line(deps: Scheduling) -> Any:
    line = next((line for line in deps.pack.budget.lines if line.code == BUDGET_LINE), None)
    if line is None:
        raise Refused(409, f"budget: the event pack has no '{BUDGET_LINE}' budget line")
    return line


async def _cancel_travel_support(deps: Scheduling, code: str, person: dict[str, Any]) -> None:
    if not person:
        return
    cents = Decimal("0.01")
    line_amount = _line(deps).amount.quantize(cents)
    key = support_id(deps, code, person["person_id"])

    def decide(ledger: dict[str, Any] | None) -> domain.Change | None:
        change, released, total = domain.cancel_support(ledger, key)
        if change is not None:
            change.events = [
                TravelSupportCancelled(
                    producer=domain.PRODUCER,
                    forum_id=deps.forum_id,
                    support_id=key,
                    session_code=code,
                    person_id=person["person_id"],
                    participant_id=person.get("participant_id"),
                    amount=released.quantize(cents),
                    budget_line=BUDGET_LINE,
                    committed_total=total.quantize(cents),
                    line_amount=line_amount,
                )
            ]
        return change

    await deps.repository.ledgers.apply(f"{deps.forum_id}:{BUDGET_LINE}", None, decide)


async def commit_travel_support(
    deps: Scheduling, code: str, person_id: str, amount: Decimal
) -> dict[str, Any]:
    """Commit panelist-support money to an accepted invitation, never beyond the budget line."""
    repo = deps.repository
    line = _line(deps)
    session = await repo.session(deps.session_id(code))
    person = domain.find_person(session or {}, person_id) if session else None
    if person is None:
        raise Refused(404, "person_id: not on this session")
    if (person.get("invitation") or {}).get("status") != "accepted":
        raise Refused(409, "invitation: travel support is committed only to accepted invitations")
    cents = Decimal("0.01")
    amount, line_amount = amount.quantize(cents), line.amount.quantize(cents)
    key = support_id(deps, code, person_id)

    def decide(ledger: dict[str, Any] | None) -> Decision[tuple[Decimal, str | None]]:
        change, total, refusal = domain.commit_support(ledger, key, amount, line_amount)
        if change is not None:
            change.events = [
                TravelSupportCommitted(
                    producer=domain.PRODUCER,
                    forum_id=deps.forum_id,
                    support_id=key,
                    session_code=code,
                    person_id=person_id,
                    participant_id=person.get("participant_id"),
                    amount=amount,
                    budget_line=BUDGET_LINE,
                    committed_total=total.quantize(cents),
                    line_amount=line_amount,
                )
            ]
        return Decision((total, refusal), change)

    applied = await repo.ledgers.apply(f"{deps.forum_id}:{BUDGET_LINE}", None, decide)
    total, refusal = applied.result
    if refusal:
        raise Refused(409, refusal)

    def record(doc: dict[str, Any] | None) -> domain.Change | None:
        if doc is None:
            return None
        people = [
            {**p, "invitation": {**(p.get("invitation") or {}), "travel_support_usd": str(amount)}}
            if p["person_id"] == person_id
            else p
            for p in doc.get("people", [])
        ]
        return domain.Change(set={"people": people}) if people != doc.get("people") else None

    await repo.sessions.apply(deps.session_id(code), None, record)
    return {
        "session_code": code,
        "person_id": person_id,
        "amount": str(amount),
        "committed_total": str(total.quantize(cents)),
        "line_amount": str(line_amount),
        "budget_line": BUDGET_LINE,
    }


def _retime(session: dict[str, Any]) -> Callable[[dict[str, Any] | None], domain.Change | None]:
    """Move a participant's hold of `session` to its new time."""
    return lambda held: domain.retime_hold(
        held, session["code"], session["starts_at"], session["ends_at"]
    )


def _release(session: dict[str, Any]) -> Callable[[dict[str, Any] | None], domain.Change | None]:
    """Free a participant's hold of a session that no longer takes place."""
    return lambda held: domain.release_time(held, session["code"])

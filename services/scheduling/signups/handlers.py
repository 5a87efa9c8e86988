"""Sign-ups: a confirmed participant takes a seat (or a waitlist place) in a session, or gives
it up; a cancelled registration gives up all of them."""

from __future__ import annotations

import asyncio

import structlog

from services.scheduling.deps import Refused, Scheduling, on_attendance, on_session
from services.scheduling.documents import (
    SCHEDULED,
    Attendance,
    ParticipantProjection,
    SessionDocument,
    code_of,
)
from services.scheduling.signups import rules
from services.scheduling.signups.rules import SeatOutcome
from shared.decisions import Decision
from shared.persistence.aggregates import UNREAD

log = structlog.get_logger("foro.scheduling")

# A hold younger than this may belong to a sign-up still taking its seat (see `sign_up`).
STALE_HOLD_SECONDS = 60


def may_sign_up(participant: ParticipantProjection | None, forum_id: str) -> bool:
    return (
        participant is not None
        and participant.forum_id == forum_id
        and participant.status == "confirmed"
        and not participant.erased
    )


async def sign_up(deps: Scheduling, code: str, participant_id: str) -> SeatOutcome:
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

    Round trips: the participant, the session and the attendance are read at once (three reads
    in flight together), then one write each for the hold and the seat, the reads standing in
    for the writes' own (a stale one costs a retry: the writes check `version`).
    """
    repo = deps.repository
    attendance_id, doc_id = deps.attendance_id(participant_id), deps.session_id(code)
    stored_participant, stored_session, stored_attendance = await asyncio.gather(
        repo.participant(participant_id), repo.session(doc_id), repo.holds_of(attendance_id)
    )
    if not may_sign_up(ParticipantProjection.read(stored_participant), deps.forum_id):
        raise Refused(
            403, "participant_id: only confirmed participants of the forum can sign up for sessions"
        )
    session = SessionDocument.read(stored_session)
    if session is None:
        raise Refused(404, "code: no such session")
    if (reason := rules.refusal(session)) is not None:
        raise Refused(409, reason)

    def reserve(held: Attendance) -> Decision[str | None]:
        return rules.reserve_time(
            held, participant_id, code, session.starts_at, session.ends_at, deps.clock()
        )

    current = stored_attendance
    for _ in range(2):
        applied = await repo.attendance.apply(
            attendance_id, None, on_attendance(reserve), current=current
        )
        clash: str | None = applied.result
        if clash is None:
            break
        current = UNREAD
        if not await _drop_stale_hold(deps, attendance_id, participant_id, clash):
            other = SessionDocument.read(await repo.session(deps.session_id(clash)))
            title = other.title.get("en", "") if other else ""
            raise Refused(
                409,
                f"session: overlaps {clash} ({title}), which you already hold; give that up first",
                {"overlaps": clash},
            )
    else:
        raise Refused(409, "session: overlaps another session you hold")

    rooms = deps.venue.rooms
    outcome: SeatOutcome = (
        await repo.sessions.apply(
            doc_id,
            None,
            on_session(lambda doc: rules.take_seat(doc, participant_id, deps.pack, rooms)),
            current=stored_session,
        )
    ).result
    if outcome.status == "refused":
        await repo.attendance.apply(
            attendance_id, None, on_attendance(lambda held: rules.release_time(held, code))
        )
        raise Refused(409, outcome.reason or "session: refused")
    return outcome


async def _drop_stale_hold(
    deps: Scheduling, attendance_id: str, participant_id: str, code: str
) -> bool:
    attendance = Attendance.read_or_empty(await deps.repository.holds_of(attendance_id))
    hold = next((h for h in attendance.holds if h.code == code), None)
    if hold is None:
        return True  # released meanwhile: try again
    now = deps.clock()
    if (now - (hold.held_at or now)).total_seconds() < STALE_HOLD_SECONDS:
        return False
    session = SessionDocument.read(await deps.repository.session(deps.session_id(code)))
    if session and session.status == SCHEDULED and session.lists(participant_id):
        return False
    await deps.repository.attendance.apply(
        attendance_id, None, on_attendance(lambda held: rules.release_time(held, code))
    )
    return True


async def cancel_signup(
    deps: Scheduling, code: str, participant_id: str, cause: str | None = None
) -> list[str]:
    """Give up a seat or waitlist place; the first waiting is promoted. Returns who was promoted."""
    rooms = deps.venue.rooms
    applied = await deps.repository.sessions.apply(
        deps.session_id(code),
        cause,
        on_session(lambda doc: rules.give_up_seat(doc, participant_id, deps.pack, rooms)),
    )
    promoted: list[str] = applied.result or []  # a duplicate cause promotes nobody again
    if applied.document is None:
        raise Refused(404, "code: no such session")
    await deps.repository.attendance.apply(
        deps.attendance_id(participant_id),
        cause,
        on_attendance(lambda held: rules.release_time(held, code)),
    )
    return promoted


async def drop_signups(deps: Scheduling, participant_id: str, cause: str) -> None:
    """A registration cancelled or rejected: every seat and waitlist place of theirs is given up."""
    for session_id in await deps.repository.sessions_listing(deps.forum_id, participant_id):
        code = code_of(session_id)
        await cancel_signup(deps, code, participant_id, cause=f"{cause}:{code}")

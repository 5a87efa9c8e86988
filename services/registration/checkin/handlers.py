"""Check-in use case: a scanned badge token at a named point (entrance, expo, a room).

Scans are taken on the forum's days only (venue time, with a margin either side). The token's
signature and forum are checked next (`shared/badges.py`), then the issuer's state:
a revoked token, or a participant no longer confirmed, is refused with a reason the door staff can
read. The first scan per participant, point and local day records the check-in and publishes
`attendee.checked_in`; later scans that day answer "already checked in" and publish nothing.

A scan queued by an offline scanner comes with its own time (`scanned_at`, at most a day old and
not ahead of registration's clock beyond a minute): the window and the day are then the scan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import SecretStr

from services.registration.badges.handlers import needs_accreditation
from services.registration.checkin import rules
from services.registration.deps import Registration, on_participant
from services.registration.documents import ParticipantDocument
from services.registration.intake.rules import problem
from shared.badges import BadgeTokenRefused, verify_badge_token
from shared.contracts.envelope import FieldProblem
from shared.decisions import Decision

log = structlog.get_logger("foro.registration.checkin")


@dataclass(frozen=True)
class CheckinResult:
    first: bool
    checkin_id: str
    point: str
    day: str
    participant: dict[str, Any]
    at: datetime
    replayed: bool = False
    delegation: dict[str, str] | None = None  # {"code", "name"} of the person's delegation


class CheckinRefused(Exception):
    def __init__(self, problem: FieldProblem, status: int = 403) -> None:
        super().__init__(problem.message_en)
        self.problem = problem
        self.status = status


def points(deps: Registration, named: list[str]) -> list[str]:
    """Where badges are scanned: the named points of the settings and every room of the pack."""
    return [*named, *(room.code for room in deps.pack.programme.rooms if room.code not in named)]


async def check_in(
    token: str,
    point: str,
    deps: Registration,
    secrets: list[SecretStr],
    named_points: list[str],
    margin: timedelta = timedelta(hours=12),
    scanned_at: datetime | None = None,
    scan_id: str | None = None,
) -> CheckinResult:
    if point not in points(deps, named_points):
        raise CheckinRefused(
            problem(
                "point", "unknown_point", "Punto de control desconocido.", "Unknown check-in point."
            ),
            422,
        )
    now = deps.clock()
    if scanned_at is not None:
        if late := rules.scan_time_refusal(scanned_at, now):
            log.info("check-in refused", point=point, reason=late.code)
            raise CheckinRefused(late, 422)
        now = scanned_at.astimezone(UTC)  # the scan's own time decides the window and the day
    if outside := rules.checkin_window_refusal(deps.pack.forum, now, margin):
        log.info("check-in refused", point=point, reason=outside.code)
        raise CheckinRefused(outside)
    try:
        verified = verify_badge_token(secrets, token, forum_id=deps.pack.forum.id)
    except BadgeTokenRefused as refused:
        log.info("check-in refused", point=point, reason=refused.code)
        raise CheckinRefused(
            problem("token", refused.code, refused.message_es, refused.message_en)
        ) from None
    document = await deps.repository.find_by_badge_token(verified.token_id)
    participant = ParticipantDocument.read(document)
    refused_problem = rules.checkin_refusal(
        participant, verified.token_id, needs_accreditation(deps, participant)
    )
    if refused_problem is not None:
        log.info(
            "check-in refused",
            point=point,
            reason=refused_problem.code,
            participant_id=participant.id if participant else None,
        )
        raise CheckinRefused(refused_problem)
    assert document is not None and participant is not None
    day = now.astimezone(deps.pack.forum.tz).date()

    def decide(
        doc: ParticipantDocument | None,
    ) -> Decision[rules.CheckinOutcome] | None:
        if doc is None or rules.checkin_refusal(
            doc, verified.token_id, needs_accreditation(deps, doc)
        ):
            return None  # revoked between the lookup and the write: the next scan says why
        change, result = rules.check_in(doc, point, day, now, scan_id)
        return Decision(result, change)

    applied = await deps.repository.participants.apply(participant.id, None, on_participant(decide))
    result: rules.CheckinOutcome | None = applied.result
    if result is None:
        raise CheckinRefused(rules.checkin_refusal(None, verified.token_id, False))  # type: ignore[arg-type]
    log.info(
        "badge scanned",
        participant_id=participant.id,
        point=point,
        first=result.first,
        replayed=result.replayed,
    )
    return CheckinResult(
        result.first,
        result.checkin_id,
        point,
        day.isoformat(),
        document,
        now,
        result.replayed,
        await delegation_of(deps, participant.id),
    )


async def delegation_of(deps: Registration, participant_id: str) -> dict[str, str] | None:
    """The delegation the person is a member of (code and name), shown at the door; None if none."""
    found = await deps.repository.delegations.collection.find_one(
        {"members": participant_id}, {"code": 1, "name": 1}
    )
    return {"code": found["code"], "name": found["name"]} if found else None

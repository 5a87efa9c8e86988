"""What every capability's use cases share: the dependencies, refusals, and the adapters that
hand a typed rule what a store read.

`Scheduling` is built once in `bootstrap` and kept on the app (`app.state.deps`); routers,
declared at module level, get it with `Depends(scheduling)` (the `Deps` annotation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from services.scheduling import documents
from services.scheduling.conflicts.rules import VenueRules
from services.scheduling.documents import (
    Attendance,
    ParticipantProjection,
    ReleaseDocument,
    SessionDocument,
    SupportLedger,
)
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from shared.auth.permissions import Permission
from shared.pack import EventPack

Stored = dict[str, Any] | None


def utc_now() -> datetime:
    return datetime.now(UTC)


class Refused(Exception):
    """A request the service will not carry out, with a reason a person can act on."""

    def __init__(self, status: int, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.details = details

    def as_http(self) -> HTTPException:
        """`detail.reason`, plus the conflicts to fix or what clashed."""
        detail: dict[str, Any] = {"reason": self.reason}
        if isinstance(self.details, list):
            detail["conflicts"] = self.details
        elif isinstance(self.details, dict):
            detail.update(self.details)
        return HTTPException(self.status, detail=detail)


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
    def venue(self) -> VenueRules:
        return VenueRules.from_pack(
            self.pack, self.settings.venue_opens_at, self.settings.venue_closes_at
        )

    def session_id(self, code: str) -> str:
        return documents.session_id(self.forum_id, code)

    def attendance_id(self, participant_id: str) -> str:
        return f"{self.forum_id}:{participant_id}"

    def personal_feed_url(self, base: str, subject: str) -> str:
        """The link to a person's agenda feed, with its token: a party link for `subject` that
        reads the agenda only (`agenda:read`), expiring and revocable like their personal code.
        Without a link secret the URL has no token, and the feed then wants a staff token."""
        signer = self.settings.link_signer()
        url = f"{base}/people/{quote(subject, safe='')}/agenda.ics"
        if signer is None:
            return url
        return f"{url}?token={signer.participant(subject, scope=[Permission.AGENDA_READ]).token}"

    def public_base(self, request: Request) -> str:
        """Links point where the caller reached us, unless a public URL is configured."""
        configured = self.settings.public_url
        return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def scheduling(request: Request) -> Scheduling:
    """The service's dependencies, for routes (`bootstrap.create_app` keeps them on the app)."""
    deps: Scheduling = request.app.state.deps
    return deps


Deps = Annotated[Scheduling, Depends(scheduling)]


# --- typed rules as the store calls them: with what it read -----------------------------------


def on_session[R](rule: Callable[[SessionDocument | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(SessionDocument.read(stored))


def on_release[R](rule: Callable[[ReleaseDocument | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(ReleaseDocument.read(stored))


def on_participant[R](rule: Callable[[ParticipantProjection | None], R]) -> Callable[[Stored], R]:
    return lambda stored: rule(ParticipantProjection.read(stored))


def on_attendance[R](rule: Callable[[Attendance], R]) -> Callable[[Stored], R]:
    """An absent attendance document holds nothing."""
    return lambda stored: rule(Attendance.read_or_empty(stored))


def on_ledger[R](rule: Callable[[SupportLedger], R]) -> Callable[[Stored], R]:
    """An absent ledger has no commitments."""
    return lambda stored: rule(SupportLedger.read_or_empty(stored))

"""What every capability's use cases share: the service's dependencies (`Expo`, built in
bootstrap) and `on(Model, rule)`, the boundary where what a store read becomes the model a rule
takes (registration's `on_participant`, for any of expo's documents)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.expo.documents import Document
from services.expo.repository import ExpoRepository
from services.expo.settings import ExpoSettings
from shared.pack import EventPack


def utc_now() -> datetime:
    return datetime.now(UTC)


RevokeSubject = Callable[[str, datetime, datetime], Awaitable[None]]
"""Revokes every token of a party issued up to a time, kept until a time (bootstrap binds
`shared.auth.revocations.revoke_subject_here` to the runtime: only expo accepts exhibitors'
tokens, so no event is needed)."""


async def _not_wired(subject: str, issued_before: datetime, expires_at: datetime) -> None:
    raise RuntimeError("expo's bootstrap wires revoke_subject; this Expo was built without it")


@dataclass
class Expo:
    """Everything expo's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ExpoRepository
    settings: ExpoSettings
    clock: Callable[[], datetime] = utc_now
    revoke_subject: RevokeSubject = _not_wired


def on[D: Document, R](
    model: type[D], rule: Callable[[D | None], R]
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over a document model, as `AggregateStore.apply` calls it: with what it read."""
    return lambda stored: rule(model.read(stored))


def calendar_id(kind: str, party_id: str) -> str:
    """The busy calendar of a participant or an exhibitor (`calendars`)."""
    return f"{kind}:{party_id}"

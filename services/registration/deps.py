"""What registration's use cases depend on (`Registration`, built by `bootstrap`), and the
adapters that give a rule the model of the document a store read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from services.registration.documents import DelegationDocument, ParticipantDocument
from services.registration.identity.handlers import Identity
from services.registration.repository import ParticipantRepository
from services.registration.seats import rules as domain_seats
from services.registration.settings import RegistrationSettings
from shared.auth.tokens import PARTY_LIFETIME
from shared.contracts.envelope import Event
from shared.errors import InvalidMessage
from shared.messaging.publishers import publish_event
from shared.pack import Category, EventPack


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Registration:
    """Everything registration's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    repository: ParticipantRepository
    clock: Callable[[], datetime] = utc_now
    # Staff accounts and API tokens (identity/); None where a use case needs none (unit tests).
    identity: Identity | None = None
    # How long a party's link lives (FORO_PARTY_TOKEN_DAYS): how long its revocation is kept.
    party_lifetime: timedelta = PARTY_LIFETIME


def registration(request: Request) -> Registration:
    """The service's dependencies, for routes (`bootstrap.create_app` keeps them on the app)."""
    deps: Registration = request.app.state.deps
    return deps


def registration_settings(request: Request) -> RegistrationSettings:
    """The service's settings, for routes (the runtime `create_http_app` keeps on the app)."""
    settings: RegistrationSettings = request.app.state.runtime.settings
    return settings


class Publisher:
    """Publishes an event taken at the edge through the serving runtime's broker."""

    def __init__(self, request: Request) -> None:
        self.runtime = request.app.state.runtime

    async def __call__(self, event: Event) -> None:
        await publish_event(self.runtime.broker, self.runtime.topology, event)


Deps = Annotated[Registration, Depends(registration)]
Settings = Annotated[RegistrationSettings, Depends(registration_settings)]
Publish = Annotated[Publisher, Depends(Publisher)]


def on_participant[R](
    rule: Callable[[ParticipantDocument | None], R],
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over the participant model, as the store calls it: with what it read.

    A change that ends the place the participant holds in a capacity-limited category carries
    its release marker (`domain_seats.with_releases`), whichever rule made it.
    """

    def decide(stored: dict[str, Any] | None) -> R:
        before = ParticipantDocument.read(stored)
        decided = cast(Any, rule(before))
        return cast(R, domain_seats.with_releases(before, decided))

    return decide


def on_delegation[R](
    rule: Callable[[DelegationDocument | None], R],
) -> Callable[[dict[str, Any] | None], R]:
    """A rule over the delegation model, as the store calls it: with what it read."""
    return lambda stored: rule(DelegationDocument.read(stored))


def category_of(deps: Registration, code: str) -> Category:
    """The pack's category a stored or accepted document names (refusal_reasons checked it)."""
    category = deps.pack.category(code)
    if category is None:
        raise InvalidMessage(f"category: {code!r} is not a category of this forum's pack")
    return category


def ledger_id(forum_id: str, category: str) -> str:
    """The seat ledger of a capacity-limited category."""
    return f"{forum_id}:{category}"

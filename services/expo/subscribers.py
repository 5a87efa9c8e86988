"""Thin FastStream adapters: validate (by annotation), bind log context, call one handler.

Expo consumes other services' events only to keep local projections: who a badge belongs to
(and whether they share contact with exhibitors), and when participants sit in sessions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream.rabbit import RabbitRouter

from services.expo.attendees import handlers as attendees
from services.expo.calendars import handlers as calendars
from services.expo.deps import Expo
from shared.contracts.registration import (
    BadgeIssued,
    BadgeRevoked,
    ParticipantConsentChanged,
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationUpdated,
)
from shared.contracts.scheduling import (
    SessionCancelled,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
)
from shared.messaging.topology import Topology

SERVICE = "expo"

# (queue purpose, contract, handler, what it is for)
CONSUMED: tuple[tuple[str, Any, Callable[[Any, Expo], Awaitable[None]], str], ...] = (
    (
        "registration-confirmed",
        RegistrationConfirmed,
        attendees.project_participant,
        "Attendee projection: who a badge belongs to and whether they share contact with exhibitors.",
    ),
    (
        "registration-updated",
        RegistrationUpdated,
        attendees.project_participant,
        "Attendee projection (changed details, consents).",
    ),
    (
        "registration-promoted",
        RegistrationPromoted,
        attendees.project_participant,
        "Attendee projection (off the waitlist).",
    ),
    (
        "registration-cancelled",
        RegistrationCancelled,
        attendees.project_participant,
        "Attendee projection (no more scans).",
    ),
    (
        "badge-issued",
        BadgeIssued,
        attendees.record_badge,
        "Maps the token in a badge QR to its participant.",
    ),
    (
        "badge-revoked",
        BadgeRevoked,
        attendees.revoke_badge,
        "A revoked badge no longer resolves to anyone.",
    ),
    (
        "consent-changed",
        ParticipantConsentChanged,
        attendees.change_consent,
        "Stops sharing contacts with exhibitors (and drops captured contacts) when consent is withdrawn.",
    ),
    (
        "participant-erased",
        ParticipantErased,
        attendees.erase_participant,
        "Removes names and contact details from leads, applications and projections.",
    ),
    (
        "session-signup-confirmed",
        SessionSignupConfirmed,
        calendars.hold_session,
        "Busy calendar: meetings avoid sessions.",
    ),
    (
        "session-signup-promoted",
        SessionSignupPromoted,
        calendars.hold_session,
        "Busy calendar: meetings avoid sessions.",
    ),
    (
        "session-signup-cancelled",
        SessionSignupCancelled,
        calendars.free_session,
        "Busy calendar: the session no longer blocks.",
    ),
    (
        "session-rescheduled",
        SessionRescheduled,
        calendars.move_session,
        "Busy calendar: the session moved.",
    ),
    (
        "session-cancelled",
        SessionCancelled,
        calendars.move_session,
        "Busy calendar: the session is gone.",
    ),
)


def _subscriber(
    router: RabbitRouter,
    topology: Topology,
    deps: Expo,
    purpose: str,
    contract: Any,
    handler: Callable[[Any, Expo], Awaitable[None]],
    description: str,
) -> str:
    queue = topology.queue(SERVICE, purpose, contract.type_name())

    async def consume(body: contract) -> None:
        structlog.contextvars.bind_contextvars(event_id=str(body.event_id))
        await handler(body, deps)

    consume.__annotations__["body"] = (
        contract  # a real class, not the string `from __future__` makes
    )
    consume.__name__ = f"on_{purpose.replace('-', '_')}"
    router.subscriber(queue, topology.events, title=contract.type_name(), description=description)(
        consume
    )
    return queue.name


def register_subscribers(router: RabbitRouter, topology: Topology, deps: Expo) -> list[str]:
    """Attach expo's consumers to `router`; returns their queue names."""
    return [_subscriber(router, topology, deps, *entry) for entry in CONSUMED]

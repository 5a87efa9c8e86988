"""Thin FastStream adapters: validate (by annotation), bind log context, call one handler.

Intake's consumers (sign-ups, cancellations), then those of registration's lifecycle after
intake: erasure requests, and badges that follow registration's own events."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from faststream.rabbit import RabbitRouter

from services.registration.badges import handlers as badges
from services.registration.delegations import handlers as delegations
from services.registration.deps import Registration
from services.registration.intake import handlers
from services.registration.privacy import handlers as erasure
from shared.contracts.registration import (
    ParticipantErasureRequested,
    RegistrationCancelRequested,
    RegistrationSubmitted,
)
from shared.messaging.consumer import InvalidMessage
from shared.messaging.topology import Topology

SERVICE = "registration"


def register_subscribers(router: RabbitRouter, topology: Topology, deps: Registration) -> list[str]:
    """Attach registration's consumers to `router`; returns their queue names."""
    return _register_intake_subscribers(router, topology, deps) + _register_lifecycle_subscribers(
        router, topology, deps
    )


def _register_intake_subscribers(
    router: RabbitRouter, topology: Topology, deps: Registration
) -> list[str]:
    """Attach the sign-up and cancellation consumers to `router`; returns their queue names."""
    submitted = topology.queue(SERVICE, "registration-submitted", "registration.submitted")
    cancel_requested = topology.queue(SERVICE, "cancel-requested", "registration.cancel_requested")

    @router.subscriber(
        submitted,
        topology.intake,
        title="registration.submitted",
        description="Sign-ups from external forms (AMQP or the signed webhook).",
    )
    async def on_registration_submitted(body: RegistrationSubmitted) -> None:
        structlog.contextvars.bind_contextvars(event_id=str(body.event_id))
        participant_id = await handlers.register_submission(body, deps)
        structlog.contextvars.bind_contextvars(participant_id=participant_id)

    @router.subscriber(
        cancel_requested,
        topology.intake,
        title="registration.cancel_requested",
        description="Cancellation requests from forms and the secretariat.",
    )
    async def on_cancel_requested(body: RegistrationCancelRequested) -> None:
        structlog.contextvars.bind_contextvars(event_id=str(body.event_id))
        participant_id = await handlers.cancel_registration(body, deps)
        structlog.contextvars.bind_contextvars(participant_id=participant_id)

    return [submitted.name, cancel_requested.name]


def _register_lifecycle_subscribers(
    router: RabbitRouter, topology: Topology, deps: Registration
) -> list[str]:
    """Attach the erasure and badge consumers to `router`; returns their queue names."""
    erasure_requested = topology.queue(
        SERVICE, "erasure-requested", "participant.erasure_requested"
    )
    badge_sync = topology.queue(SERVICE, "badges", "registration.*")

    @router.subscriber(
        erasure_requested,
        topology.intake,
        title="participant.erasure_requested",
        description="Erasure requests from the secretariat: anonymise, then publish participant.erased.",
    )
    async def on_erasure_requested(body: ParticipantErasureRequested) -> None:
        structlog.contextvars.bind_contextvars(
            event_id=str(body.event_id), participant_id=str(body.participant_id)
        )
        await erasure.erase_participant(body, deps)

    @router.subscriber(
        badge_sync,
        topology.events,
        title="registration.* (badges)",
        description=(
            "Registration's own registration.* events: a participant who becomes confirmed gets a badge "
            "(badge.issued), one who stops being confirmed loses it (badge.revoked); a cancelled delegate "
            "frees their delegation seat."
        ),
    )
    async def on_registration_event(body: dict[str, Any]) -> None:
        try:
            event_id = str(uuid.UUID(str(body["event_id"])))
        except (KeyError, ValueError, TypeError):
            raise InvalidMessage("event_id: missing or not a UUID") from None
        participant = body.get("participant") or {}
        participant_id = participant.get("participant_id") or body.get("participant_id")
        structlog.contextvars.bind_contextvars(event_id=event_id)
        if not participant_id:
            return  # a refusal of someone never registered: no badge either way
        try:
            participant_id = str(uuid.UUID(str(participant_id)))
        except ValueError:
            raise InvalidMessage("participant.participant_id: not a UUID") from None
        structlog.contextvars.bind_contextvars(participant_id=participant_id)
        await badges.sync_badge(participant_id, deps)
        if body.get("event_type") == "registration.cancelled":
            await delegations.leave_delegations(participant_id, deps)

    return [erasure_requested.name, badge_sync.name]

"""Thin FastStream adapters: validate (by annotation), bind log context, call one handler."""

from __future__ import annotations

import structlog
from faststream.rabbit import RabbitRouter

from services.registration.intake import handlers
from shared.contracts.registration import RegistrationCancelRequested, RegistrationSubmitted
from shared.messaging.topology import Topology

SERVICE = "registration"


def register_subscribers(
    router: RabbitRouter, topology: Topology, deps: handlers.Registration
) -> list[str]:
    """Attach registration's consumers to `router`; returns their queue names."""
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

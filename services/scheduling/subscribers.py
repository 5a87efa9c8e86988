"""Thin FastStream adapters: validate (by annotation), bind log context, call one handler."""

import structlog
from faststream.rabbit import RabbitQueue, RabbitRouter

from services.scheduling.deps import Scheduling
from services.scheduling.people import handlers
from services.scheduling.people.handlers import RegistrationEvent
from shared.contracts.registration import (
    ParticipantErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationUpdated,
)
from shared.messaging.topology import Topology

SERVICE = "scheduling"


PROJECTED = (
    ("registration-confirmed", RegistrationConfirmed),
    ("registration-promoted", RegistrationPromoted),
    ("registration-updated", RegistrationUpdated),
    ("registration-cancelled", RegistrationCancelled),
)


def register_subscribers(router: RabbitRouter, topology: Topology, deps: Scheduling) -> list[str]:
    """Attach scheduling's consumers to `router`; returns their queue names."""
    names: list[str] = []

    for purpose, contract in PROJECTED:
        queue = topology.queue(SERVICE, purpose, contract.type_name())
        names.append(queue.name)

        def subscribe(
            contract: type[RegistrationEvent] = contract, queue: RabbitQueue = queue
        ) -> None:
            @router.subscriber(
                queue,
                topology.events,
                title=f"scheduling:{contract.type_name()}",
                description="Keeps scheduling's participants projection (who may sign up for sessions).",
            )
            # FastStream validates against the queue's own contract, hence the annotation by
            # variable (mypy cannot check such a type, so the body is typed once more below).
            async def on_registration(body: contract) -> None:  # type: ignore[valid-type]
                event: RegistrationEvent = body
                structlog.contextvars.bind_contextvars(
                    event_id=str(event.event_id),
                    participant_id=str(event.participant.participant_id),
                )
                await handlers.project_registration(deps, event)

        subscribe()

    erased = topology.queue(SERVICE, "participant-erased", "participant.erased")
    names.append(erased.name)

    @router.subscriber(
        erased,
        topology.events,
        title="scheduling:participant.erased",
        description="Removes the participant's name, e-mail and phone from sessions, releases and projections.",
    )
    async def on_participant_erased(body: ParticipantErased) -> None:
        structlog.contextvars.bind_contextvars(
            event_id=str(body.event_id), participant_id=str(body.participant_id)
        )
        await handlers.erase_participant(deps, body)

    return names

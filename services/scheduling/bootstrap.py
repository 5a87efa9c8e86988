"""Scheduling's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.scheduling import api, handlers
from services.scheduling.publishers import declare_publishers
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from services.scheduling.subscribers import SERVICE, register_subscribers
from shared.http import create_http_app
from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.scheduling")

DESCRIPTION = (
    "The forum's programme: rooms, days, blocks and sessions with their people; conflict detection; "
    "versioned releases with changelogs; session sign-up with capacity and waitlist; panelist "
    "invitations and travel support; agenda JSON and iCal feeds."
)


def build_runtime(
    settings: SchedulingSettings | None = None,
) -> tuple[ServiceRuntime, handlers.Scheduling]:
    settings = settings or SchedulingSettings()
    pack = settings.load_pack()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = ScheduleRepository(runtime.database, stores=runtime.stores)
    deps = handlers.Scheduling(pack=pack, repository=repository, settings=settings)
    runtime.attach_outbox(fault=settings.fault)

    async def prepare_programme() -> None:
        await repository.ensure_indexes()
        seeded = await handlers.seed_programme(deps)
        if settings.auto_publish:
            await handlers.publish_on_start(deps, seeded)
        base = settings.base_url
        log.info(
            "programme feeds",
            agenda=f"{base}/agenda",
            ical=f"{base}/agenda.ics",
            ical_en=f"{base}/agenda.ics?lang=en",
            per_room=f"{base}/rooms/{{room}}/agenda.ics",
            per_person=f"{base}/people/{{person_or_participant_id}}/agenda.ics",
        )

    # Before the broker starts: the release-1 announcement waits in the outbox for the relay.
    runtime.on_start.append(prepare_programme)

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps)
    declare_publishers(router, topology)
    broker.include_router(router)
    return runtime, deps


def create_app(settings: SchedulingSettings | None = None) -> FastAPI:
    settings = settings or SchedulingSettings()
    runtime, deps = build_runtime(settings)
    app = create_http_app(
        runtime,
        title="foro · scheduling",
        description=DESCRIPTION,
        routers=api.build_routers(deps, settings),
        deps=deps,
    )
    return app

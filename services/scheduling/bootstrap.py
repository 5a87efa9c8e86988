"""Scheduling's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.scheduling.conflicts import api as conflicts_api
from services.scheduling.deps import Scheduling
from services.scheduling.feeds import api as feeds_api
from services.scheduling.people import api as people_api
from services.scheduling.programme import api as programme_api
from services.scheduling.programme.handlers import seed_programme
from services.scheduling.publishers import declare_publishers
from services.scheduling.releases import api as releases_api
from services.scheduling.releases.handlers import publish_on_start
from services.scheduling.repository import ScheduleRepository
from services.scheduling.settings import SchedulingSettings
from services.scheduling.signups import api as signups_api
from services.scheduling.subscribers import SERVICE, register_subscribers
from shared.auth.revocations import install_revocations
from shared.http import create_http_app
from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.scheduling")

DESCRIPTION = (
    "The forum's programme: rooms, days, blocks and sessions with their people; conflict detection; "
    "versioned releases with changelogs; session sign-up with capacity and waitlist; panelist "
    "invitations and travel support; agenda JSON and iCal feeds."
)

# One router per capability, declared at module level; secretariat routes guard themselves.
ROUTERS = (
    feeds_api.router,
    signups_api.router,
    programme_api.router,
    conflicts_api.router,
    people_api.router,
    releases_api.router,
    feeds_api.links,
)


def build_runtime(
    settings: SchedulingSettings | None = None,
) -> tuple[ServiceRuntime, Scheduling]:
    settings = settings or SchedulingSettings()
    pack = settings.load_pack()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = ScheduleRepository(runtime.database, stores=runtime.stores)
    deps = Scheduling(pack=pack, repository=repository, settings=settings)
    runtime.attach_outbox(fault=settings.fault)

    async def prepare_programme() -> None:
        await repository.ensure_indexes()
        seeded = await seed_programme(deps)
        if settings.auto_publish:
            await publish_on_start(deps, seeded)
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
    install_revocations(runtime, router, topology)  # every service refuses revoked tokens
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
        routers=ROUTERS,
        deps=deps,
    )
    return app

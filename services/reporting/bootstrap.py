"""Reporting's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.reporting import api
from services.reporting.handlers import Reporting, utc_now
from services.reporting.publishers import declare_publishers
from services.reporting.repository import ReportingRepository
from services.reporting.scheduler import FollowUpScheduler
from services.reporting.settings import ReportingSettings
from services.reporting.subscribers import SERVICE, register_subscribers
from shared.http import create_http_app
from shared.persistence.aggregates import StoreRegistry
from shared.runtime import ServiceRuntime

DESCRIPTION = (
    "Reporting for the forum: live statistics projected from every event, conclusions per session, "
    "the action plan, the budget against plan, and the Memoria and base document (HTML and PDF, es/en)."
)


def build_deps(
    settings: ReportingSettings,
    mongo,
    *,
    stores: StoreRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Reporting:
    """Handlers' dependencies on a given Mongo client (also used by the rebuild and the Memoria
    CLI, without `stores`: what they write to an outbox waits for the service's sweep)."""
    pack = settings.load_pack()
    repository = ReportingRepository(mongo[settings.database], stores=stores)
    return Reporting(pack=pack, repository=repository, clock=clock, output_dir=settings.output_dir)


def build_runtime(
    settings: ReportingSettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> tuple[ServiceRuntime, Reporting]:
    settings = settings or ReportingSettings()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    deps = build_deps(settings, runtime.mongo, stores=runtime.stores, clock=clock)
    runtime.attach_outbox()
    scheduler = FollowUpScheduler(
        deps, settings.follow_up_check_seconds, final_memoria=settings.final_memoria
    )
    runtime.on_start.extend([deps.repository.ensure_indexes, scheduler.start])
    runtime.on_stop.insert(0, scheduler.stop)

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps)
    declare_publishers(router, topology)
    broker.include_router(router)
    return runtime, deps


def create_app(
    settings: ReportingSettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or ReportingSettings()
    runtime, deps = build_runtime(settings, clock=clock)
    app = create_http_app(
        runtime,
        title="foro · reporting",
        description=DESCRIPTION,
        routers=api.build_routers(deps, settings),
        deps=deps,
    )
    return app

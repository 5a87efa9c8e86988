"""Reporting's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter
from pymongo import AsyncMongoClient

from services.reporting.action_plan import api as action_plan
from services.reporting.audit import api as audit
from services.reporting.budget import api as budget
from services.reporting.conclusions import api as conclusions
from services.reporting.deps import Reporting, utc_now
from services.reporting.projections import api as projections
from services.reporting.publishers import declare_publishers
from services.reporting.publishing import api as publishing
from services.reporting.repository import ReportingRepository
from services.reporting.scheduler import FollowUpScheduler
from services.reporting.settings import ReportingSettings
from services.reporting.subscribers import SERVICE, register_subscribers
from shared.auth.revocations import install_revocations
from shared.http import create_http_app
from shared.leases import Lease
from shared.persistence.aggregates import StoreRegistry
from shared.runtime import ServiceRuntime

DESCRIPTION = (
    "Reporting for the forum: live statistics projected from every event, conclusions per session, "
    "the action plan, the budget against plan, and the Memoria and base document (HTML and PDF, es/en)."
)
ROUTERS = (
    publishing.public,
    projections.router,
    publishing.router,
    conclusions.router,
    action_plan.router,
    budget.router,
    audit.router,
)


def build_deps(
    settings: ReportingSettings,
    mongo: AsyncMongoClient[dict[str, Any]],
    *,
    stores: StoreRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Reporting:
    """Handlers' dependencies on a given Mongo client (also used by the rebuild and the Memoria
    CLI, without `stores`: what they write to an outbox waits for the service's sweep)."""
    return Reporting(
        pack=settings.load_pack(),
        repository=ReportingRepository(mongo[settings.database], stores=stores),
        clock=clock,
        output_dir=settings.output_dir,
        fold_batch=settings.fold_batch,
    )


def build_runtime(
    settings: ReportingSettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> tuple[ServiceRuntime, Reporting]:
    settings = settings or ReportingSettings()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    deps = build_deps(settings, runtime.mongo, stores=runtime.stores, clock=clock)
    runtime.attach_outbox()
    scheduler = FollowUpScheduler(
        deps, settings.follow_up_check_seconds, final_memoria=settings.final_memoria
    )
    # One replica runs it (shared/leases.py); the others skip.
    scheduler.lease = Lease.for_pass(
        runtime.database, scheduler.name, scheduler.interval, port=settings.http_port
    )
    runtime.on_start.extend([deps.repository.ensure_indexes, scheduler.start])
    runtime.on_stop.insert(0, scheduler.stop)

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, runtime.topology, deps)
    install_revocations(runtime, router, runtime.topology)  # every service refuses revoked tokens
    declare_publishers(router, runtime.topology)
    runtime.broker.include_router(router)
    return runtime, deps


def create_app(
    settings: ReportingSettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or ReportingSettings()
    runtime, deps = build_runtime(settings, clock=clock)
    return create_http_app(
        runtime, title="foro · reporting", description=DESCRIPTION, routers=ROUTERS, deps=deps
    )

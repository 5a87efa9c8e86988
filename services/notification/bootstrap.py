"""Notification's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog
from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.notification import api, domain
from services.notification.handlers import Notification, utc_now
from services.notification.providers import Provider, build_providers
from services.notification.publishers import SERVICE, DeliveryQueue, declare_publishers
from services.notification.repository import NotificationRepository
from services.notification.scheduler import Scheduler
from services.notification.settings import NotificationSettings
from services.notification.subscribers import bind_triggers, register_subscribers
from services.notification.templates import TemplateBook, TemplateError
from shared.http import create_http_app
from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.notification")

DESCRIPTION = (
    "Notifications of the forum: e-mail (SMTP) and SMS (HTTP gateways) from bilingual templates in the "
    "event pack; reminders; information campaigns; preferences and opt-out; retries with broker-side "
    "backoff, provider failover and delivery status."
)


@dataclass
class NotificationService:
    runtime: ServiceRuntime
    deps: Notification
    scheduler: Scheduler

    @asynccontextmanager
    async def running(self) -> AsyncIterator[NotificationService]:
        """The runtime (broker, consumers, outbox) and then the scheduler, stopped first."""
        async with self.runtime.running():
            await self.scheduler.start()
            try:
                yield self
            finally:
                await self.scheduler.stop()


def build_service(
    settings: NotificationSettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    providers: dict[str, list[Provider]] | None = None,
) -> NotificationService:
    settings = settings or NotificationSettings()
    pack = settings.load_pack()
    book = TemplateBook(pack, settings.templates_path)
    problems = book.check()
    if problems:
        raise TemplateError("templates cannot be used:\n" + "\n".join(problems))
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = NotificationRepository(runtime.database, stores=runtime.stores)
    delivery = DeliveryQueue(broker, topology)
    tiers = max(topology.retry.attempts - 1, 1)
    longest_hop = min(topology.retry.base_seconds * 2 ** (tiers - 1), topology.retry.max_seconds)
    providers = providers if providers is not None else build_providers(settings)
    deps = Notification(
        pack=pack,
        book=book,
        repository=repository,
        providers=providers,
        queue=delivery,
        policy=domain.RetryPolicy(
            settings.delivery_attempts,
            settings.delivery_retry_base_seconds,
            settings.delivery_retry_max_seconds,
            settings.delivery_retry_jitter,
        ),
        lease_seconds=settings.lease_seconds,
        lease_renew_seconds=settings.lease_renew_seconds,
        sweep_seconds=settings.sweep_seconds,
        record_patience_seconds=settings.record_patience_seconds,
        stale_seconds=settings.stale_seconds,
        longest_hop=longest_hop,
        campaign_batch=settings.campaign_batch,
        clock=clock,
        participant_token_secret=(
            settings.participant_token_secret.get_secret_value()
            if settings.participant_token_secret
            else ""
        ),
    )
    runtime.attach_outbox()
    runtime.on_start.append(repository.ensure_indexes)

    async def bind() -> None:
        await bind_triggers(broker, topology, sorted(book.triggers))

    runtime.on_start.append(bind)

    async def close_providers() -> None:
        for chain in providers.values():
            for provider in chain:
                await provider.close()

    runtime.on_stop.append(close_providers)

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps, delivery)
    declare_publishers(router, topology)
    broker.include_router(router)
    return NotificationService(
        runtime, deps, Scheduler(deps, settings.scheduler_tick_seconds, settings.sweep_seconds)
    )


def build_runtime(
    settings: NotificationSettings | None = None,
) -> tuple[ServiceRuntime, Notification]:
    service = build_service(settings)
    return service.runtime, service.deps


def create_app(settings: NotificationSettings | None = None, **options: object) -> FastAPI:
    settings = settings or NotificationSettings()
    service = build_service(settings, **options)  # type: ignore[arg-type]
    app = create_http_app(
        service.runtime,
        title="foro · notification",
        description=DESCRIPTION,
        routers=api.build_routers(
            service.deps, settings, service.runtime.broker, service.runtime.topology
        ),
        deps=service.deps,
        running=service.running,  # the scheduler too; started in the background like every service
    )
    app.state.service = service
    return app

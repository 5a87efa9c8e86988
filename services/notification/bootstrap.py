"""Notification's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.notification.campaigns import api as campaigns_api
from services.notification.delivery.rules import RetryPolicy
from services.notification.deps import Notification, utc_now
from services.notification.messages import api as messages_api
from services.notification.parked import api as parked_api
from services.notification.parked.handlers import mark_waiting_people
from services.notification.people import api as people_api
from services.notification.people import unsubscribe_api
from services.notification.people.unsubscribe import unsubscribe_links
from services.notification.previews import api as previews_api
from services.notification.providers import Provider, build_providers
from services.notification.publishers import SERVICE, declare_publishers
from services.notification.repository import NotificationRepository
from services.notification.scheduler import Scheduler
from services.notification.settings import NotificationSettings
from services.notification.subscribers import register_subscribers, trigger_bindings
from services.notification.templates import TemplateBook, TemplateError
from services.notification.webhooks.api import router as webhooks_router
from services.notification.webhooks.cache import EndpointCache
from services.notification.webhooks.rules import CHANNEL, WEBHOOK_EVENTS
from services.notification.webhooks.sender import WebhookSender
from shared.auth.revocations import install_revocations
from shared.http import create_http_app
from shared.leases import Lease
from shared.runtime import ServiceRuntime

DESCRIPTION = (
    "Notifications of the forum: e-mail (SMTP) and SMS (HTTP gateways) from bilingual templates in the "
    "event pack; reminders; information campaigns; preferences and opt-out; retries with broker-side "
    "backoff, provider failover and delivery status."
)

ROUTERS = (
    messages_api.router,
    parked_api.router,
    people_api.router,
    unsubscribe_api.router,
    campaigns_api.router,
    previews_api.router,
    webhooks_router,
)


def build_service(
    settings: NotificationSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
    providers: dict[str, list[Provider]] | None = None,
) -> tuple[ServiceRuntime, Notification, Scheduler]:
    """The runtime (its hooks start and stop the scheduler), the handlers' dependencies, and the
    scheduler (tests wait on its passes)."""
    pack = settings.load_pack()
    book = TemplateBook(pack, settings.templates_path)
    problems = book.check()
    if problems:
        raise TemplateError("templates cannot be used:\n" + "\n".join(problems))
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = NotificationRepository(runtime.database, stores=runtime.stores)
    tiers = max(topology.retry.attempts - 1, 1)
    longest_hop = min(topology.retry.base_seconds * 2 ** (tiers - 1), topology.retry.max_seconds)
    providers = dict(providers) if providers is not None else build_providers(settings)
    # The outbound webhooks' channel: endpoints' URLs and secrets are read at each attempt.
    providers.setdefault(
        CHANNEL,
        [
            WebhookSender(
                repository.endpoints,
                clock,
                timeout_seconds=settings.webhook_timeout_seconds,
                disable_after=settings.webhook_disable_after,
            )
        ],
    )
    deps = Notification(
        pack=pack,
        book=book,
        repository=repository,
        providers=providers,
        policy=RetryPolicy(
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
        link_signer=settings.link_signer(),
        webhooks=EndpointCache(settings.webhook_refresh_seconds),
        unsubscribe=unsubscribe_links(
            settings.link_secrets(),
            settings.public_url or f"http://{settings.http_host}:{settings.http_port}",
            settings.unsubscribe_mailto,
        ),
    )
    runtime.attach_outbox()
    scheduler = Scheduler(deps, settings.scheduler_tick_seconds, settings.sweep_seconds)
    # One replica runs it (shared/leases.py); the others skip.
    scheduler.lease = Lease.for_pass(
        runtime.database, scheduler.name, scheduler.interval, port=settings.http_port
    )

    async def mark_waiting() -> None:
        await mark_waiting_people(deps)

    async def close_providers() -> None:
        for chain in providers.values():
            for provider in chain:
                await provider.close()

    runtime.extra_bindings = trigger_bindings(topology, sorted({*book.triggers, *WEBHOOK_EVENTS}))

    async def load_endpoints() -> None:
        await deps.webhooks.start(repository)

    runtime.on_start.extend(
        [repository.ensure_indexes, mark_waiting, load_endpoints, scheduler.start]
    )
    runtime.on_stop[:0] = [scheduler.stop, deps.webhooks.stop, close_providers]

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps)
    install_revocations(runtime, router, topology)  # every service refuses revoked tokens
    declare_publishers(router, topology)
    broker.include_router(router)
    return runtime, deps, scheduler


def build_runtime(
    settings: NotificationSettings | None = None,
) -> tuple[ServiceRuntime, Notification]:
    runtime, deps, _ = build_service(settings or NotificationSettings())
    return runtime, deps


def create_app(
    settings: NotificationSettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    providers: dict[str, list[Provider]] | None = None,
) -> FastAPI:
    settings = settings or NotificationSettings()
    runtime, deps, scheduler = build_service(settings, clock=clock, providers=providers)
    app = create_http_app(
        runtime, title="foro · notification", description=DESCRIPTION, routers=ROUTERS, deps=deps
    )
    app.state.scheduler = scheduler
    return app

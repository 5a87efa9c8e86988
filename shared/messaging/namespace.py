"""Everything one namespace holds on the broker, found from the services' own code.

The services are the only source of truth for their queues: each service's composition root
(`services/<name>/bootstrap.py`, `build_runtime`) registers its subscribers on a broker and
names its consumer queues in `runtime.queue_names`. Building those runtimes connects nothing
(no I/O in a composition root), so this module builds them for a namespace and reads:

- the consumer queues of every service, with their arguments and bindings as FastStream declares
  them when a subscriber starts;
- the extra bindings a service declares at start-up (`runtime.extra_bindings`: notification binds
  its triggers queue once per trigger in its templates' `triggers.yaml`);
- the companions `Topology.declare` adds: exchanges, the event log, `<queue>.dlq`, `<queue>.retry.<n>`.

`declare_namespace` declares all of it, exactly as the services would (so events published before
a service first starts are kept); `delete_namespace` deletes all of it, refusing a queue that
still holds messages unless forced, and the production namespace unless told twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import aio_pika
import structlog
from aiormq.exceptions import ChannelNotFoundEntity
from faststream.rabbit import RabbitBroker
from faststream.rabbit.subscriber.usecase import RabbitSubscriber
from pydantic import SecretStr
from yarl import URL

from shared.messaging.topology import Topology

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime
    from shared.settings import ServiceSettings

log = structlog.get_logger("foro.topology")

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
# The namespace the platform runs in: deleting it needs an explicit second confirmation.
PROTECTED_NAMESPACES = frozenset({"foro"})

# service → (settings class, composition root), imported only when a namespace is built.
SERVICES: dict[str, tuple[str, str]] = {
    "registration": (
        "services.registration.settings:RegistrationSettings",
        "services.registration.bootstrap:build_runtime",
    ),
    "scheduling": (
        "services.scheduling.settings:SchedulingSettings",
        "services.scheduling.bootstrap:build_runtime",
    ),
    "expo": ("services.expo.settings:ExpoSettings", "services.expo.bootstrap:build_runtime"),
    "notification": (
        "services.notification.settings:NotificationSettings",
        "services.notification.bootstrap:build_runtime",
    ),
    "reporting": (
        "services.reporting.settings:ReportingSettings",
        "services.reporting.bootstrap:build_runtime",
    ),
}


def redacted_url(url: str) -> str:
    """The broker URL without its credentials, for messages and logs."""
    return str(URL(url).with_user(None))


def subscribers(broker: RabbitBroker) -> list[RabbitSubscriber]:
    """A broker's subscribers, typed as what a RabbitBroker holds."""
    return [cast(RabbitSubscriber, subscriber) for subscriber in broker.subscribers]


def _load(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Binding:
    queue: str
    exchange: str
    routing_key: str


@dataclass
class ServicePlan:
    """What one service declares in a namespace."""

    service: str
    runtime: ServiceRuntime
    queue_names: list[str]
    bindings: list[Binding] = field(default_factory=list)


@dataclass
class NamespacePlan:
    """What a namespace holds: every service's declarations and the names they add up to."""

    namespace: str
    topology: Topology
    services: list[ServicePlan]

    @property
    def consumer_queues(self) -> list[str]:
        return [name for plan in self.services for name in plan.queue_names]

    def topology_of(self, queue: str) -> Topology:
        """The topology (retry policy included) of the service consuming `queue`."""
        return next(
            (plan.runtime.topology for plan in self.services if queue in plan.queue_names),
            self.topology,
        )

    def queues_of(self, service: str) -> list[str]:
        return next((plan.queue_names for plan in self.services if plan.service == service), [])

    @property
    def queue_names(self) -> list[str]:
        """Every queue: each consumer queue, its retry queues (each service's own retry policy)
        and its dead-letter queue; then the event log."""
        names: list[str] = []
        for plan in self.services:
            topology = plan.runtime.topology
            for name in plan.queue_names:
                names.append(name)
                names.extend(topology.retry_queue_names(name))
                names.append(topology.dead_letter_queue_name(name))
        names.append(self.topology.event_log_name)
        return names

    @property
    def exchange_names(self) -> list[str]:
        return [
            self.topology.events.name,
            self.topology.intake.name,
            self.topology.dead_letters.name,
        ]

    async def close(self) -> None:
        """Close what building the runtimes created (database clients: never connected)."""
        for plan in self.services:
            await plan.runtime.mongo.close()


def _extra_bindings(runtime: ServiceRuntime) -> list[Binding]:
    """Bindings a service adds at start-up beyond its subscribers' own (`runtime.extra_bindings`)."""
    exchange = runtime.topology.events.name
    return [Binding(queue.name, exchange, key) for queue, key in runtime.extra_bindings]


def build_plan(
    namespace: str,
    broker_url: str = DEFAULT_BROKER_URL,
    *,
    services: Iterable[str] = SERVICES,
    settings_overrides: dict[str, Any] | None = None,
) -> NamespacePlan:
    """Build each service's runtime for `namespace` (nothing connects) and read its declarations.

    Settings come from the environment like the services' own (FORO_PACK_PATH, delivery limits,
    retry settings …), with the namespace and broker URL given here."""
    plans: list[ServicePlan] = []
    topology: Topology | None = None
    for service in services:
        settings_ref, build_ref = SERVICES[service]
        settings_class: type[ServiceSettings] = _load(settings_ref)
        build_runtime: Callable[[Any], tuple[ServiceRuntime, Any]] = _load(build_ref)
        settings = settings_class(
            broker_url=SecretStr(broker_url),
            namespace=namespace,
            **(settings_overrides or {}),
        )
        runtime, _ = build_runtime(settings)
        topology = topology or runtime.topology
        bindings = [
            Binding(sub.queue.name, sub.exchange.name, sub.queue.routing())
            for sub in subscribers(runtime.broker)
            if sub.exchange.name
        ]
        bindings.extend(_extra_bindings(runtime))
        plans.append(ServicePlan(service, runtime, list(runtime.queue_names), bindings))
    return NamespacePlan(namespace, topology or Topology(namespace), plans)


@dataclass
class DeclareReport:
    namespace: str
    queues: list[str]
    exchanges: list[str]
    bindings: list[Binding]


async def declare_namespace(
    namespace: str, broker_url: str = DEFAULT_BROKER_URL, *, services: Iterable[str] = SERVICES
) -> DeclareReport:
    """Declare what every service of `namespace` declares when it starts, without consuming.

    Each service's own broker (same settings, same queue arguments) declares its exchanges, event
    log, dead-letter and retry queues (`Topology.declare`) and its consumer queues with their
    bindings; idempotent, and a running service finds everything as it would have made it."""
    plan = build_plan(namespace, broker_url, services=services)
    try:
        for service in plan.services:
            broker, topology = service.runtime.broker, service.runtime.topology
            await broker.connect()
            try:
                await topology.declare(broker, service.queue_names)
                for subscriber in subscribers(broker):
                    queue = await broker.declare_queue(subscriber.queue)
                    if subscriber.exchange.name:
                        exchange = await broker.declare_exchange(subscriber.exchange)
                        await queue.bind(
                            exchange,
                            routing_key=subscriber.queue.routing(),
                            arguments=subscriber.queue.bind_arguments,
                        )
                for binding in service.bindings:
                    queue = await broker.declare_queue(
                        next(s.queue for s in subscribers(broker) if s.queue.name == binding.queue)
                    )
                    await queue.bind(binding.exchange, routing_key=binding.routing_key)
            finally:
                await broker.stop()
        report = DeclareReport(
            namespace,
            plan.queue_names,
            plan.exchange_names,
            [binding for service in plan.services for binding in service.bindings],
        )
        log.info(
            "topology declared",
            namespace=namespace,
            queues=len(report.queues),
            exchanges=len(report.exchanges),
            bindings=len(report.bindings),
        )
        return report
    finally:
        await plan.close()


class NamespaceProtected(Exception):
    """Deleting the production namespace needs `i_mean_it=True`."""


@dataclass
class DeleteReport:
    namespace: str
    dry_run: bool
    deleted_queues: list[str] = field(default_factory=list)
    deleted_exchanges: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    # queue → messages it holds; nothing is deleted while this is not empty (unless forced).
    refused: dict[str, int] = field(default_factory=dict)
    holding: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused


async def queue_depth(connection: aio_pika.abc.AbstractConnection, name: str) -> int | None:
    """Messages ready in queue `name` (passive declare); None when it does not exist."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
    except ChannelNotFoundEntity:
        return None
    message_count = queue.declaration_result.message_count
    await channel.close()
    return message_count


async def stream_holds_messages(
    connection: aio_pika.abc.AbstractConnection, name: str, wait: float = 2.0
) -> bool:
    """Whether stream `name` holds a message. A stream's declare-ok always counts 0, so this
    reads from its first offset and waits at most `wait` seconds for a message to arrive."""
    channel = await connection.channel()
    found = asyncio.get_running_loop().create_future()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        # Not acked: a stream keeps its messages anyway, and with a prefetch of 1 nothing more
        # arrives (an ack racing the channel's close would be a connection error).
        if not found.done():
            found.set_result(True)

    try:
        await channel.set_qos(prefetch_count=1)
        stream = await channel.declare_queue(name, passive=True)
        await stream.consume(on_message, arguments={"x-stream-offset": "first"})
        try:
            return bool(await asyncio.wait_for(found, wait))
        except TimeoutError:
            return False
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


async def exchange_exists(connection: aio_pika.abc.AbstractConnection, name: str) -> bool:
    channel = await connection.channel()
    try:
        await channel.declare_exchange(name, passive=True)
    except ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def delete_namespace(
    namespace: str,
    broker_url: str = DEFAULT_BROKER_URL,
    *,
    force: bool = False,
    dry_run: bool = False,
    i_mean_it: bool = False,
    actor: str = "",
) -> DeleteReport:
    """Delete every queue and exchange the services declare in `namespace`.

    A queue holding messages (dead letters, unconsumed events, the event log's history) is
    refused, and then nothing at all is deleted, unless `force`. `dry_run` reports what would go.
    The production namespace (`foro`) also needs `i_mean_it`."""
    if namespace in PROTECTED_NAMESPACES and not i_mean_it:
        raise NamespaceProtected(
            f"namespace {namespace!r} is the platform's own; deleting it needs an explicit "
            "second confirmation"
        )
    plan = build_plan(namespace, broker_url)
    await plan.close()
    report = DeleteReport(namespace, dry_run)
    connection = await aio_pika.connect(broker_url)
    async with connection:
        present: list[str] = []
        for name in plan.queue_names:
            depth = await queue_depth(connection, name)
            if depth is None:
                report.absent.append(name)
                continue
            present.append(name)
            if name == plan.topology.event_log_name and await stream_holds_messages(
                connection, name
            ):
                depth = max(depth, 1)  # a stream: at least one message, the count unknown
            if depth:
                report.holding[name] = depth
        # Retry tiers beyond today's settings, left by a run with more attempts: tiers are
        # numbered 1…n without gaps, so probing upwards until one is absent finds them all.
        for queue in plan.consumer_queues:
            tier = len(plan.topology_of(queue).retry_queue_names(queue)) + 1
            while (
                depth := await queue_depth(connection, Topology.retry_queue_name(queue, tier))
            ) is not None:
                present.append(Topology.retry_queue_name(queue, tier))
                if depth:
                    report.holding[present[-1]] = depth
                tier += 1
        if not force:
            report.refused = dict(report.holding)
        exchanges = [
            name for name in plan.exchange_names if await exchange_exists(connection, name)
        ]
        report.absent.extend(name for name in plan.exchange_names if name not in exchanges)
        if dry_run or report.refused:
            report.deleted_queues, report.deleted_exchanges = (
                (present, exchanges) if dry_run else ([], [])
            )
        else:
            channel = await connection.channel()
            for name in present:
                # No `if_empty`: quorum queues refuse it (NOT_IMPLEMENTED). The depths were read
                # just before; a namespace being deleted has no producers left.
                await channel.queue_delete(name)
                report.deleted_queues.append(name)
            for name in exchanges:
                await channel.exchange_delete(name)
                report.deleted_exchanges.append(name)
            await channel.close()
    event = (
        "topology delete dry run"
        if dry_run
        else "topology deleted"
        if report.ok
        else "topology delete refused"
    )
    log.info(
        event,
        namespace=namespace,
        actor=actor,
        dry_run=dry_run,
        force=force,
        queues=len(report.deleted_queues),
        exchanges=len(report.deleted_exchanges),
        refused=report.refused,
        messages_deleted=sum(report.holding.values()) if force and not dry_run else 0,
    )
    return report

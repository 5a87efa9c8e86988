"""Every `AggregateStore` of every service is swept by its outbox relay (issue 11).

A store registers itself with the runtime's `StoreRegistry` when it is built; the relay sweeps
what the registry holds. These tests find the stores the way a reader would — every
`AggregateStore` reachable from a service's dependencies — and fail if one of them would be
left out of the crash sweep.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.expo.bootstrap import create_app as create_expo
from services.expo.settings import ExpoSettings
from services.notification.bootstrap import create_app as create_notification
from services.notification.settings import NotificationSettings
from services.registration.bootstrap import create_app as create_registration
from services.registration.settings import RegistrationSettings
from services.reporting.bootstrap import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from services.scheduling.bootstrap import create_app as create_scheduling
from services.scheduling.settings import SchedulingSettings
from shared.contracts.envelope import derive_id
from shared.contracts.registration import DelegationRegistered
from shared.decisions import Change
from shared.persistence.aggregates import AggregateStore
from shared.persistence.mongo import create_mongo_client
from shared.runtime import ServiceRuntime
from tests.support.bus import EventTap, delete_topology, eventually

SECRET = SecretStr("a-test-secret-of-at-least-thirty-two-characters")
TOKEN = SecretStr("test-token")

# Per service: its app factory, its settings class and what its settings need besides the
# namespace, database and servers — and collections its repository must be found holding.
SERVICES: dict[str, tuple[Callable[..., FastAPI], type, dict[str, Any], set[str]]] = {
    "registration": (
        create_registration,
        RegistrationSettings,
        {"webhook_secrets": [SECRET]},
        {"participants", "seat_ledgers", "delegations"},
    ),
    "scheduling": (
        create_scheduling,
        SchedulingSettings,
        {"participant_token_secret": [SECRET]},
        {"sessions", "releases", "ledgers"},
    ),
    "expo": (
        create_expo,
        ExpoSettings,
        {"badge_secret": SECRET, "participant_token_secret": [SECRET]},
        {"exhibitors", "stage", "leads", "meetings", "jobs", "applications"},
    ),
    "notification": (
        create_notification,
        NotificationSettings,
        {"participant_token_secret": [SECRET]},
        {"messages"},
    ),
    "reporting": (
        create_reporting,
        ReportingSettings,
        {"final_memoria": False},
        {"reports", "conclusions", "action_items", "budget_lines"},
    ),
}


def settings_for(service: str, namespace: str, mongo_url: str, amqp_url: str) -> Any:
    _, settings_class, extra, _ = SERVICES[service]
    return settings_class(
        namespace=namespace,
        database=f"{service}_{namespace}",
        mongo_url=SecretStr(mongo_url),
        broker_url=SecretStr(amqp_url),
        api_tokens=[TOKEN],
        outbox_sweep_seconds=0.5,
        **extra,
    )


def stores_reachable(root: object) -> Iterator[tuple[str, AggregateStore]]:
    """Every `AggregateStore` among the attributes of `root`, recursively, with its path.

    Only foro's own objects are walked (and the containers they hold): a store lives in a
    repository, a repository in a service's dependencies.
    """
    seen: set[int] = set()

    def walk(value: object, path: str) -> Iterator[tuple[str, AggregateStore]]:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, AggregateStore):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}[{key!r}]")
        elif isinstance(value, list | tuple | set | frozenset):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]")
        elif type(value).__module__.startswith(("services.", "shared.")):
            if dataclasses.is_dataclass(value):
                attributes = {
                    f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)
                }
            else:
                attributes = dict(getattr(value, "__dict__", {}))
            for name, item in attributes.items():
                yield from walk(item, f"{path}.{name}")

    yield from walk(root, "")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_store_of_a_service_is_swept(
    service: str, namespace: str, mongo_url: str, amqp_url: str
) -> None:
    create_app, _, _, expected = SERVICES[service]
    app = create_app(settings_for(service, namespace, mongo_url, amqp_url))  # connects nothing
    runtime: ServiceRuntime = app.state.runtime
    roots = {"deps": app.state.deps, "service": getattr(app.state, "service", None)}
    found = [
        (f"{name}{path}", store)
        for name, root in roots.items()
        for path, store in stores_reachable(root)
    ]
    assert expected <= {store.collection.name for _, store in found}, found

    assert runtime.relay is not None
    swept = runtime.relay.collections
    left_out = [
        f"{path} ({store.collection.full_name})"
        for path, store in found
        if store.collection.name not in swept
        or swept[store.collection.name].full_name != store.collection.full_name
    ]
    assert not left_out, f"{service}: stores the outbox relay never sweeps: {left_out}"
    # Nothing is swept that no store of the service writes.
    assert set(swept) == set(runtime.stores.collections)


@pytest.fixture
async def registration(
    namespace: str, mongo_url: str, amqp_url: str, amqp
) -> AsyncIterator[FastAPI]:
    settings = settings_for("registration", namespace, mongo_url, amqp_url)
    app = create_registration(settings)
    try:
        yield app
    finally:
        await delete_topology(amqp, app.state.runtime.topology, app.state.runtime.queue_names)
        cleanup = create_mongo_client(settings.mongo_url.get_secret_value())
        await cleanup.drop_database(settings.database)
        await cleanup.close()


async def test_the_sweep_publishes_what_a_crash_left_in_a_delegation(
    registration: FastAPI, amqp
) -> None:
    """A delegation's event written by a process that died before publishing it: the next start
    publishes it, although nothing told the relay about it."""
    runtime: ServiceRuntime = registration.state.runtime
    forum_id = "crm-foro-sector-privado-migraciones"
    delegation_id = f"{forum_id}:SV"
    event = DelegationRegistered.model_validate(
        {
            "producer": "registration",
            "delegation": {
                "delegation_id": delegation_id,
                "forum_id": forum_id,
                "code": "SV",
                "kind": "country",
                "name": "Delegación de El Salvador",
                "country": "SV",
                "category": "official_delegate",
                "quota": 10,
            },
        }
    )
    # The crashed process: its store wrote the document with its outbox, and no relay heard of it.
    crashed = create_mongo_client(runtime.settings.mongo_url.get_secret_value())
    try:
        store = AggregateStore(crashed[runtime.settings.database]["delegations"])
        applied = await store.apply(
            delegation_id,
            str(derive_id("test", uuid.uuid4())),
            lambda _: Change(set={"code": "SV"}, events=[event]),
        )
        assert applied.document is not None and applied.document["outbox_pending"] is True
    finally:
        await crashed.close()

    tap = await EventTap.open(amqp, runtime.topology, event.event_type)
    delegations = runtime.database["delegations"]
    async with runtime.running():
        published = await tap.wait_for(event.event_type)
        assert [body["event_id"] for body in published] == [str(event.event_id)]

        async def marked_sent() -> bool:
            document = await delegations.find_one({"_id": delegation_id})
            return document is not None and not document["outbox_pending"]

        await eventually(marked_sent, what="the swept entry marked sent")

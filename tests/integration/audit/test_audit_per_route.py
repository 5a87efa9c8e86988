"""Issue 14: "an audit entry for every state-changing route, with the actor".

Every state-changing route (POST, PUT, PATCH, DELETE) of the five services is, in one place here:
- `EXERCISED`: called once, by a staff or party token whose subject and token id the test knows
  and with a correlation id of its own, in a setup where it succeeds (2xx); the events it caused
  (those with its correlation id or its token id, caught on the events and intake exchanges)
  must be at least one, every one carrying the caller as `actor`, and reporting's audit rules
  (`services/reporting/audit/rules.py`) must make of each an entry naming that actor, and of one
  at least an entry naming a subject id;
- `PUBLIC`: taken without a token (a signed webhook, a sign-in, an application): no actor;
- `NO_EVENT`: changes state without an event — a gap, with who closes it.

`test_every_state_changing_route_is_decided` fails when a route is added to any app without being
put in one of these (or when one of them names a route that is gone), and each service's test
fails when an exercised route no longer produces its audit entry.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.notification.settings import NotificationSettings
from services.registration.settings import RegistrationSettings
from services.reporting.audit.rules import entry_of
from services.reporting.audit.subjects import KINDS
from services.reporting.projections.views import read_event
from services.reporting.settings import ReportingSettings
from services.scheduling.settings import SchedulingSettings
from shared.auth.dependencies import api_routes, permission_of
from shared.auth.permissions import Role
from shared.auth.tokens import LinkSigner, TokenSigner, encode_pem, generate_key_pair
from shared.badges import sign_badge_token
from shared.messaging.topology import Topology
from shared.settings import ServiceSettings
from tests.integration.expo.conftest import RunningExpo, application, running_expo
from tests.integration.notification.conftest import RunningNotification
from tests.integration.notification.test_webhooks import Receiver
from tests.integration.registration.conftest import (
    BADGE_SECRET,
    RunningRegistration,
    participant_id_of,
)
from tests.integration.reporting.conftest import RunningReporting
from tests.integration.scheduling.conftest import PARTICIPANT_SECRET, RunningScheduling
from tests.support.browser import serve_app
from tests.support.bus import eventually
from tests.support.factories import FORUM_ID, signup
from tests.support.notification import confirmed, participant

SERVICES = ("registration", "scheduling", "reporting", "notification", "expo")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
type Key = tuple[str, str]

# ---------------------------------------------------------------------------------------------
# The decisions: every state-changing route of every service is in exactly one of these.
# ---------------------------------------------------------------------------------------------

EXERCISED: frozenset[Key] = frozenset(
    {
        # registration
        ("registration", "POST /participants/{participant_id}/cancel"),
        ("registration", "PUT /delegations/{code}"),
        ("registration", "POST /delegations/{code}/focal-point-key"),
        ("registration", "POST /delegations/{code}/members"),
        ("registration", "POST /delegations/{code}/members/{participant_id}/substitute"),
        ("registration", "DELETE /delegations/{code}/members/{participant_id}"),
        ("registration", "POST /delegations/{code}/accreditation"),
        ("registration", "POST /participants/{participant_id}/accreditation/approve"),
        ("registration", "POST /participants/{participant_id}/accreditation/reject"),
        ("registration", "POST /checkins"),
        ("registration", "PATCH /participants/{participant_id}/consents"),
        ("registration", "POST /participants/{participant_id}/erasure"),
        ("registration", "POST /participants/{participant_id}/access-token"),
        ("registration", "POST /participants/{participant_id}/access/revoke"),
        ("registration", "POST /auth/tokens"),
        ("registration", "POST /auth/tokens/{token_id}/revoke"),
        ("registration", "POST /accounts"),
        ("registration", "PUT /accounts/{username}/roles"),
        ("registration", "POST /accounts/{username}/disable"),
        # expo
        ("expo", "POST /exhibitors/{exhibitor_id}/approve"),
        ("expo", "POST /exhibitors/{exhibitor_id}/reject"),
        ("expo", "POST /exhibitors/{exhibitor_id}/token"),
        ("expo", "POST /allocation/run"),
        ("expo", "POST /allocation/reset"),
        ("expo", "PUT /booths/{code}/assignment"),
        ("expo", "DELETE /booths/{code}/assignment"),
        ("expo", "POST /me/booth-request"),
        ("expo", "POST /me/launches"),
        ("expo", "POST /me/leads/scans"),
        ("expo", "POST /meetings"),
        ("expo", "POST /meetings/{meeting_id}/accept"),
        ("expo", "POST /meetings/{meeting_id}/decline"),
        ("expo", "POST /me/jobs"),
        ("expo", "POST /me/applications/{application_id}/interview"),
        ("expo", "POST /jobs/{job_id}/applications"),
        # scheduling
        ("scheduling", "POST /programme/sessions"),
        ("scheduling", "PATCH /programme/sessions/{code}"),
        ("scheduling", "POST /programme/sessions/{code}/cancel"),
        ("scheduling", "POST /programme/sessions/{code}/restore"),
        ("scheduling", "PUT /programme/sessions/{code}/people"),
        ("scheduling", "POST /programme/sessions/{code}/people/{person_id}/invitation"),
        ("scheduling", "POST /programme/sessions/{code}/people/{person_id}/invitation/{answer}"),
        ("scheduling", "POST /programme/sessions/{code}/people/{person_id}/travel-support"),
        ("scheduling", "POST /programme/releases"),
        ("scheduling", "POST /sessions/{code}/signups"),
        ("scheduling", "DELETE /sessions/{code}/signups/{participant_id}"),
        # reporting
        ("reporting", "POST /memoria"),
        ("reporting", "POST /base-document"),
        ("reporting", "POST /conclusions"),
        ("reporting", "PUT /conclusions/{conclusion_id}"),
        ("reporting", "POST /conclusions/{conclusion_id}/submit"),
        ("reporting", "POST /conclusions/{conclusion_id}/{action}"),
        ("reporting", "POST /action-items"),
        ("reporting", "PATCH /action-items/{item_id}"),
        ("reporting", "POST /action-items/follow-ups"),
        ("reporting", "POST /budget/entries"),
        # notification
        ("notification", "POST /messages/{message_id}/replay"),
        ("notification", "PUT /people/{person_id}/preferences"),
        ("notification", "POST /campaigns"),
        ("notification", "POST /webhooks/endpoints"),
        ("notification", "PATCH /webhooks/endpoints/{endpoint_id}"),
        ("notification", "POST /webhooks/endpoints/{endpoint_id}/secret"),
        ("notification", "DELETE /webhooks/endpoints/{endpoint_id}"),
        ("notification", "POST /webhooks/deliveries/{delivery_id}/replay"),
    }
)

WITHOUT_SUBJECT: dict[Key, str] = {
    ("notification", "POST /campaigns"): "campaign.requested is sent to a segment, not to people "
    "(services/reporting/audit/subjects.py NO_SUBJECT); its messages name their recipients",
    **{
        ("notification", route): "webhook.endpoint_changed: an endpoint is a machine's address, "
        "about no participant (NO_SUBJECT); the entry names the actor and the endpoint"
        for route in (
            "POST /webhooks/endpoints",
            "PATCH /webhooks/endpoints/{endpoint_id}",
            "POST /webhooks/endpoints/{endpoint_id}/secret",
            "DELETE /webhooks/endpoints/{endpoint_id}",
        )
    },
}
"""Exercised routes whose events are deliberately filed under no subject: the entry names the
actor only."""

LATER_WITHOUT_ACTOR: dict[Key, tuple[frozenset[str], str]] = {
    ("notification", "POST /campaigns"): (
        frozenset({"notification.queued", "notification.sent", "notification.failed"}),
        "a campaign's messages are made by the periodic expansion, which does not keep the "
        "campaign's actor (the campaign document and its messages hold none): they share its "
        "correlation id but name the system — a gap, reported",
    ),
}
"""Events a route's request leads to later (same correlation id) that do not name its caller yet:
which types, and why. The route's own events must still name the caller."""

PUBLIC: dict[Key, str] = {
    ("registration", "POST /intake/registrations"): "a form vendor's signed webhook: "
    "registration.submitted, no actor (no one signed in)",
    ("registration", "POST /intake/cancellations"): "a form vendor's signed webhook: "
    "registration.cancel_requested, no actor",
    ("registration", "POST /auth/login"): "a sign-in: issues a staff token and records it on the "
    "account (its id, the time: disabling the account revokes it); logged with the token's id, "
    "no event (no one is signed in yet)",
    ("expo", "POST /exhibitors/applications"): "anyone applies to exhibit: exhibitor.applied, no "
    "actor",
    ("notification", "POST /unsubscribe"): "one-click unsubscribe (RFC 8058) by the signed, "
    "person-scoped link of a non-essential e-mail: contact.preferences_changed, no actor "
    "(tests/integration/notification/test_unsubscribe.py)",
}

NO_EVENT: dict[Key, str] = {}


TABLES: dict[str, dict[Key, str]] = {
    "EXERCISED": dict.fromkeys(EXERCISED, ""),
    "PUBLIC": PUBLIC,
    "NO_EVENT": NO_EVENT,
}


# ---------------------------------------------------------------------------------------------
# Which routes change state: from the apps as they are served (`api_routes`)
# ---------------------------------------------------------------------------------------------


def _offline_settings(service: str) -> Any:
    module = importlib.import_module(f"services.{service}.settings")
    cls = getattr(module, f"{service.capitalize()}Settings")
    return cls(
        environment="development",
        mongo_url=SecretStr("mongodb://127.0.0.1:1/?directConnection=true"),
        broker_url=SecretStr("amqp://guest:guest@127.0.0.1:1/"),
        api_tokens=[SecretStr("audit-offline-token")],
        participant_token_secret=[SecretStr(PARTICIPANT_SECRET)],
    )


def state_changing(service: str, app: FastAPI) -> dict[Key, bool]:
    """The app's state-changing routes, each with whether it requires a permission."""
    found: dict[Key, bool] = {}
    for route in api_routes(app):
        for method in sorted(route.methods or ()):
            if method in STATE_CHANGING:
                found[(service, f"{method} {route.path}")] = permission_of(route) is not None
    return found


def test_every_state_changing_route_is_decided() -> None:
    """A new state-changing route fails here until it is exercised below or listed with why."""
    routes: dict[Key, bool] = {}
    for service in SERVICES:
        bootstrap = importlib.import_module(f"services.{service}.bootstrap")
        routes |= state_changing(service, bootstrap.create_app(_offline_settings(service)))
    assert len(routes) >= 55

    placed: dict[Key, list[str]] = {}
    for name, table in TABLES.items():
        for key in table:
            placed.setdefault(key, []).append(name)
    undecided = sorted(key for key in routes if key not in placed)
    assert not undecided, (
        "state-changing routes neither exercised by the audit test nor listed (PUBLIC, "
        f"NO_EVENT) in {__name__}: {undecided}"
    )
    twice = {key: names for key, names in placed.items() if len(names) > 1}
    assert not twice, f"routes in several tables: {twice}"
    gone = sorted(key for key in placed if key not in routes)
    assert not gone, f"listed routes no app serves (any more): {gone}"
    public_with_permission = sorted(key for key in PUBLIC if routes[key])
    assert not public_with_permission, (
        f"PUBLIC routes that require a permission: {public_with_permission}"
    )
    open_ = sorted(key for key, guarded in routes.items() if not guarded and key not in PUBLIC)
    assert not open_, f"state-changing routes without a permission, not listed PUBLIC: {open_}"
    assert all(reason.strip() for table in (PUBLIC, NO_EVENT) for reason in table.values())
    assert set(WITHOUT_SUBJECT) <= EXERCISED and set(LATER_WITHOUT_ACTOR) <= EXERCISED


# ---------------------------------------------------------------------------------------------
# Callers, the events they cause, and what the audit makes of them
# ---------------------------------------------------------------------------------------------

PRIVATE, PUBLIC_KEY = generate_key_pair()
KEY_ID = "audit-per-route"
SIGNER = TokenSigner(PRIVATE, KEY_ID)
LINKS = LinkSigner([PARTICIPANT_SECRET])


@dataclass(frozen=True)
class Caller:
    """Who calls a route: the token, its subject and id as an audit entry names them, and the
    request's own correlation id."""

    subject: str
    token_id: str
    token: str
    correlation_id: str = field(default_factory=lambda: f"audit-{uuid.uuid4().hex}")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Correlation-Id": self.correlation_id}

    def caused(self, body: dict[str, Any]) -> bool:
        actor = body.get("actor") or {}
        return (
            body.get("correlation_id") == self.correlation_id
            or actor.get("token_id") == self.token_id
        )


def staff(*roles: Role, **claims: Any) -> Caller:
    """A staff sign-in's token of its own (a fresh token id per call)."""
    name = f"audit-{uuid.uuid4().hex[:8]}"
    signed = SIGNER.sign(
        subject=f"account:{name}",
        kind="staff",
        roles=roles or (Role.ADMIN,),
        lifetime=timedelta(hours=1),
        **claims,
    )
    return Caller(f"account:{name}", signed.jti, signed.token)


def participant_caller(participant_id: str) -> Caller:
    """A participant's personal code."""
    signed = LINKS.participant(participant_id)
    return Caller(f"participant:{participant_id}", signed.jti, signed.token)


class Tap:
    """Every message on the events and intake exchanges, read with basic.get."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel, queue: aio_pika.abc.AbstractQueue):
        self.channel = channel
        self.queue = queue
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, amqp: aio_pika.abc.AbstractConnection, topology: Topology) -> Tap:
        channel = await amqp.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for exchange in (topology.events, topology.intake):
            declared = await channel.declare_exchange(
                exchange.name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            await queue.bind(declared, routing_key="#")
        return cls(channel, queue)

    async def drain(self) -> list[dict[str, Any]]:
        while (message := await self.queue.get(fail=False, no_ack=True)) is not None:
            self.seen.append(json.loads(message.body))
        return self.seen

    async def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [body for body in await self.drain() if body.get("event_type") == event_type]

    async def caused_by(self, caller: Caller, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The events `caller`'s request caused; empty when none arrived within `timeout`."""

        async def arrived() -> bool:
            return any(map(caller.caused, await self.drain()))

        try:
            await eventually(arrived, timeout, what=f"an event of {caller.correlation_id}")
        except AssertionError:
            return []
        return [body for body in await self.drain() if caller.caused(body)]


@dataclass
class Scenario:
    """One service's state-changing routes, called in order; each call recorded by its route."""

    service: str
    http: httpx.AsyncClient
    tap: Tap
    calls: dict[Key, Caller] = field(default_factory=dict)

    async def call(
        self, method: str, route: str, url: str, caller: Caller | None = None, **options: Any
    ) -> httpx.Response:
        """Call `route` (its template, as `api_routes` names it) at `url`; it must succeed."""
        caller = caller or staff()
        response = await self.http.request(method, url, headers=caller.headers(), **options)
        assert 200 <= response.status_code < 300, (method, url, response.status_code, response.text)
        key = (self.service, f"{method} {route}")
        assert key not in self.calls, f"{key} called twice"
        self.calls[key] = caller
        return response

    async def setup(
        self, method: str, url: str, caller: Caller | None = None, **options: Any
    ) -> httpx.Response:
        """A request that prepares what a route needs (by staff unless `caller`); it is not the
        route under test."""
        caller = caller or staff()
        response = await self.http.request(method, url, headers=caller.headers(), **options)
        assert 200 <= response.status_code < 300, (method, url, response.status_code, response.text)
        return response

    async def verify(self) -> None:
        exercised = {key for key in EXERCISED if key[0] == self.service}
        assert set(self.calls) == exercised, (
            f"{self.service}: exercised {sorted(set(self.calls))}, expected {sorted(exercised)}"
        )
        problems: list[str] = []
        for key, caller in sorted(self.calls.items()):
            problems += [f"{key[1]}: {problem}" for problem in await self._audited(key, caller)]
        assert not problems, f"{self.service}:\n" + "\n".join(problems)

    async def _audited(self, key: Key, caller: Caller) -> list[str]:
        events = await self.tap.caused_by(caller)
        if not events:
            return ["no event"]
        problems = []
        subjects = False
        later, _ = LATER_WITHOUT_ACTOR.get(key, (frozenset(), ""))
        for body in events:
            actor = body.get("actor") or {}
            if not actor and body["event_type"] in later:
                continue
            if (actor.get("subject"), actor.get("token_id")) != (caller.subject, caller.token_id):
                problems.append(f"{body['event_type']} names the actor {actor or None}")
            entry = entry_of(read_event(body))
            if (entry["actor"]["subject"], entry["actor"]["token_id"]) != (
                caller.subject,
                caller.token_id,
            ):
                problems.append(f"the audit entry of {body['event_type']}: {entry['actor']}")
            subjects |= any(entry.get(kind) for kind in KINDS)
        if not subjects and key not in WITHOUT_SUBJECT:
            problems.append(
                f"no audit entry names a subject ({sorted({b['event_type'] for b in events})})"
            )
        return problems


def with_test_key[S: ServiceSettings](settings: S) -> S:
    return settings.model_copy(update={"auth_public_keys": {KEY_ID: encode_pem(PUBLIC_KEY)}})


async def scenario_for(
    service: str, app: FastAPI, amqp: aio_pika.abc.AbstractConnection, base_url: str
) -> tuple[Scenario, Callable[[], Awaitable[None]]]:
    tap = await Tap.open(amqp, app.state.runtime.topology)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)

    async def close() -> None:
        await http.aclose()
        await tap.channel.close()

    return Scenario(service, http, tap), close


# ---------------------------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def reporting_settings(reporting_settings: ReportingSettings) -> ReportingSettings:
    return with_test_key(reporting_settings)


async def test_every_reporting_route_is_an_audit_entry_naming_its_caller(
    reporting: RunningReporting, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    run, close = await scenario_for("reporting", reporting.app, amqp, "http://reporting")
    try:
        rapporteur = staff(Role.RAPPORTEUR, sessions=["B1.1"])
        texts = {"es": {"title": "Remesas y desarrollo"}}
        drafted = await run.call(
            "POST",
            "/conclusions",
            "/conclusions",
            rapporteur,
            json={"session_code": "B1.1", "texts": texts, "rapporteur": "R"},
        )
        conclusion = drafted.json()["id"]
        await run.call(
            "PUT",
            "/conclusions/{conclusion_id}",
            f"/conclusions/{conclusion}",
            staff(Role.RAPPORTEUR, sessions=["B1.1"]),
            json={"session_code": "B1.1", "texts": {"es": {"title": "Remesas"}}},
        )
        await run.call(
            "POST",
            "/conclusions/{conclusion_id}/submit",
            f"/conclusions/{conclusion}/submit",
            staff(Role.RAPPORTEUR, sessions=["B1.1"]),
        )
        await run.call(
            "POST", "/conclusions/{conclusion_id}/{action}", f"/conclusions/{conclusion}/approve"
        )
        owner = {"kind": "country", "code": "SV", "name": "El Salvador"}
        created = await run.call(
            "POST",
            "/action-items",
            "/action-items",
            json={"title": {"es": "Fondo"}, "owner": owner, "deadline": "2005-01-01"},
        )
        item = created.json()["id"]
        await run.call(
            "PATCH",
            "/action-items/{item_id}",
            f"/action-items/{item}",
            json={"status": "in_progress"},
        )
        # 1 January has passed on the service's clock (5 January): one follow-up due
        await run.call("POST", "/action-items/follow-ups", "/action-items/follow-ups")
        await run.call(
            "POST",
            "/budget/entries",
            "/budget/entries",
            staff(Role.FINANCE),
            json={
                "line": "equipment_refreshments",
                "kind": "expense",
                "amount": "120.00",
                "description": "Refrigerios",
            },
        )
        await run.call("POST", "/memoria", "/memoria", params={"lang": "es"})
        await run.call("POST", "/base-document", "/base-document", params={"lang": "en"})
        await run.verify()
    finally:
        await close()


# ---------------------------------------------------------------------------------------------
# scheduling
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def scheduling_settings(scheduling_settings: SchedulingSettings) -> SchedulingSettings:
    return with_test_key(scheduling_settings)


async def test_every_scheduling_route_is_an_audit_entry_naming_its_caller(
    scheduling: RunningScheduling, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    await scheduling.tap.wait_for("programme.published")  # the first release, at start
    run, close = await scenario_for("scheduling", scheduling.app, amqp, "http://scheduling.test")
    try:
        await run.call(
            "POST",
            "/programme/sessions",
            "/programme/sessions",
            staff(Role.PROGRAMME_EDITOR),
            json={
                "code": "X1",
                "kind": "session",
                "parent": "B2",
                "title": {"es": "Extra", "en": "Extra"},
                "starts_at": "2004-11-18T15:00:00",
                "ends_at": "2004-11-18T15:20:00",
                "room": "breakout_b",
            },
        )
        await run.call(
            "PATCH",
            "/programme/sessions/{code}",
            "/programme/sessions/X1",
            json={"title": {"es": "Adicional", "en": "Additional"}},
        )
        await run.call(
            "POST",
            "/programme/sessions/{code}/cancel",
            "/programme/sessions/X1/cancel",
            json={"reason": "Sin ponentes"},
        )
        await run.call(
            "POST", "/programme/sessions/{code}/restore", "/programme/sessions/X1/restore"
        )

        panelist = {
            "name": "Ana Torres",
            "role": "panelist",
            "email": "ana.torres@example.org",
            "person_id": "p-audit",
        }
        await run.call(
            "PUT",
            "/programme/sessions/{code}/people",
            "/programme/sessions/B2.2/people",
            json=[panelist],
        )
        people = "/programme/sessions/{code}/people/{person_id}"
        await run.call(
            "POST",
            f"{people}/invitation",
            "/programme/sessions/B2.2/people/p-audit/invitation",
            json={"travel_support": True},
        )
        await run.call(
            "POST",
            f"{people}/invitation/{{answer}}",
            "/programme/sessions/B2.2/people/p-audit/invitation/accept",
        )
        await run.call(
            "POST",
            f"{people}/travel-support",
            "/programme/sessions/B2.2/people/p-audit/travel-support",
            staff(Role.PROGRAMME_EDITOR),
            json={"amount": "300.00"},
        )
        await run.call(
            "POST",
            "/programme/releases",
            "/programme/releases",
            staff(Role.PROGRAMME_EDITOR),
            json={"note": "audit"},
        )

        attendee = await scheduling.confirmed_participant()
        pid = str(attendee.participant_id)
        await scheduling.projected(pid)
        await run.call(
            "POST",
            "/sessions/{code}/signups",
            "/sessions/B2.4/signups",
            participant_caller(pid),
            json={"participant_id": pid},
        )
        await run.call(
            "DELETE",
            "/sessions/{code}/signups/{participant_id}",
            f"/sessions/B2.4/signups/{pid}",
            participant_caller(pid),
        )
        await run.verify()
    finally:
        await close()


# ---------------------------------------------------------------------------------------------
# notification
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def notification_settings(notification_settings: NotificationSettings) -> NotificationSettings:
    return with_test_key(notification_settings)


async def test_every_notification_route_is_an_audit_entry_naming_its_caller(
    notification: RunningNotification, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    assert notification.app is not None
    run, close = await scenario_for("notification", notification.app, amqp, "http://notification")
    try:
        await run.call(
            "PUT",
            "/people/{person_id}/preferences",
            f"/people/{uuid.uuid4()}/preferences",
            staff(Role.COMMUNICATIONS),
            json={"language": "en", "opt_out_non_essential": True},
        )
        await run.call(
            "POST",
            "/campaigns",
            "/campaigns",
            staff(Role.COMMUNICATIONS),
            json={
                "campaign_id": f"audit-{uuid.uuid4().hex[:8]}",
                "segment": {"countries": ["SV"]},
                "subject": {"es": "Horario", "en": "Hours"},
                "body": {"es": "Abre a las 9:00.", "en": "Opens at 9:00."},
            },
        )

        # a message every SMS provider refused, kept for replay
        notification.gateway.account("ACprimary", status=500)
        notification.gateway.account("ACbackup", status=503)
        person = participant(phone="+50370008888")
        await notification.publish(confirmed(person))

        async def failed() -> bool:
            return any(
                body["recipient_id"] == person["participant_id"]
                for body in await run.tap.of_type("notification.failed")
            )

        await eventually(failed, 60, what="the SMS failed with every provider")
        [message] = await notification.messages(person_id=person["participant_id"], channel="sms")
        notification.gateway.account("ACbackup", status=201)
        await run.call(
            "POST",
            "/messages/{message_id}/replay",
            f"/messages/{message['_id']}/replay",
            staff(Role.COMMUNICATIONS),
        )

        # an outbound webhook endpoint: registered, changed, its secret rotated, a delivery
        # sent again, removed
        receiver = Receiver()
        async with serve_app(receiver) as url:
            created = await run.call(
                "POST",
                "/webhooks/endpoints",
                "/webhooks/endpoints",
                staff(Role.ADMIN),
                json={"url": url, "event_types": ["registration.confirmed"]},
            )
            endpoint_id = created.json()["endpoint_id"]
            hooked = participant()
            await notification.publish(confirmed(hooked))

            async def delivered() -> bool:
                return bool(receiver.delivered())

            async def recorded() -> bool:
                found = await notification.messages(endpoint_id=endpoint_id)
                return bool(found) and found[0]["status"] == "sent"

            await eventually(delivered, 30, what="the webhook delivery")
            await eventually(recorded, 30, what="the webhook delivery recorded as sent")
            [delivery] = await notification.messages(endpoint_id=endpoint_id)
            await run.call(
                "POST",
                "/webhooks/deliveries/{delivery_id}/replay",
                f"/webhooks/deliveries/{delivery['_id']}/replay",
                staff(Role.ADMIN),
            )
            await run.call(
                "PATCH",
                "/webhooks/endpoints/{endpoint_id}",
                f"/webhooks/endpoints/{endpoint_id}",
                staff(Role.ADMIN),
                json={"description": "Formularios S.A."},
            )
            await run.call(
                "POST",
                "/webhooks/endpoints/{endpoint_id}/secret",
                f"/webhooks/endpoints/{endpoint_id}/secret",
                staff(Role.ADMIN),
            )
            await run.call(
                "DELETE",
                "/webhooks/endpoints/{endpoint_id}",
                f"/webhooks/endpoints/{endpoint_id}",
                staff(Role.ADMIN),
            )
        await run.verify()
    finally:
        await close()


# ---------------------------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def registration_settings(registration_settings: RegistrationSettings) -> RegistrationSettings:
    """Registration signs staff tokens with the test key, badges with the tests' secret, and
    parties' links with the audit's link secret."""
    return with_test_key(registration_settings).model_copy(
        update={
            "auth_signing_key": SecretStr(encode_pem(PRIVATE)),
            "auth_signing_key_id": KEY_ID,
            "badge_secret": SecretStr(BADGE_SECRET),
            "participant_token_secret": [SecretStr(PARTICIPANT_SECRET)],
        }
    )


def focal_point_caller(code: str) -> Caller:
    """A delegation's focal point's access."""
    signed = LINKS.focal_point(code)
    return Caller(f"focal_point:{code}", signed.jti, signed.token)


def nominee() -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    return {
        "given_name": "Delegada",
        "family_name": f"Número {token}",
        "email": f"delegada.{token}@cancilleria.example",
        "consents": {"privacy_policy": True},
    }


async def test_every_registration_route_is_an_audit_entry_naming_its_caller(
    registration: RunningRegistration, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    run, close = await scenario_for("registration", registration.app, amqp, "http://registration")

    async def signed_up(**overrides: Any) -> str:
        body = signup(**overrides)
        await registration.send(json.dumps(body).encode())
        return await participant_id_of(registration, body["email"])

    async def badge_of(participant_id: str) -> str:
        async def issued() -> bool:
            return any(
                body["participant_id"] == participant_id
                for body in await run.tap.of_type("badge.issued")
            )

        await eventually(issued, 20, what=f"badge.issued for {participant_id}")
        [badge] = [
            b
            for b in await run.tap.of_type("badge.issued")
            if b["participant_id"] == participant_id
        ]
        return sign_badge_token(BADGE_SECRET, FORUM_ID, badge["token_id"])

    try:
        # delegations: the secretariat registers one and issues its focal point's access; the
        # focal point nominates, substitutes and withdraws; the secretariat accredits the rest
        code = "BZ"
        await run.call(
            "PUT", "/delegations/{code}", f"/delegations/{code}", staff(Role.REGISTRAR), json={}
        )
        await run.call(
            "POST", "/delegations/{code}/focal-point-key", f"/delegations/{code}/focal-point-key"
        )
        members = "/delegations/{code}/members"
        nominated = []
        for route in (members, None, None):
            response = (
                await run.call(
                    "POST",
                    route,
                    f"/delegations/{code}/members",
                    focal_point_caller(code),
                    json=nominee(),
                )
                if route
                else await run.setup("POST", f"/delegations/{code}/members", json=nominee())
            )
            nominated.append(response.json()["participant_id"])
        await run.call(
            "POST",
            f"{members}/{{participant_id}}/substitute",
            f"/delegations/{code}/members/{nominated[0]}/substitute",
            focal_point_caller(code),
            json=nominee(),
        )
        await run.call(
            "DELETE",
            f"{members}/{{participant_id}}",
            f"/delegations/{code}/members/{nominated[1]}",
            focal_point_caller(code),
        )
        accredited = await run.call(
            "POST",
            "/delegations/{code}/accreditation",
            f"/delegations/{code}/accreditation",
            staff(Role.REGISTRAR),
        )
        assert accredited.json()["approved"], accredited.text

        # accreditation of a journalist, and its refusal to another
        approved, rejected = await signed_up(category="media"), await signed_up(category="media")
        decision = "/participants/{participant_id}/accreditation"
        await run.call(
            "POST",
            f"{decision}/approve",
            f"/participants/{approved}/accreditation/approve",
            staff(Role.REGISTRAR),
        )
        await run.call(
            "POST",
            f"{decision}/reject",
            f"/participants/{rejected}/accreditation/reject",
            staff(Role.REGISTRAR),
            json={"reason_es": "Falta la carta del medio.", "reason_en": "The letter is missing."},
        )

        # a confirmed participant: checked in, consents, personal code, its revocation,
        # cancellation; another one erased
        attendee = await signed_up()
        await run.call(
            "POST",
            "/checkins",
            "/checkins",
            staff(Role.DOOR_STAFF),
            json={"token": await badge_of(attendee), "point": "entrance"},
        )
        person = "/participants/{participant_id}"
        await run.call(
            "PATCH",
            f"{person}/consents",
            f"/participants/{attendee}/consents",
            staff(Role.REGISTRAR),
            json={"photos": True},
        )
        await run.call(
            "POST",
            f"{person}/access-token",
            f"/participants/{attendee}/access-token",
            staff(Role.REGISTRAR),
        )
        await run.call(
            "POST",
            f"{person}/access/revoke",
            f"/participants/{attendee}/access/revoke",
            staff(Role.REGISTRAR),
        )
        await run.call(
            "POST",
            f"{person}/cancel",
            f"/participants/{attendee}/cancel",
            staff(Role.REGISTRAR),
            json={"reason": "No viaja"},
        )
        erased = await signed_up()
        await run.call("POST", f"{person}/erasure", f"/participants/{erased}/erasure")

        # accounts and API tokens
        username = f"audit.{uuid.uuid4().hex[:8]}"
        await run.call(
            "POST",
            "/accounts",
            "/accounts",
            json={
                "username": username,
                "roles": ["door_staff"],
                "password": "a long enough passphrase",
            },
        )
        await run.call(
            "PUT",
            "/accounts/{username}/roles",
            f"/accounts/{username}/roles",
            json={"roles": ["door_staff", "registrar"]},
        )
        await run.call("POST", "/accounts/{username}/disable", f"/accounts/{username}/disable")
        issued = await run.call(
            "POST",
            "/auth/tokens",
            "/auth/tokens",
            json={"name": "relay", "roles": ["registrar"], "expires_in_days": 30},
        )
        await run.call(
            "POST",
            "/auth/tokens/{token_id}/revoke",
            f"/auth/tokens/{issued.json()['token_id']}/revoke",
        )
        await run.verify()
    finally:
        await close()


# ---------------------------------------------------------------------------------------------
# expo
# ---------------------------------------------------------------------------------------------

CV = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def expo(mongo_url: str, amqp_url: str) -> AsyncIterator[RunningExpo]:
    """Expo of its own for the test, verifying staff tokens with the test key and parties'
    links with the audit's link secret."""
    async with running_expo(
        mongo_url,
        amqp_url,
        auth_public_keys={KEY_ID: encode_pem(PUBLIC_KEY)},
        participant_token_secret=[SecretStr(PARTICIPANT_SECRET)],
    ) as running:
        yield running


def exhibitor_caller(exhibitor_id: str) -> Caller:
    """An exhibitor's own access."""
    signed = LINKS.exhibitor(exhibitor_id)
    return Caller(f"exhibitor:{exhibitor_id}", signed.jti, signed.token)


async def test_every_expo_route_is_an_audit_entry_naming_its_caller(
    expo: RunningExpo, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    run, close = await scenario_for("expo", expo.app, amqp, "http://expo")

    async def applied(**overrides: Any) -> str:
        response = await run.setup(
            "POST", "/exhibitors/applications", json=application(**overrides)
        )
        return str(response.json()["exhibitor_id"])

    try:
        # the secretariat's decisions: a company approved (its booth staff signed up for
        # registration in the same write), another rejected; an employer and a travel agency
        # approved as setups
        booth_staff = {"given_name": "Luis", "family_name": "Pérez", "email": "luis@example.org"}
        company = await applied(staff=[booth_staff], staff_consented=True)  # signed up at approval
        refused = await applied()
        employer = await applied(exhibitor_type="job_fair_employer", sector=None)
        agency = await applied(sector="airlines_travel")
        manager = Role.EXPO_MANAGER
        await run.call(
            "POST",
            "/exhibitors/{exhibitor_id}/approve",
            f"/exhibitors/{company}/approve",
            staff(manager),
        )
        await run.call(
            "POST",
            "/exhibitors/{exhibitor_id}/reject",
            f"/exhibitors/{refused}/reject",
            staff(manager),
            json={"reason": "No ofrece servicios a la comunidad migrante."},
        )
        for exhibitor_id in (employer, agency):
            await run.setup("POST", f"/exhibitors/{exhibitor_id}/approve")

        # booths: the company asks for one; the agency gets one by hand, freed again; the
        # allocation gives the employer and the agency theirs
        await run.call("POST", "/me/booth-request", "/me/booth-request", exhibitor_caller(company))
        assignment = "/booths/{code}/assignment"
        await run.call(
            "PUT",
            assignment,
            "/booths/T03/assignment",
            staff(manager),
            json={"exhibitor_id": agency, "reason": "Patrocinador principal"},
        )
        await run.call(
            "DELETE",
            assignment,
            "/booths/T03/assignment",
            staff(manager),
            params={"reason": "Cambio de planta"},
        )
        allocated = await run.call("POST", "/allocation/run", "/allocation/run", staff(manager))
        assert {a["exhibitor_id"] for a in allocated.json() if a["booth"]} >= {employer, agency}

        # the company's stage launch and a lead; a participant meets it, and is declined by the
        # agency
        attendee = await expo.confirmed_participant()
        await run.call(
            "POST",
            "/me/launches",
            "/me/launches",
            exhibitor_caller(company),
            json={
                "kind": "product",
                "title": "Remesa Directa",
                "day": 1,
                "starts_at": "11:00",
                "minutes": 30,
            },
        )
        await run.call(
            "POST",
            "/me/leads/scans",
            "/me/leads/scans",
            exhibitor_caller(company),
            json={"code": attendee},
        )
        requested = await run.call(
            "POST",
            "/meetings",
            "/meetings",
            participant_caller(attendee),
            json={"invitee": {"kind": "exhibitor", "id": company}, "topic": "Remesas"},
        )
        await run.call(
            "POST",
            "/meetings/{meeting_id}/accept",
            f"/meetings/{requested.json()['meeting_id']}/accept",
            exhibitor_caller(company),
        )
        other = await run.setup(
            "POST",
            "/meetings",
            participant_caller(attendee),
            json={"invitee": {"kind": "exhibitor", "id": agency}, "topic": "Viajes"},
        )
        await run.call(
            "POST",
            "/meetings/{meeting_id}/decline",
            f"/meetings/{other.json()['meeting_id']}/decline",
            exhibitor_caller(agency),
        )

        # the job fair: a post, an application with a CV, an interview
        posted = await run.call(
            "POST",
            "/me/jobs",
            "/me/jobs",
            exhibitor_caller(employer),
            json={"title": "Ingeniera de software", "description": "Plataformas de remesas."},
        )
        application_ = await run.call(
            "POST",
            "/jobs/{job_id}/applications",
            f"/jobs/{posted.json()['job_id']}/applications",
            participant_caller(attendee),
            files={"cv": ("cv.pdf", CV, "application/pdf")},
        )
        await run.call(
            "POST",
            "/me/applications/{application_id}/interview",
            f"/me/applications/{application_.json()['application_id']}/interview",
            exhibitor_caller(employer),
        )

        # the secretariat frees the allocation and gives the agency a new access
        await run.call(
            "POST",
            "/allocation/reset",
            "/allocation/reset",
            staff(manager),
            json={"reason": "Nueva corrida"},
        )
        await run.call("POST", "/exhibitors/{exhibitor_id}/token", f"/exhibitors/{agency}/token")
        await run.verify()
    finally:
        await close()

"""Every route of the five services against every role (issue 14's matrix).

The apps are built with `create_app(settings)` and driven in-process (httpx's ASGITransport, no
lifespan): nothing is started, the broker and the database are unreachable on purpose. What is
checked is authorisation only: a role without the route's permission gets 403 naming it; a role
with it gets past the check (the route may then answer 404, 422, 500 or 503 — not 401/403).

The decisions live here, in one place: `PERMISSIONS` (what each route needs) and `PUBLIC` (open
to anyone, with why). A route in neither, or with no permission, fails the suite. The roles are
every staff role, and the parties' own tokens (a participant, an exhibitor, a delegation's focal
point), which reach only their own participant, exhibitor or delegation.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pymongo.common
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from shared.auth.dependencies import api_routes, permission_of
from shared.auth.permissions import PARTICIPANT_PERMISSIONS, ROLES, Permission, Role
from shared.auth.tokens import LinkSigner, TokenSigner, encode_pem, generate_key_pair

P = Permission
SERVICES = ("registration", "scheduling", "reporting", "notification", "expo")
STATIC_TOKEN = "matrix-static-development-token"
KEY_ID = "kmatrix"
LINK_SECRET = "matrix-link-secret"

# ---------------------------------------------------------------------------------------------
# The decisions: every route of every service is in exactly one of these (or has a permission).
# ---------------------------------------------------------------------------------------------

EVERY_SERVICE_PUBLIC = {
    "GET /health/live": "liveness probe",
    "GET /health/ready": "readiness probe",
    "GET /metrics": "Prometheus scrape (the ingress never routes it)",
    "GET /openapi.json": "API description",
    "HEAD /openapi.json": "API description",
    "GET /docs": "API docs",
    "GET /redoc": "API docs",
    "GET /static/docs/redoc.standalone.js": "API docs' assets",
}

PUBLIC: dict[tuple[str, str], str] = {
    ("registration", "POST /intake/registrations"): "signed webhook (Standard Webhooks)",
    ("registration", "POST /intake/cancellations"): "signed webhook (Standard Webhooks)",
    ("registration", "GET /intake/privacy-notice"): "the pack's privacy notice every form shows",
    ("registration", "POST /auth/login"): "sign-in: a password (and TOTP) for a staff token",
    ("registration", "GET /auth/oidc/{provider}/login"): "sign-in: a redirect to the "
    "organisation's identity provider (OpenID Connect)",
    ("registration", "GET /auth/oidc/{provider}/callback"): "sign-in: the identity provider's "
    "ID token for the staff token of the account linked to it (test_oidc)",
    ("scheduling", "GET /agenda"): "the published programme",
    ("scheduling", "GET /agenda.json"): "the published programme",
    ("scheduling", "GET /agenda.ics"): "the published programme's iCal feed",
    ("scheduling", "GET /rooms/{room}/agenda.ics"): "a room's iCal feed",
    ("reporting", "GET /memoria/{report_id}.{fmt}"): "published (final) versions; drafts need "
    "reports:read (test_drafts_need_reports_read)",
    ("reporting", "GET /base-document/{report_id}.{fmt}"): "published (final) versions; drafts "
    "need reports:read (test_drafts_need_reports_read)",
    ("expo", "POST /exhibitors/applications"): "apply to exhibit",
    ("notification", "GET /unsubscribe"): "what the one-click unsubscribe link does (RFC 8058): "
    "a signed, person-scoped link; changes nothing",
    ("notification", "POST /unsubscribe"): "one-click unsubscribe (RFC 8058) from the signed, "
    "person-scoped link of a non-essential e-mail: no sign-in by design",
    ("expo", "GET /floorplan.svg"): "the floor plan",
    ("expo", "GET /floor-plan.svg"): "the floor plan",
    ("expo", "GET /booths"): "the booths",
    ("expo", "GET /launches"): "the stage programme",
    ("expo", "GET /jobs"): "open jobs",
}

PARTY_ONLY = {P.EXHIBITOR_SELF, P.MEETINGS_TAKE_PART, P.JOBS_APPLY}
"""Permissions of routes that act as a party (an exhibitor's own booth, a side of a meeting, a
job applicant): staff holding them (an admin) are refused with a reason, having no party."""

PERMISSIONS: dict[tuple[str, str], Permission] = {
    # registration
    ("registration", "GET /participants"): P.PARTICIPANTS_READ,
    ("registration", "GET /participants/{participant_id}"): P.PARTICIPANTS_READ,
    ("registration", "POST /participants/{participant_id}/cancel"): P.PARTICIPANTS_WRITE,
    ("registration", "GET /statistics/categories"): P.STATISTICS_READ,
    ("registration", "GET /delegations"): P.DELEGATIONS_READ,
    ("registration", "PUT /delegations/{code}"): P.DELEGATIONS_MANAGE,
    ("registration", "GET /delegations/{code}"): P.DELEGATIONS_READ,
    ("registration", "POST /delegations/{code}/focal-point-key"): P.DELEGATIONS_MANAGE,
    ("registration", "POST /delegations/{code}/members"): P.DELEGATION_MEMBERS,
    (
        "registration",
        "POST /delegations/{code}/members/{participant_id}/substitute",
    ): P.DELEGATION_MEMBERS,
    ("registration", "DELETE /delegations/{code}/members/{participant_id}"): P.DELEGATION_MEMBERS,
    ("registration", "POST /delegations/{code}/accreditation"): P.ACCREDITATION_DECIDE,
    ("registration", "GET /delegations/{code}/badges.pdf"): P.BADGES_PRINT,
    (
        "registration",
        "POST /participants/{participant_id}/accreditation/approve",
    ): P.ACCREDITATION_DECIDE,
    (
        "registration",
        "POST /participants/{participant_id}/accreditation/reject",
    ): P.ACCREDITATION_DECIDE,
    ("registration", "GET /participants/{participant_id}/badge.png"): P.BADGES_PRINT,
    ("registration", "GET /participants/{participant_id}/badge.pdf"): P.BADGES_PRINT,
    ("registration", "GET /badges/sheet.pdf"): P.BADGES_PRINT,
    ("registration", "GET /checkins/points"): P.CHECKIN_SCAN,
    ("registration", "POST /checkins"): P.CHECKIN_SCAN,
    ("registration", "PATCH /participants/{participant_id}/consents"): P.PARTICIPANTS_WRITE,
    ("registration", "POST /participants/{participant_id}/access-token"): P.PARTICIPANTS_WRITE,
    ("registration", "POST /participants/{participant_id}/access/revoke"): P.PARTICIPANTS_WRITE,
    ("registration", "POST /participants/{participant_id}/erasure"): P.PRIVACY_ERASE,
    ("registration", "POST /auth/tokens"): P.TOKENS_MANAGE,
    ("registration", "GET /auth/tokens"): P.TOKENS_MANAGE,
    ("registration", "POST /auth/tokens/{token_id}/revoke"): P.TOKENS_MANAGE,
    ("registration", "POST /accounts"): P.ACCOUNTS_MANAGE,
    ("registration", "GET /accounts"): P.ACCOUNTS_MANAGE,
    ("registration", "PUT /accounts/{username}/roles"): P.ACCOUNTS_MANAGE,
    ("registration", "POST /accounts/{username}/disable"): P.ACCOUNTS_MANAGE,
    # scheduling
    ("scheduling", "GET /programme/draft"): P.PROGRAMME_READ,
    ("scheduling", "POST /programme/sessions"): P.PROGRAMME_EDIT,
    ("scheduling", "PATCH /programme/sessions/{code}"): P.PROGRAMME_EDIT,
    ("scheduling", "POST /programme/sessions/{code}/cancel"): P.PROGRAMME_EDIT,
    ("scheduling", "POST /programme/sessions/{code}/restore"): P.PROGRAMME_EDIT,
    ("scheduling", "GET /programme/conflicts"): P.PROGRAMME_READ,
    ("scheduling", "PUT /programme/sessions/{code}/people"): P.PROGRAMME_EDIT,
    (
        "scheduling",
        "POST /programme/sessions/{code}/people/{person_id}/invitation",
    ): P.PROGRAMME_EDIT,
    (
        "scheduling",
        "POST /programme/sessions/{code}/people/{person_id}/invitation/{answer}",
    ): P.PROGRAMME_EDIT,
    (
        "scheduling",
        "POST /programme/sessions/{code}/people/{person_id}/travel-support",
    ): P.PROGRAMME_EDIT,
    ("scheduling", "POST /programme/releases"): P.PROGRAMME_PUBLISH,
    ("scheduling", "GET /programme/releases"): P.PROGRAMME_READ,
    ("scheduling", "GET /programme/feeds"): P.PROGRAMME_READ,
    ("scheduling", "POST /sessions/{code}/signups"): P.SIGNUPS_WRITE,
    ("scheduling", "DELETE /sessions/{code}/signups/{participant_id}"): P.SIGNUPS_WRITE,
    ("scheduling", "GET /people/{subject}/agenda.ics"): P.AGENDA_READ,
    # reporting
    ("reporting", "GET /statistics"): P.STATISTICS_READ,
    ("reporting", "POST /memoria"): P.REPORTS_BUILD,  # final=true: reports:publish too
    ("reporting", "POST /base-document"): P.REPORTS_BUILD,  # final=true: reports:publish too
    ("reporting", "GET /reports"): P.REPORTS_READ,
    ("reporting", "GET /exports/participants.csv"): P.REPORTS_READ,
    ("reporting", "GET /exports/participants.xlsx"): P.REPORTS_READ,
    ("reporting", "GET /exports/memoria.xlsx"): P.REPORTS_READ,
    ("reporting", "GET /conclusions"): P.CONCLUSIONS_READ,
    ("reporting", "POST /conclusions"): P.CONCLUSIONS_WRITE,  # + the token's sessions
    ("reporting", "PUT /conclusions/{conclusion_id}"): P.CONCLUSIONS_WRITE,  # + its sessions
    ("reporting", "POST /conclusions/{conclusion_id}/submit"): P.CONCLUSIONS_WRITE,  # + its session
    ("reporting", "POST /conclusions/{conclusion_id}/{action}"): P.CONCLUSIONS_REVIEW,
    ("reporting", "GET /action-items"): P.REPORTS_READ,
    ("reporting", "POST /action-items"): P.ACTION_PLAN_WRITE,
    ("reporting", "PATCH /action-items/{item_id}"): P.ACTION_PLAN_WRITE,
    ("reporting", "POST /action-items/follow-ups"): P.ACTION_PLAN_WRITE,
    ("reporting", "GET /budget"): P.BUDGET_READ,
    ("reporting", "POST /budget/entries"): P.BUDGET_WRITE,
    # notification
    ("notification", "GET /messages"): P.MESSAGES_READ,
    ("notification", "GET /messages/summary"): P.MESSAGES_READ,
    ("notification", "GET /messages/{message_id}"): P.MESSAGES_READ,
    ("notification", "POST /messages/{message_id}/replay"): P.MESSAGES_SEND,
    ("notification", "GET /parked-triggers"): P.MESSAGES_READ,
    ("notification", "GET /people/{person_id}/preferences"): P.MESSAGES_READ,
    ("notification", "PUT /people/{person_id}/preferences"): P.MESSAGES_SEND,
    ("notification", "POST /campaigns"): P.MESSAGES_SEND,
    ("notification", "GET /campaigns/audience"): P.MESSAGES_READ,
    ("notification", "GET /templates"): P.MESSAGES_READ,
    ("notification", "GET /templates/{message_type}/preview"): P.MESSAGES_READ,
    ("notification", "GET /campaigns/{campaign_id}"): P.MESSAGES_READ,
    ("notification", "POST /webhooks/endpoints"): P.WEBHOOKS_MANAGE,
    ("notification", "GET /webhooks/endpoints"): P.WEBHOOKS_MANAGE,
    ("notification", "GET /webhooks/endpoints/{endpoint_id}"): P.WEBHOOKS_MANAGE,
    ("notification", "PATCH /webhooks/endpoints/{endpoint_id}"): P.WEBHOOKS_MANAGE,
    ("notification", "DELETE /webhooks/endpoints/{endpoint_id}"): P.WEBHOOKS_MANAGE,
    ("notification", "POST /webhooks/endpoints/{endpoint_id}/secret"): P.WEBHOOKS_MANAGE,
    ("notification", "GET /webhooks/endpoints/{endpoint_id}/deliveries"): P.WEBHOOKS_MANAGE,
    ("notification", "POST /webhooks/deliveries/{delivery_id}/replay"): P.WEBHOOKS_MANAGE,
    # expo
    ("expo", "GET /exhibitors"): P.EXPO_READ,
    ("expo", "GET /exhibitors/{exhibitor_id}"): P.EXPO_READ,
    ("expo", "POST /exhibitors/{exhibitor_id}/approve"): P.EXPO_MANAGE,
    ("expo", "POST /exhibitors/{exhibitor_id}/reject"): P.EXPO_MANAGE,
    ("expo", "POST /exhibitors/{exhibitor_id}/token"): P.EXPO_MANAGE,
    ("expo", "POST /allocation/run"): P.EXPO_MANAGE,
    ("expo", "POST /allocation/reset"): P.EXPO_MANAGE,
    ("expo", "PUT /booths/{code}/assignment"): P.EXPO_MANAGE,
    ("expo", "DELETE /booths/{code}/assignment"): P.EXPO_MANAGE,
    ("expo", "GET /me"): P.EXHIBITOR_SELF,
    ("expo", "POST /me/booth-request"): P.EXHIBITOR_SELF,
    ("expo", "POST /me/launches"): P.EXHIBITOR_SELF,
    ("expo", "POST /me/leads/scans"): P.EXHIBITOR_SELF,
    ("expo", "GET /me/leads.csv"): P.EXHIBITOR_SELF,
    ("expo", "POST /me/jobs"): P.EXHIBITOR_SELF,
    ("expo", "GET /me/jobs/{job_id}/applications"): P.EXHIBITOR_SELF,
    ("expo", "GET /me/applications/{application_id}/cv"): P.EXHIBITOR_SELF,
    ("expo", "POST /me/applications/{application_id}/interview"): P.EXHIBITOR_SELF,
    ("expo", "POST /meetings"): P.MEETINGS_TAKE_PART,
    ("expo", "POST /meetings/{meeting_id}/accept"): P.MEETINGS_TAKE_PART,
    ("expo", "POST /meetings/{meeting_id}/decline"): P.MEETINGS_TAKE_PART,
    ("expo", "GET /meetings"): P.MEETINGS_TAKE_PART,
    ("expo", "POST /jobs/{job_id}/applications"): P.JOBS_APPLY,
}
"""What each staff route needs. A route with a permission that is not listed here (a new one)
is still tested against every role; a listed one must need exactly this permission."""

SAMPLE_PATH_VALUES = {
    "code": "SV",
    "room": "A",
    "action": "approve",
    "answer": "accept",
    "fmt": "pdf",
    "report_id": "memoria-es-000000000000",
    "campaign_id": "c-1",
    "username": "matrix-user",
}
"""What a path parameter is given in the matrix (valid, so only authorisation decides); any
other parameter gets a UUID."""

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


# ---------------------------------------------------------------------------------------------
# Apps, tokens, requests
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    signer: TokenSigner
    public_keys: dict[str, str]

    def token(self, *roles: Role | str, **claims: Any) -> str:
        name = "-".join(str(r) for r in roles) or "none"
        return self.signer.sign(
            subject=f"account:matrix-{name}",
            kind=claims.pop("kind", "staff"),
            roles=roles,
            lifetime=timedelta(hours=1),
            **claims,
        ).token


@pytest.fixture(scope="module", autouse=True)
def _unreachable_database_fails_fast() -> Iterator[None]:
    """pymongo waits at least MIN_HEARTBEAT_INTERVAL (0.5 s) before it gives up on a server it
    cannot reach, whatever the server selection timeout: 0.5 s for each of some 300 requests
    that get past authorisation. Only how soon the missing database fails changes here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pymongo.common, "MIN_HEARTBEAT_INTERVAL", 0.005)
        yield


@pytest.fixture(scope="module")
def keys() -> Keys:
    private, public = generate_key_pair()
    return Keys(TokenSigner(private, KEY_ID), {KEY_ID: encode_pem(public)})


def settings_for(service: str, keys: Keys) -> Any:
    module = importlib.import_module(f"services.{service}.settings")
    cls = getattr(module, f"{service.capitalize()}Settings")
    return cls(
        environment="development",
        # Nothing listens on port 1: an operation that reaches the database or the broker fails
        # at once, after authorisation (which is all this test looks at).
        mongo_url=SecretStr("mongodb://127.0.0.1:1/?directConnection=true"),
        mongo_server_selection_timeout=0.01,
        mongo_connect_timeout=0.05,
        broker_url=SecretStr("amqp://guest:guest@127.0.0.1:1/"),
        broker_publish_timeout=0.2,
        api_tokens=[SecretStr(STATIC_TOKEN)],
        auth_public_keys=keys.public_keys,
        participant_token_secret=LINK_SECRET,
    )


@pytest.fixture(scope="module")
def apps(keys: Keys) -> dict[str, FastAPI]:
    built = {}
    for service in SERVICES:
        bootstrap = importlib.import_module(f"services.{service}.bootstrap")
        built[service] = bootstrap.create_app(settings_for(service, keys))
    return built


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    permission: Permission | None

    @property
    def key(self) -> tuple[str, str]:
        return self.service, f"{self.method} {self.path}"

    def url(self) -> str:
        def value(match: re.Match[str]) -> str:
            return SAMPLE_PATH_VALUES.get(match[1], str(uuid.UUID(int=7)))

        return re.sub(r"\{(\w+)\}", value, self.path)


def routes_of(service: str, app: FastAPI) -> Iterator[Route]:
    for context in api_routes(app):
        assert context.path is not None and context.methods
        permission = permission_of(context)
        for method in sorted(context.methods):
            yield Route(service, method, context.path, permission)


def every_route(apps: dict[str, FastAPI]) -> list[Route]:
    return [route for service, app in apps.items() for route in routes_of(service, app)]


@pytest.fixture
async def clients(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    opened = {
        service: httpx.AsyncClient(
            # A route that gets past authorisation may fail on the missing database: a 500 here.
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=f"http://{service}",
            timeout=10,
        )
        for service, app in apps.items()
    }
    yield opened
    for client in opened.values():
        await client.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    clients: dict[str, httpx.AsyncClient], route: Route, token: str | None
) -> httpx.Response:
    return await clients[route.service].request(
        route.method, route.url(), headers=bearer(token) if token else {}
    )


# ---------------------------------------------------------------------------------------------
# (a) every route is decided
# ---------------------------------------------------------------------------------------------


def test_every_route_has_a_permission_or_is_declared_public_or_scoped(
    apps: dict[str, FastAPI],
) -> None:
    undecided, contradictory, different = [], [], []
    seen = set()
    for route in every_route(apps):
        seen.add(route.key)
        declared = route.key in PUBLIC or route.key[1] in EVERY_SERVICE_PUBLIC
        if declared and route.permission is not None:
            contradictory.append(f"{route.key}: declared public, needs {route.permission}")
        elif not declared and route.permission is None:
            undecided.append(f"{route.key}: no permission (Depends(require(Permission.X)))")
        expected = PERMISSIONS.get(route.key)
        if expected is not None and route.permission != expected:
            different.append(f"{route.key}: needs {route.permission}, the table says {expected}")
    stale = sorted((set(PERMISSIONS) | set(PUBLIC)) - seen)
    assert not undecided, "routes without a decision:\n" + "\n".join(undecided)
    assert not contradictory, "\n".join(contradictory)
    assert not different, "\n".join(different)
    assert not stale, f"listed here but no such route: {sorted(stale)}"


def test_the_table_covers_every_state_changing_route(apps: dict[str, FastAPI]) -> None:
    """The issue's count: each state-changing route has a permission, or is public."""
    changing = [r for r in every_route(apps) if r.method in STATE_CHANGING]
    assert len(changing) >= 55
    for route in changing:
        assert route.permission is not None or route.key in PUBLIC, route


# ---------------------------------------------------------------------------------------------
# (b) every role against every route with a permission
# ---------------------------------------------------------------------------------------------


def protected(apps: dict[str, FastAPI], service: str) -> list[Route]:
    return [r for r in routes_of(service, apps[service]) if r.permission is not None]


@dataclass(frozen=True)
class Holder:
    """Who the matrix tries: a staff role (with the party claims its role needs) or a party's own
    token, with what it may do and which party-only permissions it has a party for."""

    name: str
    token: str
    permissions: frozenset[Permission]
    party_of: frozenset[Permission] = frozenset()


SAMPLE_ID = str(uuid.UUID(int=7))
"""Every `{…_id}` and `{subject}` of a matrix URL: a party's token names it, so it reaches its own."""


def holders(keys: Keys) -> list[Holder]:
    staff = [
        Holder(
            str(role),
            keys.token(
                role,
                **(
                    {"delegation": SAMPLE_PATH_VALUES["code"]}
                    if role is Role.FOCAL_POINT
                    else {"exhibitor": SAMPLE_ID}
                    if role is Role.EXHIBITOR
                    else {}
                ),
            ),
            ROLES[role],
            frozenset({P.EXHIBITOR_SELF, P.MEETINGS_TAKE_PART})
            if role is Role.EXHIBITOR
            else frozenset(),
        )
        for role in Role
    ]
    links = LinkSigner([LINK_SECRET])
    parties = [
        Holder(
            "participant (own link)",
            links.participant(SAMPLE_ID).token,
            PARTICIPANT_PERMISSIONS,
            frozenset({P.MEETINGS_TAKE_PART, P.JOBS_APPLY}),
        ),
        Holder(
            "participant (agenda feed link)",
            links.participant(SAMPLE_ID, scope=[P.AGENDA_READ]).token,
            frozenset({P.AGENDA_READ}),
        ),
        Holder(
            "exhibitor (own link)",
            links.exhibitor(SAMPLE_ID).token,
            ROLES[Role.EXHIBITOR],
            frozenset({P.EXHIBITOR_SELF, P.MEETINGS_TAKE_PART}),
        ),
        Holder(
            "focal point (own link)",
            links.focal_point(SAMPLE_PATH_VALUES["code"]).token,
            ROLES[Role.FOCAL_POINT],
        ),
    ]
    return staff + parties


def refusal(response: httpx.Response) -> dict[str, Any] | None:
    """The 403's detail when it is one foro names in both languages."""
    if response.status_code != 403:
        return None
    detail = response.json().get("detail")
    if isinstance(detail, dict) and detail.get("message_es") and detail.get("message_en"):
        return detail
    return None


@pytest.mark.parametrize("service", SERVICES)
async def test_each_role_against_each_route(
    service: str, apps: dict[str, FastAPI], clients: dict[str, httpx.AsyncClient], keys: Keys
) -> None:
    routes = protected(apps, service)
    assert routes
    wrong = []
    for holder in holders(keys):
        for route in routes:
            assert route.permission is not None
            response = await call(clients, route, holder.token)
            detail = refusal(response)
            if route.permission not in holder.permissions:
                if detail is None or detail.get("permission") != route.permission:
                    wrong.append(
                        f"{holder.name} {route.key}: expected 403 naming {route.permission}, "
                        f"got {response.status_code} {response.text[:200]}"
                    )
            elif route.permission in PARTY_ONLY and route.permission not in holder.party_of:
                # holds the permission (an admin) but is no party: refused with a reason
                if detail is None or "code" not in detail:
                    wrong.append(
                        f"{holder.name} {route.key}: expected 403 (no party), got "
                        f"{response.status_code} {response.text[:200]}"
                    )
            elif response.status_code in (401, 403):
                wrong.append(
                    f"{holder.name} {route.key}: {response.status_code} {response.text[:200]}"
                )
    assert not wrong, "\n".join(wrong)


async def test_a_party_reaches_its_own_party_only(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    links = LinkSigner([LINK_SECRET])
    other = str(uuid.UUID(int=8))
    participant = bearer(links.participant(other).token)
    signups = clients["scheduling"]
    refused = await signups.delete(f"/sessions/SV/signups/{SAMPLE_ID}", headers=participant)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "participant_not_assigned"
    feed = await signups.get(
        f"/people/{SAMPLE_ID}/agenda.ics",
        params={"token": links.participant(other, scope=[P.AGENDA_READ]).token},
    )
    assert feed.status_code == 403
    focal = bearer(links.focal_point("GT").token)
    another = await clients["registration"].post("/delegations/SV/members", json={}, headers=focal)
    assert another.status_code in (403, 422)  # 422 first when the body is checked before


@pytest.mark.parametrize("service", SERVICES)
async def test_no_token_or_a_bad_one_is_401(
    service: str, apps: dict[str, FastAPI], clients: dict[str, httpx.AsyncClient], keys: Keys
) -> None:
    other = Keys(TokenSigner(generate_key_pair()[0], KEY_ID), {})
    wrong = []
    for route in protected(apps, service):
        for token in (None, "not-a-token", other.token(Role.ADMIN)):
            response = await call(clients, route, token)
            if response.status_code != 401 or "Bearer" not in response.headers.get(
                "WWW-Authenticate", ""
            ):
                wrong.append(f"{route.key} with {token!r:.20}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_static_development_token_acts_as_admin(
    service: str, apps: dict[str, FastAPI], clients: dict[str, httpx.AsyncClient]
) -> None:
    wrong = []
    for route in protected(apps, service):
        if route.permission in PARTY_ONLY:
            continue  # an admin is no party (test_each_role_against_each_route)
        response = await call(clients, route, STATIC_TOKEN)
        if response.status_code in (401, 403):
            wrong.append(f"{route.key}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


async def test_a_scope_narrows_a_machine_token(
    clients: dict[str, httpx.AsyncClient], keys: Keys
) -> None:
    """An admin's machine token scoped to reading statistics reads them, and nothing else."""
    token = keys.token(Role.ADMIN, kind="machine", scope=[P.STATISTICS_READ])
    read = Route("reporting", "GET", "/statistics", P.STATISTICS_READ)
    write = Route("reporting", "POST", "/budget/entries", P.BUDGET_WRITE)
    assert (await call(clients, read, token)).status_code not in (401, 403)
    refused = await call(clients, write, token)
    assert refused.status_code == 403
    assert refused.json()["detail"]["permission"] == "budget:write"


# ---------------------------------------------------------------------------------------------
# Routes whose check goes beyond one permission
# ---------------------------------------------------------------------------------------------

CONCLUSION = {"session_code": "B1.1", "texts": {"es": {"title": "Remesas productivas"}}}


async def test_a_rapporteur_drafts_only_for_the_sessions_assigned(
    clients: dict[str, httpx.AsyncClient], keys: Keys
) -> None:
    http = clients["reporting"]
    theirs = keys.token(Role.RAPPORTEUR, sessions=["B1.1"])
    others = keys.token(Role.RAPPORTEUR, sessions=["B1.2"])
    refused = await http.post("/conclusions", json=CONCLUSION, headers=bearer(others))
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "session_not_assigned"
    allowed = await http.post("/conclusions", json=CONCLUSION, headers=bearer(theirs))
    assert allowed.status_code not in (401, 403)  # the missing database answers
    # without a session scope (an admin, or a rapporteur the secretariat did not limit): any
    unlimited = await http.post(
        "/conclusions", json=CONCLUSION, headers=bearer(keys.token("admin"))
    )
    assert unlimited.status_code not in (401, 403)


async def test_a_rapporteur_edits_only_their_sessions_conclusions(
    apps: dict[str, FastAPI],
    clients: dict[str, httpx.AsyncClient],
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = {"_id": str(uuid.UUID(int=7)), "session_code": "B1.2", "status": "draft"}

    async def get_conclusion(conclusion_id: str) -> dict[str, Any] | None:
        return stored if conclusion_id == stored["_id"] else None

    monkeypatch.setattr(apps["reporting"].state.deps.repository, "get_conclusion", get_conclusion)
    http, url = clients["reporting"], f"/conclusions/{stored['_id']}"
    b11 = keys.token(Role.RAPPORTEUR, sessions=["B1.1"])
    both = keys.token(Role.RAPPORTEUR, sessions=["B1.1", "B1.2"])
    # their session in the body, but the conclusion is another session's
    refused = await http.put(url, json=CONCLUSION, headers=bearer(b11))
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "session_not_assigned"
    # both theirs: past the check (the missing database answers)
    allowed = await http.put(url, json=CONCLUSION, headers=bearer(both))
    assert allowed.status_code not in (401, 403)
    # moving a conclusion of theirs to a session not theirs
    b12 = keys.token(Role.RAPPORTEUR, sessions=["B1.2"])
    moved = await http.put(url, json=CONCLUSION, headers=bearer(b12))
    assert moved.status_code == 403


@pytest.mark.parametrize("path", ["/memoria", "/base-document"])
async def test_a_final_version_needs_reports_publish(
    path: str, clients: dict[str, httpx.AsyncClient], keys: Keys
) -> None:
    http = clients["reporting"]
    builder = keys.token(Role.ADMIN, kind="machine", scope=[P.REPORTS_BUILD])
    refused = await http.post(path, params={"final": "true"}, headers=bearer(builder))
    assert refused.status_code == 403
    assert refused.json()["detail"]["permission"] == "reports:publish"
    draft = await http.post(path, headers=bearer(builder))
    assert draft.status_code not in (401, 403)
    publisher = keys.token(Role.ADMIN, kind="machine", scope=[P.REPORTS_BUILD, P.REPORTS_PUBLISH])
    final = await http.post(path, params={"final": "true"}, headers=bearer(publisher))
    assert final.status_code not in (401, 403)


@pytest.mark.parametrize("kind", ["memoria", "base_document"])
async def test_drafts_need_reports_read_and_published_versions_are_public(
    kind: str,
    apps: dict[str, FastAPI],
    clients: dict[str, httpx.AsyncClient],
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = {
        f"{kind}-es-draft": {"kind": kind, "final": False},
        f"{kind}-es-final": {"kind": kind, "final": True},
    }

    async def get_report(report_id: str) -> dict[str, Any] | None:
        found = reports.get(report_id)
        if found is None:
            return None
        files = [{"format": "pdf", "sha256": "f" * 64, "size": 3}]
        return {"_id": report_id, "language": "es", "files": files, **found}

    async def file(sha256: str) -> dict[str, Any] | None:
        return {"content": b"%PDF", "media_type": "application/pdf"}

    repository = apps["reporting"].state.deps.repository
    monkeypatch.setattr(repository, "get_report", get_report)
    monkeypatch.setattr(repository, "file", file)
    http, prefix = clients["reporting"], kind.replace("_", "-")
    draft, final = f"/{prefix}/{kind}-es-draft.pdf", f"/{prefix}/{kind}-es-final.pdf"

    published = await http.get(final)
    assert published.status_code == 200
    assert "no-store" not in published.headers.get("Cache-Control", "")
    anonymous = await http.get(draft)
    assert anonymous.status_code == 401
    door = await http.get(draft, headers=bearer(keys.token(Role.DOOR_STAFF)))
    assert door.status_code == 403
    assert door.json()["detail"]["permission"] == "reports:read"
    observer = await http.get(draft, headers=bearer(keys.token(Role.OBSERVER)))
    assert observer.status_code == 200
    assert observer.content == b"%PDF"
    assert observer.headers["Cache-Control"] == "private, no-store"
    assert (await http.get(f"/{prefix}/no-such-report.pdf")).status_code == 404

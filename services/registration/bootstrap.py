"""Registration's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter

from services.registration.access import api as access_api
from services.registration.accreditation import api as accreditation_api
from services.registration.badges import api as badges_api
from services.registration.checkin import api as checkin_api
from services.registration.delegations import api as delegations_api
from services.registration.deps import Registration
from services.registration.identity import api as identity_api
from services.registration.identity import credentials, oidc, oidc_api
from services.registration.identity.handlers import Identity
from services.registration.identity.repository import IdentityRepository
from services.registration.intake import api as intake_api
from services.registration.intake.metrics import IntakeCounter
from services.registration.privacy import api as privacy_api
from services.registration.publishers import declare_publishers
from services.registration.repository import ParticipantRepository
from services.registration.seats.reconciler import SeatReconciler
from services.registration.settings import RegistrationSettings
from services.registration.subscribers import SERVICE, register_subscribers
from shared.auth.revocations import install_revocations
from shared.http import create_http_app
from shared.http_limits import BodyLimit
from shared.leases import Lease
from shared.runtime import ServiceRuntime

DESCRIPTION = (
    "Registration of the forum's participants: sign-up intake from external forms, validation, "
    "deduplication, categories, capacity and waitlist."
)

# One router per capability, declared at module level; secretariat routes guard themselves.
ROUTERS = (
    intake_api.router,
    intake_api.participants,
    delegations_api.router,
    accreditation_api.router,
    badges_api.router,
    checkin_api.router,
    privacy_api.router,
    access_api.router,
    identity_api.auth,
    identity_api.accounts,
    oidc_api.router,
)


def build_runtime(
    settings: RegistrationSettings | None = None,
) -> tuple[ServiceRuntime, Registration]:
    settings = settings or RegistrationSettings()
    pack = settings.load_pack()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = ParticipantRepository(runtime.database, stores=runtime.stores)
    # Staff accounts and API tokens; registration is the only service that signs tokens.
    identity = IdentityRepository(runtime.database, stores=runtime.stores)
    deps = Registration(
        pack=pack,
        repository=repository,
        identity=Identity(store=identity, signer=settings.token_signer()),
        party_lifetime=timedelta(days=settings.party_token_days),
    )
    runtime.attach_outbox(fault=settings.fault)
    # Completes seat steps a crash interrupted, every few seconds (seats/reconciler.py).
    reconciler = SeatReconciler(deps)
    # One replica runs it (shared/leases.py); the others skip.
    reconciler.lease = Lease.for_pass(
        runtime.database, reconciler.name, reconciler.interval, port=settings.http_port
    )
    runtime.on_start.extend(
        [repository.ensure_indexes, identity.ensure_indexes, credentials.prepare, reconciler.start]
    )
    runtime.on_stop.insert(0, reconciler.stop)

    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps)
    install_revocations(runtime, router, topology)  # every service refuses revoked tokens
    declare_publishers(router, topology)
    broker.include_router(router)
    return runtime, deps


def create_app(settings: RegistrationSettings | None = None) -> FastAPI:
    settings = settings or RegistrationSettings()
    runtime, deps = build_runtime(settings)
    app = create_http_app(
        runtime,
        title="foro · registration",
        description=DESCRIPTION,
        routers=ROUTERS,
        deps=deps,
    )
    intake_api.install_webhook_schemas(app)
    # Only the webhook takes bodies from outside; the secretariat's routes are behind a token.
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_intake_bytes, paths=[intake_api.INTAKE_PREFIX + "/"]
    )
    # Added last, so outside the body limit: its 413s are counted with the webhook's refusals.
    app.add_middleware(IntakeCounter, paths=[intake_api.INTAKE_PREFIX + "/"])
    # OpenID Connect sign-in: its providers' clients, and its state cookie (on /auth/oidc only).
    app.state.oidc = oidc.OidcClients(settings)
    app.add_middleware(
        oidc.OidcStateCookie,
        secret_key=oidc.cookie_key(settings),
        https_only=(settings.public_url or "").startswith("https://"),
    )
    return app

"""Expo's composition root: builds everything, connects nothing until started."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitRouter

from services.expo.booths import api as booths
from services.expo.common import Refused
from services.expo.deps import Expo
from services.expo.exhibitors import api as exhibitors
from services.expo.jobfair import api as jobfair
from services.expo.launches import api as launches
from services.expo.leads import api as leads
from services.expo.meetings import api as meetings
from services.expo.publishers import declare_publishers
from services.expo.repository import ExpoRepository
from services.expo.settings import ExpoSettings
from services.expo.subscribers import SERVICE, register_subscribers
from shared.auth.revocations import install_revocations, revoke_subject_here
from shared.http import create_http_app
from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.expo")

DESCRIPTION = (
    "The forum's expo: exhibitor applications and approval, booths on the floor plan allocated by sector "
    "zone, launches on the expo stage, badge-scan lead capture, B2B meetings and the job fair."
)
UPLOAD_PATH = re.compile(r"^/jobs/[^/]+/applications$")
MULTIPART_OVERHEAD = 64 * 1024
# Module-level routers, one module per capability (FastAPI's "bigger applications").
ROUTERS = (
    *exhibitors.ROUTERS,
    *booths.ROUTERS,
    *launches.ROUTERS,
    *leads.ROUTERS,
    *meetings.ROUTERS,
    *jobfair.ROUTERS,
)


def floor_plan_url(settings: ExpoSettings) -> str:
    base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    return f"{base.rstrip('/')}/floor-plan.svg"


def build_runtime(settings: ExpoSettings | None = None) -> tuple[ServiceRuntime, Expo]:
    settings = settings or ExpoSettings()
    pack = settings.load_pack()
    runtime = ServiceRuntime.create(SERVICE, settings, description=DESCRIPTION)
    broker, topology = runtime.broker, runtime.topology
    repository = ExpoRepository(runtime.database, stores=runtime.stores)
    deps = Expo(
        pack=pack,
        repository=repository,
        settings=settings,
        # Only expo accepts exhibitors' tokens: a rotation revokes them in expo's own store.
        revoke_subject=partial(revoke_subject_here, runtime),
    )
    runtime.attach_outbox(fault=settings.fault)
    runtime.on_start.append(repository.ensure_indexes)

    async def seed_booths() -> None:
        count = await repository.seed_booths(pack)
        log.info("expo floor ready", booths=count, floor_plan=floor_plan_url(settings))

    runtime.on_start.append(seed_booths)
    router = RabbitRouter()
    runtime.queue_names = register_subscribers(router, topology, deps)
    install_revocations(runtime, router, topology)  # every service refuses revoked tokens
    declare_publishers(router, topology)
    broker.include_router(router)
    return runtime, deps


def create_app(settings: ExpoSettings | None = None) -> FastAPI:
    settings = settings or ExpoSettings()
    runtime, deps = build_runtime(settings)
    app = create_http_app(
        runtime,
        title="foro · expo",
        description=DESCRIPTION,
        routers=ROUTERS,
        deps=deps,
    )

    @app.exception_handler(Refused)
    async def refused(_: Request, error: Refused) -> JSONResponse:
        return JSONResponse({"detail": error.detail()}, status_code=error.status)

    @app.middleware("http")
    async def limit_uploads(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Refuse an oversized CV before the multipart parser spools it to disk.
        if request.method == "POST" and UPLOAD_PATH.match(request.url.path):
            length = request.headers.get("content-length")
            if (
                length is None
                or not length.isdigit()
                or int(length) > settings.cv_max_bytes + MULTIPART_OVERHEAD
            ):
                limit_kb = settings.cv_max_bytes // 1024
                return JSONResponse(
                    {
                        "detail": {
                            "code": "cv_too_large",
                            "es": f"El CV supera el máximo de {limit_kb} KB.",
                            "en": f"The CV is larger than the {limit_kb} KB limit.",
                        }
                    },
                    status_code=413,
                )
        return await call_next(request)

    return app

"""HTTP pieces every service API shares: the app (`create_http_app`), health, readiness and
metrics, the background start-up, and the answer to a broker that cannot take a command.

Who may call a route is `shared.auth.dependencies.require(permission)`, for everyone: staff,
machines and parties' own links (a participant's personal code, an exhibitor's or a focal
point's access), which the route then checks against what it acts on
(`principal.require_participant(id)`, …)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.docs_ui import install_docs
from shared.messaging.broker import PublishTimeout
from shared.observability import install_observability
from shared.runtime import ServiceRuntime

log = structlog.get_logger("foro.http")


def operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="Broker and database reachable, consumers running")
    async def ready(response: Response) -> dict[str, object]:
        checks = await runtime.readiness()
        ok = all(checks.values())
        response.status_code = status.HTTP_200_OK if ok else status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "ok" if ok else "unavailable", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def started_in_background(
    running: Callable[[], AbstractAsyncContextManager[object]], *, retry_max_seconds: float = 30.0
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that enters `running()` in the background and returns at once.

    The HTTP server serves as soon as the process is up: `/health/live` answers while the broker
    or the database is still unreachable, and `/health/ready` says 503 until the service has
    started. `running()` retries an unreachable broker or database itself; a start-up that fails
    otherwise is logged and tried again, with backoff, rather than leaving a process that serves
    nothing. On shutdown a start-up still under way is cancelled; a started service stops
    gracefully.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        entered = asyncio.Event()
        stopping = asyncio.Event()

        async def supervise() -> None:
            delay = 0.5
            while True:
                try:
                    async with running():
                        entered.set()
                        await stopping.wait()
                    return
                except Exception:
                    if stopping.is_set():
                        log.exception("service did not stop cleanly")
                        return
                    log.exception("service failed to start; retrying", retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, retry_max_seconds)

        task = asyncio.create_task(supervise(), name="service-running")
        try:
            yield
        finally:
            stopping.set()
            if not entered.is_set():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return lifespan


BROKER_UNAVAILABLE = {
    "code": "broker_unavailable",
    "message_es": "El servicio no puede aceptar la solicitud en este momento; inténtelo de nuevo en unos segundos.",
    "message_en": "The service cannot accept the request right now; try again in a few seconds.",
}


async def broker_unavailable(_: Request, __: Exception) -> JSONResponse:
    """A command taken at the edge could not be handed to the broker: nothing was accepted, so
    the caller is told to retry (503 with Retry-After), never left with a 500."""
    return JSONResponse(
        {"detail": BROKER_UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"}
    )


def create_http_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    deps: object = None,
    running: Callable[[], AbstractAsyncContextManager[object]] | None = None,
) -> FastAPI:
    """The service's HTTP app; `app.state.runtime` and `app.state.deps` are what tests drive.

    Its lifespan starts `running()` (default `runtime.running`; a service with more to run —
    a scheduler — passes its own, which enters `runtime.running()`) in the background: see
    `started_in_background`."""
    lifespan = started_in_background(
        running or runtime.running, retry_max_seconds=runtime.settings.start_retry_max_seconds
    )
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with their assets, offline
        redoc_url=None,
    )
    install_observability(app, runtime)
    install_docs(app)
    app.add_exception_handler(PublishTimeout, broker_unavailable)
    app.add_exception_handler(AMQPError, broker_unavailable)
    app.add_exception_handler(ChannelInvalidStateError, broker_unavailable)
    app.include_router(operations_router(runtime))
    for router in routers:
        app.include_router(router)
    app.state.runtime = runtime
    app.state.deps = deps
    return app

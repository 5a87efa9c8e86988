"""HTTP pieces every service API shares: health, readiness, metrics, participant tokens.

Staff and machines are admitted by `shared.auth.dependencies.require(permission)`; what stays
here is the participant-facing check (a participant's own token, `participant`)."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import structlog
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

from shared import participant_tokens
from shared.docs_ui import install_docs
from shared.messaging.broker import PublishTimeout
from shared.observability import install_observability
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

log = structlog.get_logger("foro.http")

_bearer = HTTPBearer(auto_error=False, description="A participant's own access token.")


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


def token_matches(presented: str | None, expected: str) -> bool:
    """Whether a presented token is the expected one, compared in constant time (the one
    comparison every token check here uses: secretariat tokens, signed feed links)."""
    return hmac.compare_digest((presented or "").encode(), expected.encode())


def _is_secretariat(tokens: Sequence[SecretStr], presented: str) -> bool:
    valid = False
    for token in tokens:  # every token compared, in constant time
        valid |= token_matches(presented, token.get_secret_value())
    return valid


@dataclass(frozen=True)
class Caller:
    """Who calls a participant-facing route: a participant (their own token) or the secretariat."""

    participant_id: str | None = None  # None: the secretariat, acting for anyone

    def require(self, participant_id: str) -> None:
        if self.participant_id not in (None, participant_id):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="this token belongs to another participant"
            )


def participant_or_secretariat(
    settings: ServiceSettings,
) -> Callable[[HTTPAuthorizationCredentials | None], Awaitable[Caller]]:
    """A dependency admitting a participant's own token (shared/participant_tokens.py) or a
    secretariat token; the route then checks `caller.require(participant_id)`."""
    secret = (
        settings.participant_token_secret.get_secret_value()
        if settings.participant_token_secret
        else ""
    )

    async def check(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
        if credentials is not None:
            if _is_secretariat(settings.api_tokens, credentials.credentials):
                return Caller()
            if participant_id := participant_tokens.verify(secret, credentials.credentials):
                return Caller(participant_id)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a participant token or a secretariat token is required (Authorization: Bearer …)",
            headers={"WWW-Authenticate": "Bearer"},
        )

    return check


def settings_of(request: Request) -> ServiceSettings:
    """The settings of the service serving `request` (`create_http_app` keeps its runtime)."""
    settings: ServiceSettings = request.app.state.runtime.settings
    return settings


async def participant(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller:
    """`participant_or_secretariat` with the serving service's settings, for module-level
    routers: `caller: Caller = Depends(participant)`, then `caller.require(participant_id)`."""
    return await participant_or_secretariat(settings_of(request))(credentials)


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

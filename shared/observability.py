"""What every service's HTTP app reports about itself: request metrics, correlation ids and
access logs.

`install_observability` wraps the whole app — outside its error handling and every middleware
added later (a body limit's 413 is counted too) — in one pure ASGI middleware, which never
buffers a response (streamed ones stream through). Per request it:

- takes `X-Correlation-Id` when valid (1–128 characters of `[A-Za-z0-9._:-]`), else makes a
  uuid4; binds it in structlog's context for the request's log lines, makes it the default
  `correlation_id` of every event built while serving the request
  (`shared.contracts.envelope.correlating`), and returns it on the response;
- counts the request and its duration by method, ROUTE TEMPLATE and status — never the raw
  path (it holds ids) nor the query string (it may hold an e-mail address);
- writes one access log line (logger `foro.access`): method, route template, status, duration,
  response size, correlation id and client address; no query string, headers or bodies.
  Health probes and metric scrapes are logged at DEBUG, so they do not drown the rest.
"""

from __future__ import annotations

import importlib.metadata
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from starlette.routing import compile_path

from shared.contracts.envelope import correlating
from shared.runtime import ServiceRuntime

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CORRELATION_HEADER = "X-Correlation-Id"
_CORRELATION_HEADER_KEY = CORRELATION_HEADER.lower().encode()
_VALID_CORRELATION = re.compile(r"[A-Za-z0-9._:-]{1,128}")

UNMATCHED = "unmatched"
"""The route label of a request no route matched (a 404 for an unknown path)."""

# Probes and scrapes come every few seconds from machines: their lines are DEBUG.
QUIET_PREFIXES = ("/health/", "/metrics")

REQUESTS = Counter(
    "foro_http_requests_total",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "foro_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by method and route template",
    ["method", "route"],
)
BUILD_INFO = Gauge(
    "foro_build_info",
    "Always 1: which service and version this process runs",
    ["service", "version"],
)


def correlation_id_from(value: str | None) -> str:
    """The incoming id when valid, else a new uuid4."""
    if value is not None and _VALID_CORRELATION.fullmatch(value):
        return value
    return str(uuid.uuid4())


def route_template(scope: Scope, templates: RouteTemplates | None = None) -> str:
    """The template of the route that served the request (`/participants/{participant_id}`),
    or `unmatched`. The router records the matched route in the scope; a request answered
    before routing (a body limit's 413) is matched against the app's `templates`."""
    template = getattr(scope.get("route"), "path_format", None)
    if not isinstance(template, str) and templates is not None:
        template = templates.match(str(scope.get("path", "")))
    return template if isinstance(template, str) and template else UNMATCHED


class RouteTemplates:
    """The path templates of an app's documented routes, compiled once, on first use."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def match(self, path: str) -> str | None:
        if self._compiled is None:
            try:
                paths = self.app.openapi().get("paths", {})
            except Exception:  # a route the schema cannot describe: no fallback, not a failure
                paths = {}
            self._compiled = [(compile_path(template)[0], template) for template in paths]
        return next((template for regex, template in self._compiled if regex.match(path)), None)


def version() -> str:
    try:
        return importlib.metadata.version("foro")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class RequestObservability:
    """The pure ASGI middleware `install_observability` puts around a service's app."""

    def __init__(self, app: ASGIApp, templates: RouteTemplates | None = None) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        correlation_id = correlation_id_from(_header(scope, _CORRELATION_HEADER_KEY))
        status = 500  # what the server answers when the app fails before it starts a response
        size = 0

        async def observed_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != _CORRELATION_HEADER_KEY
                ]
                headers.append((_CORRELATION_HEADER_KEY, correlation_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            with (
                structlog.contextvars.bound_contextvars(correlation_id=correlation_id),
                correlating(correlation_id),
            ):
                await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            method = str(scope.get("method", "?"))
            route = route_template(scope, self.templates)
            REQUESTS.labels(method, route, str(status)).inc()
            DURATION.labels(method, route).observe(elapsed)
            _access_log(scope, method, route, status, elapsed, size, correlation_id)


def _access_log(
    scope: Scope,
    method: str,
    route: str,
    status: int,
    elapsed: float,
    size: int,
    correlation_id: str,
) -> None:
    # A fresh proxy per request: the configuration (level, processors) in force now applies.
    log = structlog.get_logger("foro.access")
    path = str(scope.get("path", ""))
    emit = log.debug if path.startswith(QUIET_PREFIXES) else log.info
    client = scope.get("client")
    emit(
        "request",
        method=method,
        route=route,
        status=status,
        duration_ms=round(elapsed * 1000, 1),
        response_bytes=size,
        correlation_id=correlation_id,
        client_ip=client[0] if client else None,
    )


def _header(scope: Scope, key: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == key:
            try:
                return bytes(value).decode("ascii")
            except UnicodeDecodeError:
                return None
    return None


def install_observability(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Adds request metrics, correlation-id handling and access logs to `app`.

    Outermost, not through `add_middleware`: a middleware added later (a body limit) would
    otherwise sit outside it and its answers would go uncounted, and Starlette's error handler
    would turn a failure into a 500 this middleware never saw."""
    BUILD_INFO.labels(runtime.name, version()).set(1)
    build = app.build_middleware_stack
    templates = RouteTemplates(app)

    def build_observed() -> ASGIApp:
        return RequestObservability(build(), templates)

    app.build_middleware_stack = build_observed  # type: ignore[method-assign]

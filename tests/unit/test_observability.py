"""Request observability (shared/observability.py) on an app built by `create_http_app`: the
correlation id, the access log line, and the route-template metrics — without a broker."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from prometheus_client import REGISTRY

from shared.contracts.envelope import Event
from shared.contracts.registration import RegistrationCancelRequested
from shared.http import create_http_app
from shared.http_limits import BodyLimit
from shared.observability import correlation_id_from
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

routes = APIRouter()


@routes.get("/things/{thing_id}")
async def get_thing(thing_id: str) -> dict[str, str]:
    if thing_id == "missing":
        raise HTTPException(404, detail="no such thing")
    return {"thing_id": thing_id}


@routes.post("/things/{thing_id}/cancel")
async def cancel_thing(thing_id: str) -> dict[str, Any]:
    """Builds an event as a command route does: no correlation id of its own."""
    event = RegistrationCancelRequested(
        producer="tests", forum_id="forum", participant_id=uuid.uuid4()
    )
    caused = RegistrationCancelRequested.caused_by(
        Cause(uuid.uuid4(), "the-cause-s-flow"),
        producer="tests",
        forum_id="f",
        participant_id=uuid.uuid4(),
    )
    return {"correlation_id": event.correlation_id, "caused": caused.correlation_id}


@routes.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 10

    return StreamingResponse(chunks(), media_type="text/plain")


@routes.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


@routes.post("/limited/upload")
async def upload() -> dict[str, bool]:
    return {"ok": True}


class Cause:
    def __init__(self, event_id: uuid.UUID, correlation_id: str) -> None:
        self.event_id = event_id
        self.correlation_id = correlation_id


@pytest.fixture
def service() -> str:
    return f"obs-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(database="unused", api_tokens=[])
    runtime = ServiceRuntime.create(service, settings, description="observability test")
    app = create_http_app(runtime, title="t", description="t", routers=[routes])
    app.add_middleware(
        BodyLimit, max_bytes=16, paths=["/limited/"]
    )  # added later, as bootstrap does
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


@pytest.fixture
def access_log() -> Iterator[list[dict[str, Any]]]:
    """The access log lines, whatever level the suite logs at."""
    config = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as lines:
            yield lines
    finally:
        structlog.configure(wrapper_class=config["wrapper_class"])


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == "request"]


def test_correlation_ids_valid_kept_invalid_replaced() -> None:
    assert correlation_id_from("abc-123_X.y:z") == "abc-123_X.y:z"
    assert correlation_id_from("a" * 128) == "a" * 128
    for bad in (None, "", "a" * 129, "has space", "ü", "x/y", "a\nb"):
        replaced = correlation_id_from(bad)
        assert uuid.UUID(replaced).version == 4


async def test_a_valid_correlation_id_is_echoed_and_an_invalid_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/things/1", headers={"X-Correlation-Id": "vendor-flow:42"})
    assert echoed.headers["x-correlation-id"] == "vendor-flow:42"

    bad = await client.get("/things/1", headers={"X-Correlation-Id": "no spaces allowed"})
    replaced = bad.headers["x-correlation-id"]
    assert replaced != "no spaces allowed" and uuid.UUID(replaced).version == 4

    absent = await client.get("/things/1")
    assert uuid.UUID(absent.headers["x-correlation-id"]).version == 4
    assert absent.headers["x-correlation-id"] != replaced
    # Every answer carries it, refusals and failures included.
    assert (await client.get("/nowhere")).headers["x-correlation-id"]
    assert (await client.get("/boom", headers={"X-Correlation-Id": "c1"})).headers[
        "x-correlation-id"
    ] == "c1"


async def test_events_built_while_serving_a_request_carry_its_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/things/7/cancel", headers={"X-Correlation-Id": "flow-7"})
    assert answer.json() == {"correlation_id": "flow-7", "caused": "the-cause-s-flow"}
    generated = await client.post("/things/8/cancel")
    assert generated.json()["correlation_id"] == generated.headers["x-correlation-id"]
    # Outside a request, nothing is invented.
    outside = RegistrationCancelRequested(producer="t", forum_id="f", participant_id=uuid.uuid4())
    assert outside.correlation_id is None
    assert Event.model_fields["correlation_id"].default is None


async def test_one_access_log_line_per_request_without_query_string_or_personal_data(
    client: httpx.AsyncClient, access_log: list[dict[str, Any]]
) -> None:
    await client.get(
        "/things/42?email=ana%40example.org&name=Ana",
        headers={"X-Correlation-Id": "req-1", "Authorization": "Bearer secret-token"},
    )
    [line] = access_lines(access_log)
    assert line["log_level"] == "info"
    assert {k: line[k] for k in ("method", "route", "status", "correlation_id", "client_ip")} == {
        "method": "GET",
        "route": "/things/{thing_id}",
        "status": 200,
        "correlation_id": "req-1",
        "client_ip": "127.0.0.1",
    }
    assert line["response_bytes"] == len(b'{"thing_id":"42"}')
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    text = repr(line)
    for private in ("ana", "example.org", "email", "Ana", "secret-token", "/things/42"):
        assert private not in text


async def test_probes_and_scrapes_are_logged_at_debug(
    client: httpx.AsyncClient, access_log: list[dict[str, Any]]
) -> None:
    await client.get("/health/live")
    await client.get("/metrics")
    assert [line["log_level"] for line in access_lines(access_log)] == ["debug", "debug"]


async def test_metrics_use_the_route_template_never_the_path_or_query(
    client: httpx.AsyncClient,
) -> None:
    before = sample(
        "foro_http_requests_total", method="GET", route="/things/{thing_id}", status="200"
    )
    missing_before = sample(
        "foro_http_requests_total", method="GET", route="/things/{thing_id}", status="404"
    )
    unmatched_before = sample(
        "foro_http_requests_total", method="GET", route="unmatched", status="404"
    )
    await client.get("/things/1?email=ana%40example.org")
    await client.get("/things/2")
    await client.get("/things/missing")
    await client.get("/no/such/path/9f3c")

    assert (
        sample("foro_http_requests_total", method="GET", route="/things/{thing_id}", status="200")
        == before + 2
    )
    assert (
        sample("foro_http_requests_total", method="GET", route="/things/{thing_id}", status="404")
        == missing_before + 1
    )
    assert (
        sample("foro_http_requests_total", method="GET", route="unmatched", status="404")
        == unmatched_before + 1
    )
    assert (
        sample("foro_http_request_duration_seconds_count", method="GET", route="/things/{thing_id}")
        >= 3
    )
    exposition = (await client.get("/metrics")).text
    assert 'route="/things/{thing_id}"' in exposition
    for leaked in ("ana", "example.org", '/things/1"', '/things/2"', "9f3c"):
        assert leaked not in exposition


async def test_failures_limits_and_streams_are_counted_with_their_status(
    client: httpx.AsyncClient, service: str
) -> None:
    failed = sample("foro_http_requests_total", method="GET", route="/boom", status="500")
    refused = sample(
        "foro_http_requests_total", method="POST", route="/limited/upload", status="413"
    )
    assert (await client.get("/boom")).status_code == 500
    too_large = await client.post("/limited/upload", content=b"y" * 100)
    assert too_large.status_code == 413
    streamed = await client.get("/stream")
    assert streamed.text == "x" * 30

    assert (
        sample("foro_http_requests_total", method="GET", route="/boom", status="500") == failed + 1
    )
    # The body limit answers before the router runs: still counted under the route's template.
    assert (
        sample("foro_http_requests_total", method="POST", route="/limited/upload", status="413")
        == refused + 1
    )
    assert sample("foro_http_requests_total", method="GET", route="/stream", status="200") >= 1
    assert sample("foro_build_info", service=service, version=_version()) == 1


async def test_streamed_bodies_are_counted_in_the_access_log(
    client: httpx.AsyncClient, access_log: list[dict[str, Any]]
) -> None:
    await client.get("/stream")
    [line] = access_lines(access_log)
    assert line["route"] == "/stream" and line["response_bytes"] == 30


def _version() -> str:
    from shared.observability import version

    return version()

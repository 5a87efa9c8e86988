"""After a sign-up over the webhook (and a refused one, and a dead-lettered one), registration's
`/metrics` shows every metric issue 13 added, with sensible values; and the events of that
sign-up carry the request's `X-Correlation-Id`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.webhooks import signed_headers
from tests.integration.registration.conftest import (
    WEBHOOK_SECRET,
    RunningRegistration,
    outbox_published,
)
from tests.support.bus import eventually, tap_exchange
from tests.support.factories import signup

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def quick_queue_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read queue depths every 0.2 s instead of every 15 s (before the service is built)."""
    monkeypatch.setenv("FORO_QUEUE_METRICS_SECONDS", "0.2")


@pytest.fixture
async def http(registration: RunningRegistration) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=registration.app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://registration") as client:
        yield client


async def scrape(http: httpx.AsyncClient) -> Samples:
    """What Prometheus would read from /metrics, parsed by its own text parser."""
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_every_new_metric_after_a_signup_and_the_correlation_id_in_its_events(
    registration: RunningRegistration, http: httpx.AsyncClient
) -> None:
    queue = registration.submitted_queue
    intake = await tap_exchange(registration.amqp, registration.runtime.topology.intake.name)
    before = await scrape(http)

    person = signup()
    body = json.dumps(person).encode()
    accepted = await http.post(
        "/intake/registrations",
        content=body,
        headers={**signed_headers(WEBHOOK_SECRET, body), "X-Correlation-Id": "vendor-run:7781"},
    )
    forged = await http.post(
        "/intake/registrations", content=body, headers=signed_headers("not-the-secret", body)
    )
    huge = b"{" + b" " * 70_000 + b"}"  # over the 64 KiB intake limit
    too_large = await http.post(
        "/intake/registrations", content=huge, headers=signed_headers(WEBHOOK_SECRET, huge)
    )
    assert [accepted.status_code, forged.status_code, too_large.status_code] == [202, 401, 413]
    assert accepted.headers["x-correlation-id"] == "vendor-run:7781"
    assert forged.headers["x-correlation-id"] != "vendor-run:7781"

    # The events of the sign-up carry the request's correlation id: the one the webhook
    # published, and the confirmation its handling caused.
    (submitted,) = await intake.wait_for("registration.submitted")
    assert submitted["event_id"] == person["event_id"]
    assert submitted["correlation_id"] == "vendor-run:7781"
    await intake.channel.close()
    await registration.send(b"{not json")  # over AMQP: dead-lettered at once
    (confirmed,) = await registration.tap.wait_for("registration.confirmed")
    assert confirmed["correlation_id"] == "vendor-run:7781"
    assert confirmed["causation_id"] == person["event_id"]
    await outbox_published(registration)

    async def settled() -> bool:
        now = await scrape(http)
        return (
            value(now, "foro_dead_letter_messages", queue=queue) == 1
            and value(now, "foro_queue_messages_ready", queue=queue) == 0
            and value(now, "foro_outbox_lag_seconds") == 0
        )

    await eventually(settled, 15, "queue gauges read and the outbox published")
    after = await scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "/intake/registrations"
    assert grew("foro_http_requests_total", method="POST", route=route, status="202") == 1
    assert grew("foro_http_requests_total", method="POST", route=route, status="401") == 1
    assert grew("foro_http_requests_total", method="POST", route=route, status="413") == 1
    assert grew("foro_http_request_duration_seconds_count", method="POST", route=route) == 3
    assert value(after, "foro_http_request_duration_seconds_sum", method="POST", route=route) > 0
    assert grew("foro_intake_webhook_requests_total", outcome="accepted", reason="ok") == 1
    assert grew("foro_intake_webhook_requests_total", outcome="refused", reason="signature") == 1
    assert grew("foro_intake_webhook_requests_total", outcome="refused", reason="too_large") == 1
    for name in registration.runtime.queue_names:
        assert value(after, "foro_queue_consumers", queue=name) == 1, name
        assert value(after, "foro_queue_messages_ready", queue=name) == 0, name
        assert ("foro_dead_letter_messages", frozenset({("queue", name)})) in after, name
    assert value(after, "foro_dead_letter_messages", queue=queue) == 1
    assert value(after, "foro_outbox_lag_seconds") == 0
    assert any(
        n == "foro_build_info" and dict(labels)["service"] == "registration" and v == 1
        for (n, labels), v in after.items()
    )
    # Route templates only: no raw path with an id, no query string, no address.
    exposition = (await http.get("/metrics")).text
    assert person["email"] not in exposition and person["event_id"] not in exposition

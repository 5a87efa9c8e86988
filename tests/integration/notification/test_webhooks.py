"""Outbound webhooks against a real local receiver: a sign-up's outcome is delivered signed with
Standard Webhooks, retried with backoff when the receiver fails, delivered once, logged, and
sent again on replay; a secret rotation signs with both secrets; an endpoint that keeps failing
is disabled, and each change is in the audit trail."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from standardwebhooks.webhooks import Webhook

from tests.integration.notification.conftest import RunningNotification
from tests.support.browser import serve_app
from tests.support.bus import eventually
from tests.support.notification import confirmed, participant


@dataclass
class Receiver:
    """An endpoint that answers `statuses` in turn (then 200), recording every request."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = self.statuses.pop(0) if self.statuses else 200
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body, status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def delivered(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b, status in self.received if 200 <= status < 300]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    async with serve_app(endpoint) as url:
        yield endpoint, url


async def register(
    notification: RunningNotification, url: str, events: list[str]
) -> dict[str, Any]:
    async with notification.api() as api:
        created = await api.post(
            "/webhooks/endpoints",
            json={"url": url + "/hooks", "event_types": events, "description": "Form vendor"},
        )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def deliveries(notification: RunningNotification, endpoint_id: str) -> list[dict[str, Any]]:
    async with notification.api() as api:
        log = await api.get(f"/webhooks/endpoints/{endpoint_id}/deliveries")
    assert log.status_code == 200, log.text
    return list(log.json())


async def recorded(
    notification: RunningNotification, endpoint_id: str, replays: int = 0
) -> dict[str, Any]:
    """The endpoint's one delivery, once its outcome is recorded (the receiver may have answered
    before the result is written)."""
    found: list[dict[str, Any]] = []

    async def final() -> bool:
        found[:] = await deliveries(notification, endpoint_id)
        return len(found) == 1 and found[0]["status"] == "sent" and found[0]["replays"] == replays

    await eventually(final, 30, "the delivery recorded as sent")
    return found[0]


@pytest.mark.parametrize(
    "notification_overrides", [{"delivery_attempts": 5, "delivery_retry_base_seconds": 0.2}]
)
async def test_an_outcome_fails_then_is_delivered_once_signed_logged_and_replayable(
    notification: RunningNotification, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.statuses = [500, 503]  # down twice, then up
    created = await register(notification, url, ["registration.confirmed"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["enabled"] is True

    person = participant()
    event = confirmed(person)
    for _ in range(2):  # a redelivered event makes no second delivery
        await notification.publish(event)

    async def delivered() -> bool:
        return len(endpoint.delivered()) == 1

    await eventually(delivered, 30, "the delivery to succeed after two failures")
    headers, body = endpoint.delivered()[0]
    # Signed with Standard Webhooks: the reference library verifies it with the secret shown.
    Webhook(secret).verify(body, headers)
    sent = json.loads(body)
    assert (
        sent["type"] == "registration.confirmed" and sent["data"]["event_id"] == event["event_id"]
    )
    assert [status for _, _, status in endpoint.received] == [500, 503, 200]
    assert len({h["webhook-id"] for h, _, _ in endpoint.received}) == 1  # the same message id

    log = await recorded(notification, created["endpoint_id"])
    assert log["status"] == "sent" and log["attempts"] == 3 and log["event_id"] == event["event_id"]
    assert log["provider_message_id"] == "HTTP 200"
    # The people's statistics are not the endpoint's: no notification.sent for a delivery.
    assert notification.tap.of_type("notification.sent") == [] or all(
        m["channel"] != "webhook" for m in notification.tap.of_type("notification.sent")
    )

    async with notification.api() as api:
        replayed = await api.post(f"/webhooks/deliveries/{log['delivery_id']}/replay")
    assert replayed.status_code == 200, replayed.text

    async def twice() -> bool:
        return len(endpoint.delivered()) == 2

    await eventually(twice, 30, "the replayed delivery")
    again_headers, again_body = endpoint.delivered()[1]
    assert again_body == body and again_headers["webhook-id"] == headers["webhook-id"]
    log = await recorded(notification, created["endpoint_id"], replays=1)
    assert log["replays"] == 1 and log["status"] == "sent"

    changes = await notification.tap.wait_for("webhook.endpoint_changed")
    assert changes[0]["change"] == "registered" and changes[0]["actor"]["kind"] == "static"
    assert secret not in json.dumps(changes)


@pytest.mark.parametrize(
    "notification_overrides",
    [{"delivery_attempts": 2, "delivery_retry_base_seconds": 0.1, "webhook_disable_after": 3}],
)
async def test_rotation_signs_with_both_secrets_and_an_endpoint_that_keeps_failing_is_disabled(
    notification: RunningNotification, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    created = await register(notification, url, ["*"])
    async with notification.api() as api:
        rotated = await api.post(f"/webhooks/endpoints/{created['endpoint_id']}/secret")
    assert rotated.status_code == 200 and rotated.json()["secrets_live"] == 2
    new_secret = rotated.json()["secret"]

    await notification.publish(confirmed(participant()))
    await eventually(lambda: _count(endpoint, 1), 30, "a delivery")
    headers, body = endpoint.delivered()[0]
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(created["secret"]).verify(body, headers)  # the receiver's old secret still works
    Webhook(new_secret).verify(body, headers)  # and so does the new one

    endpoint.statuses = [500] * 10
    await notification.publish(confirmed(participant()))
    await notification.publish(confirmed(participant()))

    async def disabled() -> bool:
        async with notification.api() as api:
            found = await api.get(f"/webhooks/endpoints/{created['endpoint_id']}")
        return found.json()["enabled"] is False

    await eventually(disabled, 30, "the endpoint disabled after 3 failed attempts in a row")
    async with notification.api() as api:
        found = (await api.get(f"/webhooks/endpoints/{created['endpoint_id']}")).json()
        assert found["disabled_reason"] == "3 failed attempts in a row"
        enabled = await api.patch(
            f"/webhooks/endpoints/{created['endpoint_id']}", json={"enabled": True}
        )
    assert enabled.json()["enabled"] is True and enabled.json()["consecutive_failures"] == 0
    changes = [e["change"] for e in await notification.tap.wait_for("webhook.endpoint_changed", 4)]
    assert changes == ["registered", "secret_rotated", "disabled", "enabled"]


async def _count(endpoint: Receiver, n: int) -> bool:
    return len(endpoint.delivered()) >= n


async def test_endpoints_are_refused_with_reasons_and_need_the_permission(
    notification: RunningNotification,
) -> None:
    async with notification.api() as api:
        bad = await api.post(
            "/webhooks/endpoints",
            json={"url": "ftp://x", "event_types": ["registration.confirmed"]},
        )
        unknown = await api.post(
            "/webhooks/endpoints", json={"url": "https://x.example", "event_types": ["nope"]}
        )
        listed = await api.get("/webhooks/endpoints")
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "url"
    assert unknown.status_code == 422
    assert listed.status_code == 200

"""The webhook channel's provider: POSTs a delivery to its endpoint, signed with Standard Webhooks.

The message's `to` is the endpoint's id: the URL and the secrets are read at each attempt, so a
changed URL or a rotated secret applies to the retries of deliveries already made. A 2xx is
delivered. Anything else — another status, a timeout, a refused connection — is a failed attempt:
retried with the delivery pipeline's backoff, and counted on the endpoint; after
`disable_after` failed attempts in a row the endpoint is disabled (it receives nothing more until
the secretariat enables it again) and the delivery fails for good. A 410 Gone disables it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import httpx
import structlog
from aiolimiter import AsyncLimiter

from services.notification.deps import on
from services.notification.providers import Outgoing, ProviderError
from services.notification.webhooks import rules
from services.notification.webhooks.rules import EndpointDocument
from shared.persistence.aggregates import AggregateStore
from shared.webhooks import signed_headers

log = structlog.get_logger("foro.notification.webhooks")

USER_AGENT = "foro-webhooks/1 (Standard Webhooks)"


class WebhookSender:
    name = "webhook"
    limiter: AsyncLimiter | None = None

    def __init__(
        self,
        endpoints: AggregateStore,
        clock: Callable[[], datetime],
        *,
        timeout_seconds: float,
        disable_after: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self.disable_after = disable_after
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,  # a redirect is not a delivery
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    async def send(self, message: Outgoing) -> str:
        now = self.clock()
        endpoint = EndpointDocument.read(await self.endpoints.get(message.to))
        if endpoint is None or not endpoint.enabled:
            why = endpoint.disabled_reason if endpoint else "removed"
            raise ProviderError(f"endpoint disabled: {why}", permanent=True)
        body = message.text.encode()
        headers = {
            "Content-Type": "application/json",
            **signed_headers(endpoint.signing_secrets(now), body, msg_id=message.message_id),
        }
        try:
            response = await self.client.post(endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            await self._failed(endpoint.id, now)
            raise ProviderError(f"endpoint not reached: {type(error).__name__}") from None
        if 200 <= response.status_code < 300:
            if endpoint.consecutive_failures:
                await self.endpoints.collection.update_one(
                    {"_id": endpoint.id}, {"$set": {"consecutive_failures": 0}}
                )
            return f"HTTP {response.status_code}"
        if response.status_code == 410:
            await self._failed(endpoint.id, now, disable_after=1)
            raise ProviderError("endpoint answered 410 Gone: disabled", permanent=True)
        disabled = await self._failed(endpoint.id, now)
        raise ProviderError(f"endpoint answered HTTP {response.status_code}", permanent=disabled)

    async def _failed(
        self, endpoint_id: str, now: datetime, disable_after: int | None = None
    ) -> bool:
        """Count a failed attempt; True when it disabled the endpoint."""
        rule = partial(
            rules.failed_attempt, disable_after=disable_after or self.disable_after, now=now
        )
        applied = await self.endpoints.apply(endpoint_id, None, on(EndpointDocument, rule))
        disabled = bool(applied.document and not applied.document.get("enabled", True))
        if disabled:
            log.warning("webhook endpoint disabled", endpoint_id=endpoint_id)
        return disabled

    async def close(self) -> None:
        await self.client.aclose()

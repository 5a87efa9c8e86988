"""SMS over HTTP gateways: the Twilio-style Messages API, or a plain JSON endpoint.

One client per gateway keeps its connections open (HTTP keep-alive), at most `connections` at
once; a request waiting longer than `timeout_seconds` for one is a transient timeout.
"""

from __future__ import annotations

import asyncio

import httpx

from services.notification.providers import Outgoing, ProviderError, rate_limiter
from services.notification.settings import SmsProvider


class HttpSms:
    """An SMS gateway over HTTP: the Twilio-style Messages API, or a plain JSON endpoint."""

    def __init__(self, config: SmsProvider) -> None:
        self.name = config.name
        self.config = config
        self.limiter = rate_limiter(config.rate_per_second)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.config.timeout_seconds,
                limits=httpx.Limits(
                    max_connections=self.config.connections,
                    max_keepalive_connections=self.config.connections,
                ),
            )
        return self._client

    async def send(self, message: Outgoing) -> str:
        try:
            async with asyncio.timeout(self.config.send_timeout_seconds):
                response = await self._post(message)
        except (TimeoutError, httpx.TimeoutException):
            raise ProviderError("timeout") from None
        except httpx.HTTPError as error:
            raise ProviderError(type(error).__name__) from None
        return self._provider_id(response)

    async def _post(self, message: Outgoing) -> httpx.Response:
        cfg = self.config
        base = cfg.base_url.rstrip("/")
        if cfg.kind == "twilio":
            return await self.client.post(
                f"{base}/2010-04-01/Accounts/{cfg.account_sid}/Messages.json",
                data={"To": message.to, "From": cfg.from_number, "Body": message.text},
                auth=(cfg.account_sid, cfg.auth_token.get_secret_value()),
                headers={"Idempotency-Key": message.message_id},
            )
        return await self.client.post(
            base,
            json={
                "to": message.to,
                "from": cfg.from_number,
                "text": message.text,
                "reference": message.message_id,
            },
            headers={
                "Authorization": f"Bearer {cfg.auth_token.get_secret_value()}",
                "Idempotency-Key": message.message_id,
            },
        )

    def _provider_id(self, response: httpx.Response) -> str:
        cfg = self.config
        if response.status_code >= 400:
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
            raise ProviderError(f"HTTP {response.status_code}", permanent=permanent)
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(f"HTTP {response.status_code} without a JSON body") from None
        provider_id = data.get("sid") if cfg.kind == "twilio" else data.get("id")
        if not provider_id:
            raise ProviderError("answer without a message id")
        return str(provider_id)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

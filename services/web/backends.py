"""Calls to the five services' HTTP APIs, with the signed-in person's token.

The services decide every permission; this module only turns their answers into what a page
shows: 401 → sign in again, 403 → "your role cannot …" with the service's own words, a service
that does not answer → a page saying which one.

Every call carries `X-Forwarded-For` with the browser's address (`browser_address`, set by the
app's middleware for the request being served): registration throttles failed sign-ins per
username and address, and behind the web every sign-in would otherwise come from the web's
address. Registration believes the header only from its REGISTRATION_TRUSTED_PROXIES.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger("foro.web.backends")

Service = str  # registration | scheduling | expo | notification | reporting

browser_address: ContextVar[str | None] = ContextVar("browser_address", default=None)
"""The address of the browser whose request is being served (None outside a request)."""


class BackendError(Exception):
    """A service refused or failed; `detail` is its body's `detail` when it gave one."""

    def __init__(self, service: Service, status: int, detail: Any = None) -> None:
        super().__init__(f"{service} answered {status}")
        self.service = service
        self.status = status
        self.detail = detail

    def message(self, lang: str) -> str | None:
        """The service's own explanation in `lang` (`message_es`/`message_en`), when it gave one."""
        detail = self.detail
        if isinstance(detail, dict):
            text = detail.get(f"message_{lang}") or detail.get("message_en")
            return str(text) if text else None
        if isinstance(detail, list):  # FastAPI's validation errors
            return "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
                for item in detail
                if isinstance(item, dict)
            )
        return str(detail) if detail else None


class SignInRequired(BackendError):
    """401: no token, or the service refused it (expired, revoked)."""


class Forbidden(BackendError):
    """403: the signed-in person's roles lack the permission."""

    @property
    def permission(self) -> str | None:
        return self.detail.get("permission") if isinstance(self.detail, dict) else None


class Unavailable(BackendError):
    """The service did not answer (connection refused, timeout) or failed (5xx)."""


@dataclass(frozen=True)
class Raw:
    content: bytes
    media_type: str
    headers: dict[str, str]


def passes_on(error: BackendError) -> bool:
    """Whether a refusal is the app's to draw (sign in again, your role cannot, not answering)
    rather than the page's to show next to its form."""
    return error.status in (401, 403) or error.status >= 500


class Backends:
    """One HTTP client for every service (a test passes its own transport)."""

    def __init__(
        self,
        urls: dict[Service, str],
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = urls
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        correlation_id: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if correlation_id:
            headers["X-Correlation-Id"] = correlation_id
        if address := browser_address.get():
            headers["X-Forwarded-For"] = address
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.client.request(
                method, f"{self.urls[service]}{path}", params=clean, json=json, headers=headers
            )
        except httpx.HTTPError as error:
            log.warning("service not answering", service=service, error=type(error).__name__)
            raise Unavailable(service, 503) from None
        if response.is_success:
            return response
        detail = _detail(response)
        if response.status_code == 401:
            raise SignInRequired(service, 401, detail)
        if response.status_code == 403:
            raise Forbidden(service, 403, detail)
        if response.status_code >= 500:
            log.warning("service failed", service=service, status=response.status_code)
            raise Unavailable(service, response.status_code, detail)
        raise BackendError(service, response.status_code, detail)

    async def get_json(self, service: Service, path: str, **options: Any) -> Any:
        return (await self.request(service, "GET", path, **options)).json()

    async def post_json(self, service: Service, path: str, **options: Any) -> Any:
        return (await self.request(service, "POST", path, **options)).json()

    async def get_raw(self, service: Service, path: str, **options: Any) -> Raw:
        response = await self.request(service, "GET", path, **options)
        return Raw(
            response.content,
            response.headers.get("content-type", "application/octet-stream"),
            dict(response.headers),
        )


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None

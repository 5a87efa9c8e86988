"""What the signed intake webhook counts: every request once, accepted or refused, with why.

`foro_intake_webhook_requests_total{outcome,reason}`: outcome `accepted` or `refused`; reason
`ok`, `unsigned`, `signature`, `timestamp`, `not_configured`, `too_large`, `content_type`,
`invalid_body`, `broker_unavailable`, `not_found`, `method_not_allowed` or `error`.

`IntakeCounter` is a pure ASGI middleware around the whole app, outside the body limit, so a
413 answered before any route runs is counted too. A route says why it refused by
`refused(request, reason)`; otherwise the status code says it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from fastapi import Request
from prometheus_client import Counter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WEBHOOK_REQUESTS = Counter(
    "foro_intake_webhook_requests_total",
    "Requests to the signed intake webhook, accepted or refused, by reason",
    ["outcome", "reason"],
)

_REASON_KEY = "intake_refusal"

_BY_STATUS = {
    401: "signature",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "content_type",
    422: "invalid_body",
    503: "broker_unavailable",
}


def refused(request: Request, reason: str) -> None:
    """Record why the webhook refuses `request` (the counter reads it when the answer is sent)."""
    setattr(request.state, _REASON_KEY, reason)


def outcome_of(status: int, reason: str | None) -> tuple[str, str]:
    if 200 <= status < 300:
        return "accepted", "ok"
    return "refused", reason or _BY_STATUS.get(status, "error")


class IntakeCounter:
    """Counts each request to a path under one of `paths` once, when its answer has been sent
    (or has failed)."""

    def __init__(self, app: ASGIApp, *, paths: Sequence[str]) -> None:
        self.app = app
        self.paths = tuple(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.paths):
            await self.app(scope, receive, send)
            return
        # Shared with the request's `state` even if a layer below copies the scope.
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500  # unless an answer says otherwise

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            WEBHOOK_REQUESTS.labels(*outcome_of(status, state.get(_REASON_KEY))).inc()

"""Request-body limits at the HTTP edge, enforced while the body streams in.

`BodyLimit` is a pure ASGI middleware: it refuses up front a request whose `Content-Length`
exceeds the limit, and otherwise counts the chunks the application receives, stopping the read
with **413** as soon as the count crosses the limit. So a 200 MB POST costs the limit plus one
chunk, never 200 MB, whether or not it is signed: the signature can only be checked on the whole
body, which is exactly what must not be read first.

The answer names the field and the limit in Spanish and English, like the services' other refusals:

    {"detail": {"field": "body", "code": "body_too_large", "limit_bytes": 65536,
                "message_es": "…", "message_en": "body: larger than 65536 bytes"}}
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised from `receive` when the body crosses the limit; turned into a 413 by `BodyLimit`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body: larger than {limit} bytes")
        self.limit = limit


def too_large_detail(limit: int) -> dict[str, Any]:
    return {
        "field": "body",
        "code": "body_too_large",
        "limit_bytes": limit,
        "message_es": f"El cuerpo de la solicitud supera el límite de {limit} bytes.",
        "message_en": f"body: larger than {limit} bytes",
    }


class BodyLimit:
    """Refuse bodies larger than `max_bytes` on requests whose path starts with one of `paths`.

    `max_bytes=0` turns the limit off. Other paths pass through untouched.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, paths: Sequence[str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = tuple(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.max_bytes
            or not str(scope.get("path", "")).startswith(self.paths)
        ):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:  # the application answered already; nothing sensible is left to send
                raise
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we get here
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large_detail(limit)}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

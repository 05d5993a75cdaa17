"""Refuse request bodies over ``sales_connect.limits.REQUEST_BODY_MAX_BYTES`` before anything parses them.

A body that declares a larger ``Content-Length`` is answered 413 at once,
unread. A body without one (chunked) is counted as it arrives and refused
the moment it passes the limit, so the api-server never buffers more than
the limit per request whatever the client sends.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sales_connect.limits import REQUEST_BODY_MAX_BYTES


def too_large_detail(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes:,} bytes; nothing was read or changed."


class BodyLimitMiddleware:
    """Pure ASGI, so it sees the raw byte stream (and sits in front of FastAPI's body parsing)."""

    def __init__(self, app: ASGIApp, max_bytes: int = REQUEST_BODY_MAX_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        too_large = False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Whoever reads sees the client gone (and stops); the answer is ours, below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def answering_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(send)  # instead of the app's "error parsing the body"

        await self.app(scope, counted_receive, answering_send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": too_large_detail(self.max_bytes), "field": None}).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared length; an unparsable one counts as too large (-1), never as "no limit"."""
    headers: Any = scope.get("headers") or []
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None

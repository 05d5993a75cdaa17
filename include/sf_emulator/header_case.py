"""Response header names in Salesforce's canonical case on the wire.

Salesforce answers `Content-Type`, `Sforce-Limit-Info`, `Sforce-Locator`,
`Sforce-NumberOfRecords`; some connectors read them case-sensitively. Starlette
keeps header names lower-case, and uvicorn's httptools back end lower-cases
whatever it is given, so the emulator re-cases names in this ASGI wrapper and
serves through h11, which writes names as the application gave them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Message, Receive, Send], Awaitable[None]]

# Names whose canonical form is not plain Title-Case of their dash-separated words.
_SPECIAL = {
    "etag": "ETag",
    "sforce-numberofrecords": "Sforce-NumberOfRecords",
    "www-authenticate": "WWW-Authenticate",
}


def canonical(name: bytes) -> bytes:
    """b'sforce-limit-info' -> b'Sforce-Limit-Info' (and the irregular names above)."""
    text = name.decode("latin-1").lower()
    special = _SPECIAL.get(text)
    if special is None:
        special = "-".join(word[:1].upper() + word[1:] for word in text.split("-"))
    return special.encode("latin-1")


class CanonicalHeaderCase:
    """Wraps an ASGI app; every HTTP response's header names leave in canonical case."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_canonical(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(canonical(name), value) for name, value in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, send_canonical)

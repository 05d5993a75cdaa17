"""Running REST subrequests inside one API call: what `/composite` and `/composite/batch` are made of.

A subrequest goes through the same ASGI app as a request from the network (routing,
validation, errors), with the caller's session. It is marked in its scope so that the
gate neither arms faults on it nor, for Composite, charges it: a Composite call counts
once against the daily allowance, a Batch's subrequests count one each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

#: Scope key marking an internal subrequest; its value says whether the subrequest is charged.
SUBREQUEST = "sf_emulator.subrequest"


@dataclass(frozen=True)
class SubResponse:
    status: int
    headers: dict[str, str]
    body: Any


def is_subrequest(request: Request) -> bool:
    return SUBREQUEST in request.scope


def is_charged(request: Request) -> bool:
    """False only for a subrequest of a Composite call, which the outer call already paid for."""
    return request.scope.get(SUBREQUEST, True) is not False


async def dispatch(outer: Request, method: str, url: str, body: Any, *, charged: bool,
                   headers: dict[str, str] | None = None) -> SubResponse:
    """Run `method url` (a path under /services/data/) through the app as the outer request's caller."""
    parts = urlsplit(url)
    payload = b"" if body is None else json.dumps(body).encode()
    sent: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"), (b"content-length",
                                       str(len(payload)).encode())]
    for name in ("authorization", "host", "sforce-call-options", "sforce-query-options"):
        value = outer.headers.get(name)
        if value is not None:
            sent.append((name.encode(), value.encode("latin-1")))
    sent.extend((k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
        "scheme": "https", "path": parts.path, "raw_path": parts.path.encode(), "root_path": "",
        "query_string": parts.query.encode(), "headers": sent, "client": outer.scope.get("client"),
        "server": outer.scope.get("server"), SUBREQUEST: charged,
    }
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": payload, "more_body": False}

    status = 500
    answer_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            answer_headers.update((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await outer.app(scope, receive, send)
    raw = b"".join(chunks)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", errors="replace")
    return SubResponse(status, answer_headers, parsed)

"""Plumbing shared by the Salesforce API routers: the org, the per-call dependency, JSON bodies.

A router for a new resource family (e.g. Bulk 2.0 under `/services/data/vXX.X/jobs/`)
needs only this module:

    router = APIRouter(prefix="/services/data/v{version}")
    BulkCall = Annotated[ApiCall, Depends(api_call("bulk"))]

    @router.post("/jobs/ingest")
    def create_job(call: BulkCall, body: JsonBody) -> dict:
        with call.emulator.store.transaction() as conn: ...

`api_call(family)` checks the API version and the session (401
INVALID_SESSION_ID), then charges one request to `family` against the daily
allowance (403 REQUEST_LIMIT_EXCEEDED); the app's middleware adds
`Sforce-Limit-Info` to every `/services/data/v...` response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sf_emulator.org import Emulator
from sf_emulator.records import CallContext
from sf_emulator.subrequests import is_charged
from sf_emulator.wire import ApiError, not_found

#: The versions `GET /services/data/` lists and the routes accept: Summer '14 (31.0) through the current
#: release, Winter '27 (68.0), each with the same resource map, as a real org serves every version it still supports.
SUPPORTED_VERSIONS = tuple(f"{v}.0" for v in range(31, 69))


def emulator(request: Request) -> Emulator:
    """The org this server process emulates."""
    return request.app.state.emulator


@dataclass(frozen=True)
class ApiCall:
    """One authenticated, counted Salesforce API request."""

    emulator: Emulator
    ctx: CallContext
    version: str


def client_name(header: str | None) -> str | None:
    """The `client=` value of a `Sforce-Call-Options` header ('client=SalesConnectSync, defaultNamespace=x')."""
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "client" and value.strip():
            return value.strip()
    return None


def api_call(family: str, *, charge: bool = True) -> Callable[[Request, str], ApiCall]:
    """A dependency that authenticates the request and counts it as one call of `family` (unless not `charge`)."""

    def dependency(request: Request, version: str) -> ApiCall:
        org = emulator(request)
        if version not in SUPPORTED_VERSIONS:
            raise not_found()
        user_id = org.sessions.user_for(request.headers.get("authorization"))
        if charge and is_charged(request):
            org.accounting.charge(family)
        return ApiCall(org, org.context(user_id, client_name(request.headers.get("sforce-call-options"))), version)

    return dependency


async def json_body(request: Request) -> Any:
    """The request body as JSON (None if empty), or 400 JSON_PARSER_ERROR as Salesforce answers bad JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at [line:{exc.lineno}, column:{exc.colno}]" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character in the request body{where}") from None


JsonBody = Annotated[Any, Depends(json_body)]


def add_route(router: APIRouter, path: str, endpoint: Callable[..., Any], methods: list[str], **kwargs: Any) -> None:
    """Register `path` with and without a trailing slash.

    simple-salesforce uses both forms ('limits/', 'query/', 'sobjects'); an
    exact route avoids Starlette's redirect round-trip for the other one.
    """
    router.add_api_route(path, endpoint, methods=methods, **kwargs)
    router.add_api_route(path + "/", endpoint, methods=methods, include_in_schema=False, **kwargs)

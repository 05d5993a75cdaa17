"""The FastAPI application: routers, the Salesforce request gate, Salesforce-shaped errors.

New resource families plug in with `app.include_router(...)` in `ROUTERS`
below; see `sf_emulator.api` for how a router reaches the org and gets its
calls authenticated and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from email.utils import format_datetime

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sf_emulator.bulk1_wire import error_response as async_error_response
from sf_emulator.faults import RequestFault
from sf_emulator.org import Emulator
from sf_emulator.routers import (
    auth,
    bulk1,
    bulk2,
    collections,
    collections_retrieve,
    composite,
    control,
    identity,
    limits,
    query,
    search,
    soap,
    sobjects,
    versions,
)
from sf_emulator.subrequests import is_subrequest
from sf_emulator.wire import ApiError, not_found

ROUTERS = (versions.router, limits.router, sobjects.router, query.router, collections.router,
           collections_retrieve.router, composite.router, search.router, bulk2.router, bulk1.router,
           auth.router, soap.router, identity.router, control.router)
_SERVICES = "/services/"
_DATA = "/services/data/v"
# Salesforce refuses a request whose URI (path and query string, as sent: URL-encoded) is longer
# than this with 414 URI Too Long, so a long SOQL query must be split (or POSTed in a composite body).
MAX_URI_BYTES = 16_384


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts for this path (each method is its own route here)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


def _uri_bytes(request: Request) -> int:
    """The length of the request target as it came over the wire."""
    query = request.scope.get("query_string", b"")
    return len(request.scope.get("raw_path") or request.url.path.encode()) + (len(query) + 1 if query else 0)


def _error(request: Request, error: ApiError) -> Response:
    """Salesforce's error shape for the path: an AsyncApiException under Bulk API 1.0, else the REST array."""
    if request.url.path.startswith(bulk1.PREFIX):
        return async_error_response(request, error)
    return error.response()


def create_app(org: Emulator) -> FastAPI:
    app = FastAPI(title="Salesforce emulator", docs_url="/_emulator/docs", redoc_url=None,
                  openapi_url="/_emulator/openapi.json")
    app.state.emulator = org
    for router in ROUTERS:
        app.include_router(router)

    @app.middleware("http")
    async def salesforce_gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Armed faults first (they stand in for the network/server), then the limit header on every API answer."""
        path = request.url.path
        response: Response | None = None
        fault: RequestFault | None = None
        if path.startswith(_SERVICES) and _uri_bytes(request) > MAX_URI_BYTES:
            response = _error(request, ApiError(414, "URI_TOO_LONG",
                                                f"The request URI is longer than {MAX_URI_BYTES} bytes"))
        elif path.startswith(_SERVICES) and not is_subrequest(request):
            fault = org.faults.take(request.method, path)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.delay_ms / 1000)
        elif fault is not None and fault.kind != "response_lost":
            response = _error(request, fault.error())
        if response is None:
            response = await call_next(request)
        if fault is not None and fault.kind == "response_lost":
            # The request was carried out; its answer is lost on the way back (a proxy gives up), so
            # the client sees a 503 for a write that happened and must be safe to send again.
            response = _error(request, fault.error())
        if path.startswith(_DATA):
            response.headers["Sforce-Limit-Info"] = org.accounting.limit_header()
        # Clients read the server's time from Date (as from Salesforce's); it follows the movable clock.
        response.headers["Date"] = format_datetime(org.clock.now(), usegmt=True)
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(_SERVICES):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        if exc.status_code == 405:
            allowed = ",".join(_allowed_methods(request))
            return _error(request, ApiError(405, "METHOD_NOT_ALLOWED",
                                            f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"))
        return _error(request, not_found())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith(_SERVICES):
            return JSONResponse({"detail": str(exc.errors())}, status_code=400)
        first = exc.errors()[0] if exc.errors() else {}
        name = str(first.get("loc", ["", "parameter"])[-1])
        return _error(request, ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for parameter {name}"))

    return app

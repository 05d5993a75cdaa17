"""`query` / `queryAll` and their `nextRecordsUrl` locators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sf_emulator.api import ApiCall, add_route, api_call
from sf_emulator.query import batch_size_from
from sf_emulator.wire import ApiError

router = APIRouter(prefix="/services/data/v{version}")
QueryCall = Annotated[ApiCall, Depends(api_call("query"))]


def _run(call: ApiCall, request: Request, q: str | None, *, all_rows: bool) -> dict:
    if not q:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    org = call.emulator
    return org.queries.execute(
        q, all_rows=all_rows, batch_size=batch_size_from(request.headers.get("sforce-query-options")),
        version=call.version, now=call.ctx.now, tz=org.user_time_zone(call.ctx.user_id),
    )


def query_more(locator: str, call: QueryCall, request: Request) -> dict:
    """`query/{locator}` and `queryAll/{locator}` alike: the cursor knows which query opened it."""
    return call.emulator.queries.more(
        locator, batch_size=batch_size_from(request.headers.get("sforce-query-options")), version=call.version,
    )


def query(call: QueryCall, request: Request, q: str | None = None) -> dict:
    return _run(call, request, q, all_rows=False)


def query_all(call: QueryCall, request: Request, q: str | None = None) -> dict:
    return _run(call, request, q, all_rows=True)


add_route(router, "/query", query, ["GET"])
add_route(router, "/queryAll", query_all, ["GET"])
add_route(router, "/query/{locator}", query_more, ["GET"])
add_route(router, "/queryAll/{locator}", query_more, ["GET"])

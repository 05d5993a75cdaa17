"""`/composite` (dependent subrequests, one transaction with allOrNone) and `/composite/batch` (independent ones).

Composite runs up to 25 subrequests in order; a later one names an earlier result as
`@{referenceId.field}` (also `@{ref.records[0].Id}`) in its url or body. It counts as one
API call. With `allOrNone`, the first failure rolls every subrequest back and the others
answer 400 PROCESSING_HALTED; without it, only subrequests that reference a failed one do.
Batch runs up to 25 independent subrequests (`vXX.X/...` urls), each counted as its own call;
with `haltOnError` the ones after a failure answer 412 BATCH_PROCESSING_HALTED.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sf_emulator.api import ApiCall, JsonBody, add_route, api_call
from sf_emulator.subrequests import SubResponse, dispatch
from sf_emulator.wire import ApiError

router = APIRouter(prefix="/services/data/v{version}")
CompositeCall = Annotated[ApiCall, Depends(api_call("composite"))]
BatchCall = Annotated[ApiCall, Depends(api_call("composite", charge=False))]
MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_ROLLED_BACK = [{"errorCode": "PROCESSING_HALTED",
                 "message": "The transaction was rolled back since another operation in the same transaction "
                            "failed."}]


class _Unresolved(Exception):
    """A `@{...}` reference names a result that is missing or failed."""


class _RollBack(Exception):
    """Undo an allOrNone Composite call after a subrequest failed."""


def _subrequests(body: Any, key: str) -> list[dict]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, "JSON_PARSER_ERROR", f"The request body must have a non-empty '{key}' array")
    if len(items) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"Max subrequests limit ({MAX_SUBREQUESTS}) exceeded")
    for item in items:
        if not isinstance(item.get("method"), str) or not isinstance(item.get("url"), str):
            raise ApiError(400, "JSON_PARSER_ERROR", "Each subrequest needs a method and a url")
    return items


def _lookup(results: dict[str, SubResponse], ref: str, path: str) -> Any:
    answer = results.get(ref)
    if answer is None or answer.status >= 400:
        raise _Unresolved(f"@{{{ref}{path}}}")
    value: Any = answer.body
    for name, index in _STEP.findall(path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(f"@{{{ref}{path}}}") from None
    return value


def _resolve(value: Any, results: dict[str, SubResponse]) -> Any:
    """`value` with every `@{ref.path}` replaced by that earlier result (a whole-string reference keeps its type)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REFERENCE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    return value


def _headers_of(answer: SubResponse, url: str) -> dict[str, str]:
    """The subrequest's httpHeaders: a created record's Location, as Salesforce reports it."""
    parts = url.split("?")[0].strip("/").split("/")
    if answer.status == 201 and isinstance(answer.body, dict) and "id" in answer.body and len(parts) > 4:
        return {"Location": f"/{'/'.join(parts[:5])}/{answer.body['id']}"}
    return {}


async def _run_composite(request: Request, items: list[dict], all_or_none: bool) -> tuple[list[dict], bool]:
    results: dict[str, SubResponse] = {}
    out: list[dict] = []
    failed = False
    for item in items:
        reference = str(item.get("referenceId", ""))
        if failed and all_or_none:
            out.append({"body": _ROLLED_BACK, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference})
            continue
        try:
            url = _resolve(item["url"], results)
            body = _resolve(item.get("body"), results)
        except _Unresolved as missing:
            answer = SubResponse(400, {}, [{"errorCode": "PROCESSING_HALTED", "message": (
                f"Invalid reference specified. No value for {missing} found in a previous successful subrequest.")}])
        else:
            answer = await dispatch(request, item["method"], url, body, charged=False,
                                    headers=item.get("httpHeaders"))
        results[reference] = answer
        failed = failed or answer.status >= 400
        out.append({"body": answer.body, "httpHeaders": _headers_of(answer, str(item["url"])),
                    "httpStatusCode": answer.status, "referenceId": reference})
    if failed and all_or_none:
        out = [entry if entry["httpStatusCode"] >= 400 else {**entry, "body": _ROLLED_BACK, "httpHeaders": {},
                                                              "httpStatusCode": 400} for entry in out]
    return out, failed


def composite(call: CompositeCall, request: Request, body: JsonBody) -> dict:
    """Runs on a worker thread, its subrequests on an event loop of its own (see Store.held)."""
    items = _subrequests(body, "compositeRequest")
    references = [i.get("referenceId") for i in items]
    if not all(isinstance(r, str) and r for r in references) or len(set(references)) != len(references):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each subrequest needs a unique referenceId")
    for item in items:
        if not item["url"].startswith("/services/data/v"):
            raise ApiError(400, "INVALID_URL", f"The url {item['url']} must begin with /services/data/vXX.X/")
    all_or_none = body.get("allOrNone") is True
    if not all_or_none:
        return {"compositeResponse": asyncio.run(_run_composite(request, items, False))[0]}
    out: list[dict] = []
    try:
        with call.emulator.store.held():
            out, failed = asyncio.run(_run_composite(request, items, True))
            if failed:
                raise _RollBack
    except _RollBack:
        pass
    return {"compositeResponse": out}


def _batch_url(url: str) -> str:
    if url.startswith("/services/data/"):
        return url
    return f"/services/data/{url.lstrip('/')}"


async def _run_batch(request: Request, items: list[dict], halt_on_error: bool) -> dict:
    results: list[dict] = []
    halted = False
    for item in items:
        if halted:
            results.append({"statusCode": 412, "result": [
                {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}]})
            continue
        answer = await dispatch(request, item["method"], _batch_url(item["url"]), item.get("richInput"),
                                charged=True)
        results.append({"statusCode": answer.status, "result": answer.body})
        halted = halt_on_error and answer.status >= 400
    return {"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results}


def batch(call: BatchCall, request: Request, body: JsonBody) -> dict:
    items = _subrequests(body, "batchRequests")
    return asyncio.run(_run_batch(request, items, body.get("haltOnError") is True))


add_route(router, "/composite", composite, ["POST"])
add_route(router, "/composite/batch", batch, ["POST"])

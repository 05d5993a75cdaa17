"""sObject Collections retrieve: `GET /composite/sobjects/{type}?ids=&fields=` and the `POST` with a JSON body.

One call reads many records of one type by id (GET: as many as fit the 16 KB URI;
POST: up to 2,000). The answer has one entry per id, in request order: the record
with the asked fields, or `null` for an id that is malformed, of another type,
missing, or in the recycle bin. An unknown field fails the whole call (400 INVALID_FIELD).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from sf_emulator.api import ApiCall, JsonBody, add_route, api_call
from sf_emulator.records import Records, record_json
from sf_emulator.routers.sobjects import schema_or_404
from sf_emulator.schema import ObjectSchema
from sf_emulator.wire import ApiError

router = APIRouter(prefix="/services/data/v{version}")
CollectionsCall = Annotated[ApiCall, Depends(api_call("collections"))]
MAX_POST_IDS = 2000


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _retrieve(call: ApiCall, schema: ObjectSchema, ids: list[str], fields: list[str]) -> list[dict | None]:
    if not ids:
        raise ApiError(400, "MISSING_ARGUMENT", "The ids parameter is required", ["ids"])
    if not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "The fields parameter is required", ["fields"])
    names = Records.resolve_fields(schema, fields)
    results: list[dict | None] = []
    with call.emulator.store.transaction() as conn:
        for raw in ids:
            try:
                row = Records.fetch(conn, schema, Records.canonical_id(schema, raw))
            except ApiError:
                results.append(None)
                continue
            results.append(record_json(schema, row, names, call.version))
    return results


def retrieve_get(name: str, call: CollectionsCall, ids: str | None = None,
                 fields: str | None = None) -> list[dict | None]:
    return _retrieve(call, schema_or_404(name), _split(ids), _split(fields))


def retrieve_post(name: str, call: CollectionsCall, body: JsonBody) -> list[dict | None]:
    schema = schema_or_404(name)
    spec: Any = body if isinstance(body, dict) else {}
    ids, fields = spec.get("ids"), spec.get("fields")
    if not isinstance(ids, list) or not isinstance(fields, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with 'ids' and 'fields' arrays")
    if len(ids) > MAX_POST_IDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", f"More than {MAX_POST_IDS} Ids specified")
    return _retrieve(call, schema, [str(i) for i in ids], [str(f) for f in fields])


add_route(router, "/composite/sobjects/{name}", retrieve_get, ["GET"])
add_route(router, "/composite/sobjects/{name}", retrieve_post, ["POST"])

"""sObject Collections (`composite/sobjects`): create, update, upsert and delete up to 200 records per call.

Per-record failures come back in request order as `statusCode` entries while
the other records are written; with `allOrNone` any failure rolls the whole
call back and every other record reports ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sf_emulator.api import ApiCall, JsonBody, add_route, api_call
from sf_emulator.records import Records
from sf_emulator.schema import ObjectSchema, object_for_id, object_schema
from sf_emulator.wire import ApiError, not_found

router = APIRouter(prefix="/services/data/v{version}")
CollectionsCall = Annotated[ApiCall, Depends(api_call("collections"))]
MAX_RECORDS = 200
_ROLLED_BACK = ApiError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the request was using AllOrNone "
                        "header", [])

# One record's work: returns its success entry, raises ApiError for its failure entry.
Operation = Callable[[sqlite3.Connection], dict]


class _RolledBack(Exception):
    """Aborts the outer transaction of an allOrNone call after a record failed."""


def _check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call")


def _records_and_flag(body: Any) -> tuple[list, bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a 'records' array")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of boolean from value {all_or_none} for allOrNone")
    _check_count(len(body["records"]))
    return body["records"], all_or_none


def _record_schema(record: Any) -> ObjectSchema:
    """The sObject a collection record names in `attributes.type` (whole-request error if missing/unknown)."""
    kind = record.get("attributes", {}).get("type") if isinstance(record, dict) else None
    if not isinstance(kind, str):
        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    schema = object_schema(kind)
    if schema is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
    return schema


def _failure(error: ApiError, record_id: str | None) -> dict:
    entry: dict[str, Any] = {"success": False, "errors": [error.collection_entry()]}
    if record_id:
        entry = {"id": record_id, **entry}
    return entry


def _run(call: ApiCall, operations: list[tuple[str | None, Operation]], all_or_none: bool) -> list[dict]:
    """Run each record's operation in its own savepoint; collect results in request order."""
    results: list[dict] = []
    failed = False
    store = call.emulator.store
    try:
        with store.transaction():
            for record_id, operation in operations:
                try:
                    with store.transaction() as conn:
                        results.append(operation(conn))
                except ApiError as error:
                    failed = True
                    results.append(_failure(error, record_id))
            if failed and all_or_none:
                raise _RolledBack
    except _RolledBack:
        return [r if not r["success"] else _failure(_ROLLED_BACK, r.get("id")) for r in results]
    return results


def _ids_of(record: dict) -> str | None:
    value = record.get("id", record.get("Id"))
    return value if isinstance(value, str) else None


def create_records(call: CollectionsCall, body: JsonBody) -> list[dict]:
    records, all_or_none = _records_and_flag(body)
    org = call.emulator
    prepared = []
    for record in records:
        schema = _record_schema(record)
        if _ids_of(record):
            raise ApiError(400, "INVALID_FIELD", "Id field should not be specified in the sobject data.", ["id"])
        prepared.append((schema, Records.deserialize(schema, record)))

    def op(schema: ObjectSchema, values: dict) -> Operation:
        return lambda conn: {"id": org.records.create(conn, schema, values, call.ctx), "success": True, "errors": []}

    return _run(call, [(None, op(s, v)) for s, v in prepared], all_or_none)


def update_records(call: CollectionsCall, body: JsonBody) -> list[dict]:
    records, all_or_none = _records_and_flag(body)
    org = call.emulator
    operations: list[tuple[str | None, Operation]] = []
    for record in records:
        schema = _record_schema(record)
        raw_id = _ids_of(record)
        fields = {k: v for k, v in record.items() if k not in ("id", "Id")}
        values = Records.deserialize(schema, fields)

        def op(conn: sqlite3.Connection, schema: ObjectSchema = schema, raw_id: str | None = raw_id,
               values: dict = values) -> dict:
            if not raw_id:
                raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
            record_id = Records.canonical_id(schema, raw_id)
            org.records.update(conn, schema, record_id, values, call.ctx)
            return {"id": record_id, "success": True, "errors": []}

        operations.append((raw_id, op))
    return _run(call, operations, all_or_none)


def upsert_records(name: str, field: str, call: CollectionsCall, body: JsonBody) -> list[dict]:
    records, all_or_none = _records_and_flag(body)
    target = object_schema(name)
    if target is None:
        raise not_found()
    org = call.emulator
    operations: list[tuple[str | None, Operation]] = []
    for record in records:
        schema = _record_schema(record)
        if schema is not target:
            raise ApiError(400, "INVALID_TYPE", f"The records must all be of type {target.name}")
        values = Records.deserialize(schema, record)
        spec = schema.field(field)
        key = values.get(spec.name) if spec else None

        def op(conn: sqlite3.Connection, schema: ObjectSchema = schema, key: Any = key, values: dict = values) -> dict:
            if key is None:
                raise ApiError(400, "MISSING_ARGUMENT", f"{field} not specified", [field])
            record_id, created = org.records.upsert(conn, schema, field, str(key), values, call.ctx, call.version)
            return {"id": record_id, "success": True, "errors": [], "created": created}

        operations.append((None, op))
    return _run(call, operations, all_or_none)


def delete_records(call: CollectionsCall, ids: str | None = None,
                   all_or_none: Annotated[str | None, Query(alias="allOrNone")] = None) -> list[dict]:
    id_list = [i.strip() for i in (ids or "").split(",") if i.strip()]
    if not id_list:
        raise ApiError(400, "MISSING_ARGUMENT", "The ids parameter is required")
    _check_count(len(id_list))
    org = call.emulator
    operations: list[tuple[str | None, Operation]] = []
    for raw_id in id_list:

        def op(conn: sqlite3.Connection, raw_id: str = raw_id) -> dict:
            schema = object_for_id(raw_id)
            if schema is None:
                raise ApiError(400, "MALFORMED_ID", f"malformed id {raw_id}", [])
            record_id = Records.canonical_id(schema, raw_id)
            org.records.delete(conn, schema, record_id, call.ctx)
            return {"id": record_id, "success": True, "errors": []}

        operations.append((raw_id, op))
    return _run(call, operations, (all_or_none or "false").lower() == "true")


add_route(router, "/composite/sobjects", create_records, ["POST"])
add_route(router, "/composite/sobjects", update_records, ["PATCH"])
add_route(router, "/composite/sobjects", delete_records, ["DELETE"])
add_route(router, "/composite/sobjects/{name}/{field}", upsert_records, ["PATCH"])

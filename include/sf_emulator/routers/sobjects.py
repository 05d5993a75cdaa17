"""`/sobjects`: global and object describe, single-record CRUD, upsert, updated/ and deleted/."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from sf_emulator.api import ApiCall, JsonBody, add_route, api_call
from sf_emulator.records import Records, record_json
from sf_emulator.replication import get_deleted, get_updated
from sf_emulator.schema import OBJECTS, ObjectSchema, object_schema
from sf_emulator.wire import not_found

router = APIRouter(prefix="/services/data/v{version}")
DescribeCall = Annotated[ApiCall, Depends(api_call("describe"))]
SObjectCall = Annotated[ApiCall, Depends(api_call("sobject"))]
UpdatedCall = Annotated[ApiCall, Depends(api_call("updated"))]
DeletedCall = Annotated[ApiCall, Depends(api_call("deleted"))]


def schema_or_404(name: str) -> ObjectSchema:
    schema = object_schema(name)
    if schema is None:
        raise not_found()
    return schema


def global_describe(call: DescribeCall) -> dict:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [s.summary(call.version) for s in OBJECTS.values()]}


def object_info(name: str, call: DescribeCall) -> dict:
    return {"objectDescribe": schema_or_404(name).summary(call.version), "recentItems": []}


def describe(name: str, call: DescribeCall) -> dict:
    return call.emulator.custom_fields.effective(schema_or_404(name)).describe(call.version)


def updated(name: str, call: UpdatedCall, start: str | None = None, end: str | None = None) -> dict:
    return get_updated(call.emulator, schema_or_404(name), start, end)


def deleted(name: str, call: DeletedCall, start: str | None = None, end: str | None = None) -> dict:
    return get_deleted(call.emulator, schema_or_404(name), start, end)


def create(name: str, call: SObjectCall, body: JsonBody) -> JSONResponse:
    schema = schema_or_404(name)
    org = call.emulator
    values = Records.deserialize(schema, body)
    with org.store.transaction() as conn:
        record_id = org.records.create(conn, schema, values, call.ctx)
    return JSONResponse({"id": record_id, "success": True, "errors": []}, status_code=201)


def get_record(name: str, record_id: str, call: SObjectCall, fields: str | None = None) -> dict:
    schema = schema_or_404(name)
    record_id = Records.canonical_id(schema, record_id)
    names = Records.resolve_fields(schema, fields.split(",")) if fields else [f.name for f in schema.field_list]
    with call.emulator.store.transaction() as conn:
        row = Records.fetch(conn, schema, record_id)
    return record_json(schema, row, names, call.version)


def update(name: str, record_id: str, call: SObjectCall, body: JsonBody) -> Response:
    schema = schema_or_404(name)
    org = call.emulator
    record_id = Records.canonical_id(schema, record_id)
    values = Records.deserialize(schema, body)
    with org.store.transaction() as conn:
        org.records.update(conn, schema, record_id, values, call.ctx)
    return Response(status_code=204)


def delete(name: str, record_id: str, call: SObjectCall) -> Response:
    schema = schema_or_404(name)
    org = call.emulator
    record_id = Records.canonical_id(schema, record_id)
    with org.store.transaction() as conn:
        org.records.delete(conn, schema, record_id, call.ctx)
    return Response(status_code=204)


def upsert(name: str, field: str, value: str, call: SObjectCall, body: JsonBody) -> JSONResponse:
    schema = schema_or_404(name)
    org = call.emulator
    values = Records.deserialize(schema, body)
    with org.store.transaction() as conn:
        record_id, created = org.records.upsert(conn, schema, field, value, values, call.ctx, call.version)
    return JSONResponse({"id": record_id, "success": True, "errors": [], "created": created},
                        status_code=201 if created else 200)


def delete_by_external_id(name: str, field: str, value: str, call: SObjectCall) -> Response:
    """`DELETE /sobjects/{type}/{externalIdField}/{value}`: 204, 404 if no record matches, 300 if several do."""
    schema = schema_or_404(name)
    org = call.emulator
    with org.store.transaction() as conn:
        record_id = org.records.match_external_id(conn, schema, field, value, call.version)
        org.records.delete(conn, schema, record_id, call.ctx)
    return Response(status_code=204)


def get_by_external_id(name: str, field: str, value: str, call: SObjectCall) -> dict:
    schema = schema_or_404(name)
    org = call.emulator
    with org.store.transaction() as conn:
        record_id = org.records.match_external_id(conn, schema, field, value, call.version)
        row = Records.fetch(conn, schema, record_id)
    return record_json(schema, row, [f.name for f in schema.field_list], call.version)


# Fixed segments (describe, updated, deleted) are registered before the {record_id} routes that would shadow them.
add_route(router, "/sobjects", global_describe, ["GET"])
add_route(router, "/sobjects/{name}/describe", describe, ["GET"])
add_route(router, "/sobjects/{name}/updated", updated, ["GET"])
add_route(router, "/sobjects/{name}/deleted", deleted, ["GET"])
add_route(router, "/sobjects/{name}", object_info, ["GET"])
add_route(router, "/sobjects/{name}", create, ["POST"])
add_route(router, "/sobjects/{name}/{record_id}", get_record, ["GET"])
add_route(router, "/sobjects/{name}/{record_id}", update, ["PATCH"])
add_route(router, "/sobjects/{name}/{record_id}", delete, ["DELETE"])
add_route(router, "/sobjects/{name}/{field}/{value}", upsert, ["PATCH"])
add_route(router, "/sobjects/{name}/{field}/{value}", get_by_external_id, ["GET"])
add_route(router, "/sobjects/{name}/{field}/{value}", delete_by_external_id, ["DELETE"])

"""SOSL at `GET /search?q=`: `FIND {term} [IN ALL|NAME FIELDS] [RETURNING Obj[(fields)], ...] [LIMIT n]`.

The emulator searches the text fields of its objects (Task: Subject, Description;
User: Name, Username, Email) for the term as a case-insensitive substring (`*` and `?`
wildcards are accepted and ignored). Anything else SOSL has (WHERE inside RETURNING,
WITH, ORDER BY, OR/AND in the term) answers Salesforce's 400 MALFORMED_SEARCH, never 404.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends

from sf_emulator.api import ApiCall, add_route, api_call
from sf_emulator.records import Records, record_json
from sf_emulator.schema import OBJECTS, TASK, USER, ObjectSchema, object_schema
from sf_emulator.wire import ApiError

router = APIRouter(prefix="/services/data/v{version}")
SearchCall = Annotated[ApiCall, Depends(api_call("search"))]
MAX_ROWS = 2000
_SEARCHED = {TASK.name: ("Subject", "Description"), USER.name: ("Name", "Username", "Email")}
_SOSL = re.compile(
    r"^\s*FIND\s*\{(?P<term>(?:[^{}\\]|\\.)*)\}\s*(?:IN\s+(?:ALL|NAME)\s+FIELDS\s*)?"
    r"(?:RETURNING\s+(?P<returning>.+?))?\s*(?:LIMIT\s+(?P<limit>\d+))?\s*$", re.IGNORECASE | re.DOTALL)
_TARGET = re.compile(r"^\s*(\w+)\s*(?:\(([^()]*)\))?\s*$")


def _malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_SEARCH", message)


def _targets(returning: str | None) -> list[tuple[ObjectSchema, list[str]]]:
    if returning is None:
        return [(s, ["Id"]) for s in OBJECTS.values()]
    targets = []
    for part in re.split(r",(?![^(]*\))", returning):
        match = _TARGET.match(part)
        if match is None:
            raise _malformed(f"unexpected token in RETURNING clause: '{part.strip()}'")
        schema = object_schema(match.group(1))
        if schema is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{match.group(1)}' is not supported.")
        fields = [f for f in (match.group(2) or "Id").split(",") if f.strip()]
        targets.append((schema, Records.resolve_fields(schema, fields)))
    return targets


def search(call: SearchCall, q: str | None = None) -> dict:
    match = _SOSL.match(q or "")
    if match is None:
        raise _malformed("No search term found. The search term must be enclosed in braces.")
    term = re.sub(r"[*?\\]", "", match.group("term")).strip()
    if len(term) < 2:
        raise _malformed("search term must be longer than one character")
    if re.search(r"\s(AND|OR|AND NOT)\s", f" {term} "):
        raise _malformed("The emulator's SOSL does not support logical operators in the search term")
    limit = min(int(match.group("limit") or MAX_ROWS), MAX_ROWS)
    records: list[dict] = []
    for schema, names in _targets(match.group("returning")):
        if len(records) >= limit:
            break
        columns = _SEARCHED[schema.name]
        where = " OR ".join(f'instr(lower(coalesce("{c}", \'\')), lower(?)) > 0' for c in columns)
        live = " AND IsDeleted = 0" if schema.field("IsDeleted") else ""
        rows = call.emulator.store.read(
            f"SELECT * FROM {schema.table} WHERE ({where}){live} LIMIT ?",  # noqa: S608 - names from schema.py
            [*([term] * len(columns)), limit - len(records)])
        records.extend(record_json(schema, row, names, call.version) for row in rows)
    return {"searchRecords": records}


add_route(router, "/search", search, ["GET"])

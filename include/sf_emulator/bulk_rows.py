"""What Bulk API 1.0 and 2.0 share: CSV in and out, rows written through `Records`, snapshot rows read back.

Both Bulk APIs take rows of text (CSV cells; Bulk 1.0's JSON and XML batches
are turned into the same text cells), write each row through
`Records.create/update/upsert/delete` in its own savepoint so a bad row fails
alone, and report an outcome per row in input order. Queries compile through
`compile_soql` and read the rows of a fixed rowid snapshot, as `GET query` does.
Only the job bookkeeping and the wire formats differ; those live in
`bulk_jobs` (2.0) and `bulk1_jobs`/`bulk1_wire` (1.0).
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sf_emulator.org import Emulator
from sf_emulator.records import CallContext, Records, coerce
from sf_emulator.schema import FieldSpec, ObjectSchema
from sf_emulator.soql import CompiledQuery, compile_soql
from sf_emulator.wire import ApiError, parse_date, parse_datetime

#: In ingest CSV an empty field means "leave as is"; this value sets the field to null.
NULL_VALUE = "#N/A"
WRITE_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
# SQLite binds at most 32766 parameters per statement; page reads fetch rowids in slices below that.
_ROWID_SLICE = 30000


def bulk_error_text(error: ApiError) -> str:
    """A record failure as Bulk results show it: 'STATUS_CODE:message:Field1,Field2 --' (no fields: ':--')."""
    fields = ",".join(error.fields or [])
    return f"{error.error_code}:{error.message}:{fields + ' ' if fields else ''}--"


# -- CSV ------------------------------------------------------------------------------------------------------------
def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv_value(spec: FieldSpec, value: Any) -> str | None:
    """A stored value as Bulk query results write it (None for null)."""
    if value is None:
        return None
    if spec.type == "boolean":
        return "true" if value else "false"
    return str(value)


def write_csv(rows: Iterable[Iterable[str | None]], delimiter: str = ",", newline: str = "\n") -> str:
    """CSV as Salesforce writes it: every value quoted, a null as an empty, unquoted field."""
    return "".join(
        delimiter.join("" if v is None else _quote(v) for v in row) + newline for row in rows
    )


def read_csv(data: bytes, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    """The header and rows of an uploaded CSV; ApiError-free: a job fails on what this raises (ValueError)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("InvalidBatch : The uploaded data is not valid UTF-8") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise ValueError(f"InvalidBatch : Failed to parse CSV: {exc}") from None
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError("InvalidBatch : The uploaded data has no header row")
    return rows[0], rows[1:]


def _wrong_type(spec: FieldSpec, raw: str) -> ApiError:
    return ApiError(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{spec.label}: value not of required type: {raw}",
                    [spec.name])


def csv_to_storage(spec: FieldSpec, raw: str) -> Any:
    """A CSV field's text as the storage value of `spec` (None for `#N/A`), or the record's error."""
    if raw == NULL_VALUE:
        return None
    try:
        if spec.type == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return coerce(spec, raw.lower() in ("true", "1"))
        if spec.type == "int":
            return coerce(spec, int(raw))
        if spec.type == "double":
            return coerce(spec, float(raw))
        if spec.type == "date":
            return parse_date(raw[:10] if "T" in raw else raw).isoformat()
        if spec.type == "datetime":
            parse_datetime(raw)
    except ValueError:
        raise _wrong_type(spec, raw) from None
    return coerce(spec, raw)


# -- queries ----------------------------------------------------------------------------------------------------------
def compile_bulk_query(org: Emulator, soql: str, *, include_deleted: bool, ctx: CallContext) -> CompiledQuery:
    """A Bulk query compiled exactly as `GET query` compiles it (raises SoqlError)."""
    return compile_soql(soql, org.custom_fields.soql_objects(), now=ctx.now, include_deleted=include_deleted,
                        tz=org.user_time_zone(ctx.user_id))


def read_rows(org: Emulator, schema: ObjectSchema, names: list[str], rowids: array) -> Iterator[Any]:
    """The stored rows behind `rowids` (a query snapshot), in snapshot order; rows gone since are skipped."""
    columns = ", ".join(f'"{name}"' for name in names)
    for first in range(0, len(rowids), _ROWID_SLICE):
        part = rowids[first:first + _ROWID_SLICE]
        sql = (f"SELECT rowid AS emu_rowid, {columns} FROM {schema.table}"  # noqa: S608
               f" WHERE rowid IN ({', '.join('?' * len(part))})")
        by_rowid = {row["emu_rowid"]: row for row in org.store.read(sql, list(part))}
        yield from (by_rowid[r] for r in part if r in by_rowid)


# -- writes -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowOutcome:
    """What happened to one input row: its record id (the one it carried, if it failed) and created, or the error."""

    record_id: str
    created: bool
    error: ApiError | None
    row: list[str]


class RowWriter:
    """Applies one job's operation to its rows of text through `Records`, one savepoint per row.

    Raises ValueError (the whole batch or job fails) for a header that names an unknown
    field or does not fit the operation.
    """

    def __init__(self, org: Emulator, schema: ObjectSchema, header: list[str], operation: str,
                 external_id_field: str | None, api_version: str) -> None:
        self.org = org
        self.schema = schema
        self.operation = operation
        self.external_id_field = external_id_field
        self.api_version = api_version
        specs = []
        for name in header:
            spec = schema.field(name.strip())
            if spec is None:
                raise ValueError(f"InvalidBatch : Field name not found : {name}")
            specs.append(spec)
        self.specs = specs
        names = [s.name for s in specs]
        if operation in ("delete", "hardDelete") and names != ["Id"]:
            raise ValueError(f"InvalidBatch : The '{operation}' batch must contain only the 'Id' column")
        if operation == "upsert" and external_id_field not in names:
            raise ValueError(f"InvalidBatch : The external ID field {external_id_field} is not in the header")
        self.apply: Callable[[Any, dict[str, str], dict[str, Any], CallContext], tuple[str, bool]] = {
            "insert": self._insert, "update": self._update, "upsert": self._upsert,
            "delete": self._delete, "hardDelete": self._hard_delete,
        }[operation]

    def run_chunk(self, rows: list[list[str]], ctx: CallContext) -> list[RowOutcome]:
        """Write `rows` in one transaction; returns one outcome per row, in order, once committed."""
        store = self.org.store
        outcomes: list[RowOutcome] = []
        with store.transaction():
            for row in rows:
                try:
                    if len(row) != len(self.specs):
                        raise ApiError(400, "INVALID_FIELD", f"The row has {len(row)} values but the header names "
                                       f"{len(self.specs)} fields", [])
                    raw = {spec.name: value for spec, value in zip(self.specs, row, strict=True)}
                    with store.transaction() as conn:
                        record_id, created = self.apply(conn, raw, self._values(raw), ctx)
                except ApiError as error:
                    outcomes.append(RowOutcome(raw_id_of(row, self.specs), False, error, row))
                else:
                    outcomes.append(RowOutcome(record_id, created, None, row))
        return outcomes

    def _values(self, raw: dict[str, str]) -> dict[str, Any]:
        """Typed values of the non-key fields: empty fields are left out (unchanged), `#N/A` becomes null."""
        values: dict[str, Any] = {}
        for name, text in raw.items():
            if name == "Id" or text == "":
                continue
            values[name] = csv_to_storage(self.schema.fields[name.lower()], text)
        return values

    def _record_id(self, raw: dict[str, str]) -> str:
        if not raw.get("Id"):
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
        return Records.canonical_id(self.schema, raw["Id"])

    def _insert(self, conn: Any, raw: dict[str, str], values: dict[str, Any], ctx: CallContext) -> tuple[str, bool]:
        if raw.get("Id"):
            values = {**values, "Id": raw["Id"]}  # refused by create as a read-only field, like Salesforce
        return self.org.records.create(conn, self.schema, values, ctx), True

    def _update(self, conn: Any, raw: dict[str, str], values: dict[str, Any], ctx: CallContext) -> tuple[str, bool]:
        record_id = self._record_id(raw)
        self.org.records.update(conn, self.schema, record_id, values, ctx)
        return record_id, False

    def _upsert(self, conn: Any, raw: dict[str, str], values: dict[str, Any], ctx: CallContext) -> tuple[str, bool]:
        field_name = self.external_id_field or "Id"
        key = raw.get(field_name, "")
        if field_name == "Id" and not key:
            return self.org.records.create(conn, self.schema, values, ctx), True
        if not key or key == NULL_VALUE:
            raise ApiError(400, "MISSING_ARGUMENT", f"{field_name} not specified", [field_name])
        return self.org.records.upsert(conn, self.schema, field_name, key, values, ctx, self.api_version)

    def _delete(self, conn: Any, raw: dict[str, str], values: dict[str, Any], ctx: CallContext) -> tuple[str, bool]:
        record_id = self._record_id(raw)
        self.org.records.delete(conn, self.schema, record_id, ctx)
        return record_id, False

    def _hard_delete(self, conn: Any, raw: dict[str, str], values: dict[str, Any], ctx: CallContext
                     ) -> tuple[str, bool]:
        """Delete (same checks and row locks as a soft delete), then purge the row instead of keeping it in
        the recycle bin: a hard-deleted record is gone for queryAll and `deleted/` alike."""
        record_id, _ = self._delete(conn, raw, values, ctx)
        conn.execute(f"DELETE FROM {self.schema.table} WHERE Id = ?", (record_id,))  # noqa: S608
        return record_id, False


def raw_id_of(row: list[str], specs: list[FieldSpec]) -> str:
    """The `Id` a failed row carried, if any (its `sf__Id`)."""
    for spec, value in zip(specs, row, strict=False):
        if spec.name == "Id":
            return value
    return ""

"""Reading and writing sObject rows with Salesforce's validation rules and error shapes.

Writes happen in two phases, as in Salesforce: `deserialize` turns a JSON body
into typed storage values (an unknown field or a value of the wrong JSON type
fails the whole request), then `create`/`update`/`upsert`/`delete` apply the
per-record rules (read-only fields, required fields, lengths, picklists,
references, uniqueness, row locks) that collection calls report per record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sf_emulator.custom_fields import CustomFields
from sf_emulator.faults import Faults
from sf_emulator.ids import make_id, to_18
from sf_emulator.schema import TASK, USER, FieldSpec, ObjectSchema
from sf_emulator.storage import Store
from sf_emulator.tasks import apply_task_rules
from sf_emulator.wire import ApiError, not_found, parse_date, parse_datetime, storage_to_wire, to_storage

_TEXT_TYPES = frozenset({"string", "textarea", "picklist", "combobox", "email", "phone"})
_SYSTEM_FIELDS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")


@dataclass(frozen=True)
class CallContext:
    """Who is calling and when: the session's user, the `Sforce-Call-Options` client name, the emulator clock."""

    user_id: str
    client: str | None
    now: datetime

    @property
    def now_text(self) -> str:
        return to_storage(self.now)


class MultipleMatches(ApiError):
    """An external-id upsert matched several rows: HTTP 300 with the rows' URLs as the body."""

    def __init__(self, urls: list[str], field: str, value: str) -> None:
        super().__init__(300, "DUPLICATE_EXTERNAL_ID",
                         f"The external ID value {value!r} for field {field} matched {len(urls)} records", [field])
        self.urls = urls

    def rest_body(self) -> list:  # type: ignore[override]
        return self.urls


def wire_value(spec: FieldSpec, value: Any) -> Any:
    """A stored value as the REST API shows it."""
    if value is None:
        return None
    if spec.type == "boolean":
        return bool(value)
    if spec.type == "datetime":
        return storage_to_wire(value)
    return value


def record_url(schema: ObjectSchema, record_id: str, version: str) -> str:
    return f"/services/data/v{version}/sobjects/{schema.name}/{record_id}"


def record_json(schema: ObjectSchema, row: Mapping[str, Any], names: Iterable[str], version: str) -> dict:
    """A record with its `attributes` block and the named fields, in that order."""
    out: dict[str, Any] = {"attributes": {"type": schema.name, "url": record_url(schema, row["Id"], version)}}
    for name in names:
        spec = schema.fields[name.lower()]
        out[spec.name] = wire_value(spec, row[spec.name])
    return out


def _json_token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def _json_error(spec: FieldSpec, value: Any) -> ApiError:
    kind = {"datetime": "datetime", "date": "date", "boolean": "boolean", "int": "int", "double": "double"}.get(
        spec.type, "string"
    )
    return ApiError(
        400, "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {_json_token(value)} value {value} "
        "or request may be missing a required field",
    )


def malformed_id(label: str, value: Any, field: str | None = None) -> ApiError:
    return ApiError(400, "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [field] if field else None)


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A JSON value as the storage value of `spec`, or the error Salesforce's deserializer gives."""
    if spec.type == "boolean":
        if value is None:
            return 0  # a checkbox set to null is false in Salesforce
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise _json_error(spec, value)
    if value is None:
        return None
    if spec.type in ("int", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _json_error(spec, value)
        return int(value) if spec.type == "int" else float(value)
    if isinstance(value, dict | list):
        raise _json_error(spec, value)
    if spec.type in ("date", "datetime"):
        if not isinstance(value, str):
            raise _json_error(spec, value)
        try:
            return parse_date(value).isoformat() if spec.type == "date" else to_storage(parse_datetime(value))
        except ValueError:
            raise _json_error(spec, value) from None
    if spec.type in ("id", "reference"):
        try:
            return to_18(str(value))
        except ValueError:
            raise malformed_id(spec.label, value, spec.name) from None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Records:
    """Row-level operations on one org's store. Methods taking `conn` run inside the caller's transaction."""

    def __init__(self, store: Store, faults: Faults, pod: str, custom_fields: CustomFields | None = None) -> None:
        self.store = store
        self.faults = faults
        self.pod = pod
        self.custom_fields = custom_fields or CustomFields(store)

    def _as_seen(self, schema: ObjectSchema, values: Mapping[str, Any]) -> ObjectSchema:
        """The schema the caller sees (custom fields as the admin left them); a value for a field it
        cannot see is refused as Salesforce's deserializer refuses an unknown field."""
        seen = self.custom_fields.effective(schema)
        unknown = [name for name in values if seen.field(name) is None]
        if unknown:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {schema.name}",
                           unknown[:1])
        return seen

    # -- ids -------------------------------------------------------------------------------------------------
    def new_ids(self, schema: ObjectSchema, count: int = 1) -> list[str]:
        first = self.store.next_sequence(schema.key_prefix, count)
        return [make_id(schema.key_prefix, self.pod, n) for n in range(first, first + count)]

    @staticmethod
    def canonical_id(schema: ObjectSchema, raw: str) -> str:
        """The 18-character id for a URL segment, or 400 MALFORMED_ID (wrong length, characters, prefix)."""
        try:
            record_id = to_18(raw)
        except ValueError:
            raise malformed_id(f"{schema.name} ID", raw) from None
        if not record_id.startswith(schema.key_prefix):
            raise malformed_id(f"{schema.name} ID", raw)
        return record_id

    # -- reading ---------------------------------------------------------------------------------------------
    @staticmethod
    def resolve_fields(schema: ObjectSchema, names: Iterable[str]) -> list[str]:
        """Canonical API names for a `fields=` list, or 400 INVALID_FIELD naming the first unknown one."""
        out = []
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            spec = schema.field(name)
            if spec is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{schema.name}'. If you "
                               "are attempting to use a custom field, be sure to append the '__c' after the custom "
                               "field name. Please reference your WSDL or the describe call for the appropriate "
                               "names.", [name])
            out.append(spec.name)
        return out

    @staticmethod
    def fetch(conn: sqlite3.Connection, schema: ObjectSchema, record_id: str, *, allow_deleted: bool = False
              ) -> sqlite3.Row:
        """A row by id: 404 NOT_FOUND if absent, 404 ENTITY_IS_DELETED if in the recycle bin."""
        row = conn.execute(f"SELECT * FROM {schema.table} WHERE Id = ?", (record_id,)).fetchone()  # noqa: S608
        if row is None:
            raise not_found()
        if schema.field("IsDeleted") and row["IsDeleted"] and not allow_deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return row

    # -- writing ---------------------------------------------------------------------------------------------
    @staticmethod
    def deserialize(schema: ObjectSchema, body: Any) -> dict[str, Any]:
        """Typed storage values keyed by canonical field name; whole-request errors only."""
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR",
                           f"Cannot deserialize instance of {schema.name} from {_json_token(body)} value")
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key == "attributes":
                continue
            spec = schema.field(key)
            if spec is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {schema.name}",
                               [key])
            values[spec.name] = coerce(spec, value)
        return values

    def create(self, conn: sqlite3.Connection, schema: ObjectSchema, values: Mapping[str, Any], ctx: CallContext,
               *, trusted: bool = False, bookkeeping: Mapping[str, Any] | None = None) -> str:
        """Insert a record and return its id.

        `trusted` (control-plane seeding) may set read-only and system fields and
        skips the uniqueness check; `bookkeeping` sets `emu_` columns (names from code, never from input).
        """
        if not trusted:
            schema = self._as_seen(schema, values)
            self._require_writable(schema, "create")
            self._refuse_read_only(schema, values, creating=True)
        row = self._defaults(schema, ctx)
        row.update(values)
        if not row.get("Id"):
            row["Id"] = self.new_ids(schema)[0]
        self._apply_rules(schema, row, None, ctx)
        self._validate(conn, schema, row, set(values) | {f.name for f in schema.field_list if not f.nillable},
                       check_unique=not trusted)
        extra = dict(bookkeeping or {})
        if schema.name == TASK.name:
            extra.setdefault("emu_last_client", ctx.client)
            if row.get("IsDeleted"):
                extra.setdefault("emu_deleted_at", row["SystemModstamp"])
        columns = [f.name for f in schema.field_list]
        params = [row[name] for name in columns] + list(extra.values())
        quoted = ", ".join(f'"{c}"' for c in [*columns, *extra])
        try:
            conn.execute(f"INSERT INTO {schema.table} ({quoted}) VALUES ({', '.join('?' * len(params))})",  # noqa: S608
                         params)
        except sqlite3.IntegrityError:
            raise ApiError(400, "DUPLICATE_VALUE", f"duplicate value found: Id duplicates value on record with id: "
                           f"{row['Id']}", []) from None
        return row["Id"]

    def update(self, conn: sqlite3.Connection, schema: ObjectSchema, record_id: str, values: Mapping[str, Any],
               ctx: CallContext) -> None:
        schema = self._as_seen(schema, values)
        self._require_writable(schema, "update")
        old = self.fetch(conn, schema, record_id)
        self.faults.check_row(record_id)
        self._refuse_read_only(schema, values, creating=False)
        row = dict(old)
        row.update(values)
        self._apply_rules(schema, row, old, ctx)
        self._validate(conn, schema, row, set(values))
        row.update(LastModifiedDate=ctx.now_text, LastModifiedById=ctx.user_id, SystemModstamp=ctx.now_text)
        changed = [f.name for f in schema.field_list if row[f.name] != old[f.name]]
        assignments = [f'"{name}" = ?' for name in changed]
        params = [row[name] for name in changed]
        if schema.name == TASK.name:
            assignments.append("emu_last_client = ?")
            params.append(ctx.client)
        conn.execute(f"UPDATE {schema.table} SET {', '.join(assignments)} WHERE Id = ?",  # noqa: S608
                     [*params, record_id])

    def delete(self, conn: sqlite3.Connection, schema: ObjectSchema, record_id: str, ctx: CallContext) -> None:
        """Move a record to the recycle bin (IsDeleted, kept 15 days, visible to queryAll and deleted/)."""
        self._require_writable(schema, "delete")
        self.fetch(conn, schema, record_id)
        self.faults.check_row(record_id)
        conn.execute(
            f"UPDATE {schema.table} SET IsDeleted = 1, emu_deleted_at = ?, SystemModstamp = ?,"  # noqa: S608
            " emu_last_client = ? WHERE Id = ?",
            (ctx.now_text, ctx.now_text, ctx.client, record_id),
        )

    def upsert(self, conn: sqlite3.Connection, schema: ObjectSchema, field_name: str, value: str,
               values: Mapping[str, Any], ctx: CallContext, version: str) -> tuple[str, bool]:
        """Insert or update by external id (or by `Id`); returns (id, created)."""
        if field_name.lower() == "id":
            record_id = self.canonical_id(schema, value)
            self.update(conn, schema, record_id, values, ctx)
            return record_id, False
        spec, key, matches = self._external_matches(conn, self.custom_fields.effective(schema), field_name, value,
                                                     version)
        given = values.get(spec.name, key)
        if given != key:
            raise ApiError(400, "INVALID_FIELD",
                           f"The value of {spec.name} in the request body ({given}) does not match the value in "
                           f"the URL ({key})", [spec.name])
        if matches:
            self.update(conn, schema, matches[0], values, ctx)
            return matches[0], False
        return self.create(conn, schema, {**values, spec.name: key}, ctx), True

    def match_external_id(self, conn: sqlite3.Connection, schema: ObjectSchema, field_name: str, value: str,
                          version: str) -> str:
        """The one live record whose external id `field_name` is `value` (404 if none, 300 if several)."""
        if field_name.lower() == "id":
            return self.canonical_id(schema, value)
        _, _, matches = self._external_matches(conn, self.custom_fields.effective(schema), field_name, value,
                                               version)
        if not matches:
            raise not_found()
        return matches[0]

    @staticmethod
    def _external_matches(conn: sqlite3.Connection, schema: ObjectSchema, field_name: str, value: str,
                          version: str) -> tuple[FieldSpec, Any, list[str]]:
        spec = schema.field(field_name)
        if spec is None or not spec.external_id:
            raise ApiError(404, "NOT_FOUND",
                           f"Provided external ID field does not exist or is not accessible: {field_name}")
        key = coerce(spec, value)
        matches = [r["Id"] for r in conn.execute(
            f'SELECT Id FROM {schema.table} WHERE "{spec.name}" COLLATE NOCASE = ? AND IsDeleted = 0'  # noqa: S608
            " LIMIT 200",
            (key,))]
        if len(matches) > 1:
            raise MultipleMatches([record_url(schema, m, version) for m in matches], spec.name, value)
        return spec, key, matches

    # -- rules -----------------------------------------------------------------------------------------------
    @staticmethod
    def _require_writable(schema: ObjectSchema, operation: str) -> None:
        allowed = {"create": schema.createable, "update": schema.updateable, "delete": schema.deletable}[operation]
        if not allowed:
            raise ApiError(403, "INSUFFICIENT_ACCESS_OR_READONLY",
                           f"insufficient access rights on object id: the emulator's {schema.name} records are "
                           f"read-only through the API ({operation}); seed them through /_emulator/seed")

    @staticmethod
    def _refuse_read_only(schema: ObjectSchema, values: Mapping[str, Any], *, creating: bool) -> None:
        bad = [name for name in values
               if not (schema.fields[name.lower()].createable if creating else schema.fields[name.lower()].updateable)]
        if bad:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                           f"Unable to create/update fields: {', '.join(bad)}. Please check the security settings "
                           "of this field and verify that it is read/write for your profile or permission set.", bad)

    @staticmethod
    def _defaults(schema: ObjectSchema, ctx: CallContext) -> dict[str, Any]:
        row: dict[str, Any] = {f.name: None for f in schema.field_list}
        for spec in schema.field_list:
            if spec.type == "boolean":
                row[spec.name] = 0
            elif spec.picklist and spec.picklist.default:
                row[spec.name] = spec.picklist.default
        if schema.field("OwnerId"):
            row["OwnerId"] = ctx.user_id
        if schema.name == USER.name:
            row["IsActive"] = 1
        row.update(CreatedDate=ctx.now_text, CreatedById=ctx.user_id, LastModifiedDate=ctx.now_text,
                   LastModifiedById=ctx.user_id, SystemModstamp=ctx.now_text)
        return row

    @staticmethod
    def _apply_rules(schema: ObjectSchema, row: dict[str, Any], old: Mapping[str, Any] | None,
                     ctx: CallContext) -> None:
        if schema.name == TASK.name and row.get("Status") is not None and row.get("Priority") is not None:
            apply_task_rules(row, old, ctx.now_text)
        if schema.name == USER.name:
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)

    def _validate(self, conn: sqlite3.Connection, schema: ObjectSchema, row: Mapping[str, Any], touched: set[str],
                  *, check_unique: bool = True) -> None:
        specs = [schema.fields[name.lower()] for name in touched]
        missing = [s.name for s in specs if not s.nillable and s.type != "boolean" and row.get(s.name) is None]
        if missing:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                           missing)
        for spec in specs:
            value = row.get(spec.name)
            if value is None:
                continue
            if spec.type in _TEXT_TYPES and spec.length and len(value) > spec.length:
                raise ApiError(400, "STRING_TOO_LONG", f"{spec.label}: data value too large: {value[:80]} "
                               f"(max length={spec.length})", [spec.name])
            if spec.type == "picklist" and spec.picklist and spec.picklist.restricted and \
                    value not in spec.picklist.values:
                raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"{spec.label}: bad value for restricted picklist field: {value}", [spec.name])
            if spec.reference_to == ("User",) and spec.name not in _SYSTEM_FIELDS:
                self._check_user_reference(conn, spec, value)
            if spec.unique and check_unique and schema.name == TASK.name:
                clash = conn.execute(
                    f'SELECT Id FROM {schema.table} WHERE "{spec.name}" COLLATE NOCASE = ? AND Id != ?'  # noqa: S608
                    " AND IsDeleted = 0 LIMIT 1", (value, row["Id"])).fetchone()
                if clash:
                    raise ApiError(400, "DUPLICATE_VALUE", f"duplicate value found: {spec.name} duplicates value on "
                                   f"record with id: {clash['Id']}", [])

    @staticmethod
    def _check_user_reference(conn: sqlite3.Connection, spec: FieldSpec, value: str) -> None:
        if not value.startswith(USER.key_prefix):
            raise malformed_id(spec.label, value, spec.name)
        user = conn.execute("SELECT IsActive FROM sf_user WHERE Id = ?", (value,)).fetchone()
        if user is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", f"{spec.label}: id value of incorrect type: {value}",
                           [spec.name])
        if not user["IsActive"]:
            raise ApiError(400, "INACTIVE_OWNER_OR_USER",
                           f"operation performed with inactive user [{value}] as owner of {spec.name}", [])

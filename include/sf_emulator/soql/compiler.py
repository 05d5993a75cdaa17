"""Translates a parsed SOQL query into SQLite SQL over the emulator's tables.

Salesforce compares with two-valued logic: a null field simply does not
match ``= 'x'`` and does match ``!= 'x'`` and ``NOT (... = 'x')``. SQL's
three-valued NULL would drop such rows under a negation, so the compiler
pushes NOT down to the comparisons (De Morgan) and gives each negated
comparison an explicit ``IS NULL`` arm. The generated SQL never contains NOT
around a sub-expression that can be NULL.

Column names come only from :class:`FieldDef.column`; every value is a ``?`` parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sf_emulator.ids import to_18
from sf_emulator.soql.dates import (
    DayRange,
    format_datetime,
    parse_date_literal,
    parse_datetime_literal,
    relative_range,
)
from sf_emulator.soql.errors import SoqlError
from sf_emulator.soql.objects import FieldDef, ObjectDef
from sf_emulator.soql.parser import BoolOp, Comparison, Condition, Literal, Name, Not, Query, parse

MAX_QUERY_LENGTH = 100_000
MAX_OFFSET = 2000
# SQLite's default limit on '?' parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER).
MAX_PARAMETERS = 32766

_TEXT_TYPES = frozenset({"string", "textarea", "picklist", "combobox", "email", "phone"})
_ID_TYPES = frozenset({"id", "reference"})
# Long text areas can be selected but neither filtered nor sorted in Salesforce.
_UNFILTERABLE_TYPES = frozenset({"textarea"})
# Hidden from the query resource (but not queryAll): Recycle Bin rows and archived activities.
_HIDDEN_FLAGS = ("isdeleted", "isarchived")
# The type names Salesforce uses in "must be of type ..." messages.
_TYPE_WORDS = {"boolean": "boolean", "date": "date", "datetime": "dateTime", "int": "integer", "double": "double"}


@dataclass
class CompiledQuery:
    """What the server needs to run a query: ``SELECT <fields' columns> FROM <obj.table>
    WHERE <where_sql> [ORDER BY <order_sql>] [LIMIT limit] [OFFSET offset]`` with ``params``."""

    obj: ObjectDef
    fields: list[FieldDef]
    is_count: bool
    where_sql: str
    params: list[object]
    order_sql: str
    limit: int | None
    offset: int | None


def compile_soql(
    soql: str,
    objects: Mapping[str, ObjectDef],
    *,
    now: datetime,
    include_deleted: bool = False,
    tz: str = "UTC",
) -> CompiledQuery:
    """Parse, check and translate ``soql``.

    ``objects`` are the queryable sObjects (looked up by API name, case-insensitively);
    ``now`` (timezone-aware) and ``tz`` (an IANA zone, the user's time zone) anchor
    relative date literals such as TODAY. ``include_deleted`` is the queryAll
    resource: it also returns deleted and archived rows.

    Raises SoqlError for anything Salesforce would refuse, and ValueError for a
    naive ``now`` or an unknown ``tz`` (caller bugs, not query errors).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    if len(soql) > MAX_QUERY_LENGTH:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters; this one has {len(soql)}. "
            "Split long IN lists over several queries.",
        )
    query = parse(soql)
    return _Compiler(soql, objects, now.astimezone(zone), zone).compile(query, include_deleted)


class _Compiler:
    def __init__(self, soql: str, objects: Mapping[str, ObjectDef], local_now: datetime, zone: ZoneInfo) -> None:
        self.soql = soql
        self.objects = {obj.name.lower(): obj for obj in objects.values()}
        self.local_now = local_now
        self.zone = zone
        self.obj: ObjectDef | None = None

    def compile(self, query: Query, include_deleted: bool) -> CompiledQuery:
        obj = self.objects.get(query.sobject.text.lower())
        if obj is None:
            raise SoqlError.at(
                "INVALID_TYPE",
                self.soql,
                query.sobject.pos,
                f"sObject type '{query.sobject.text}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        self.obj = obj
        fields = self.selected_fields(query.fields)
        conditions: list[str] = []
        params: list[object] = []
        if not include_deleted:
            for flag in _HIDDEN_FLAGS:
                field = obj.field(flag)
                if field is not None:
                    conditions.append(f"{_quoted(field)} = 0")
        if query.where is not None:
            sql, where_params = self.condition(query.where, negated=False)
            conditions.append(sql)
            params.extend(where_params)
        if len(params) > MAX_PARAMETERS:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"this query compares with {len(params)} values; the emulator accepts at most {MAX_PARAMETERS} "
                "per query. Split long IN lists over several queries.",
            )
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SoqlError.at(
                "NUMBER_OUTSIDE_VALID_RANGE",
                self.soql,
                query.offset_pos,
                f"Maximum SOQL offset allowed for apiName {obj.name} is {MAX_OFFSET}",
            )
        return CompiledQuery(
            obj=obj,
            fields=fields,
            is_count=query.count,
            where_sql=" AND ".join(conditions) or "1=1",
            params=params,
            order_sql=", ".join(self.order_term(item.field, item.descending, item.nulls_first) for item in query.order),
            limit=query.limit,
            offset=query.offset,
        )

    # -- fields --------------------------------------------------------------------------------

    def field(self, name: Name) -> FieldDef:
        assert self.obj is not None
        field = self.obj.field(name.text)
        if field is None:
            raise SoqlError.at(
                "INVALID_FIELD",
                self.soql,
                name.pos,
                f"No such column '{name.text}' on entity '{self.obj.name}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        return field

    def selected_fields(self, names: tuple[Name, ...]) -> list[FieldDef]:
        fields: list[FieldDef] = []
        for name in names:
            field = self.field(name)
            if field in fields:
                raise SoqlError.at("MALFORMED_QUERY", self.soql, name.pos, f"duplicate field selected: {field.name}")
            fields.append(field)
        return fields

    def usable(self, name: Name, action: str) -> FieldDef:
        field = self.field(name)
        if field.type in _UNFILTERABLE_TYPES:
            raise SoqlError.at(
                "INVALID_FIELD",
                self.soql,
                name.pos,
                f"field '{field.name}' can not be {action} in a query call",
            )
        return field

    def order_term(self, name: Name, descending: bool, nulls_first: bool) -> str:
        field = self.usable(name, "sorted")
        collate = " COLLATE NOCASE" if field.type in _TEXT_TYPES else ""
        return f"{_quoted(field)}{collate} {'DESC' if descending else 'ASC'} NULLS {'FIRST' if nulls_first else 'LAST'}"

    # -- conditions ----------------------------------------------------------------------------

    def condition(self, node: Condition, negated: bool) -> tuple[str, list[object]]:
        """SQL for ``node`` (or for NOT ``node``), with its parameters in placeholder order.

        The SQL is always one term, atomic or wrapped in parentheses, so callers
        can join it with AND/OR without changing its meaning.
        """
        if isinstance(node, Not):
            return self.condition(node.operand, not negated)
        if isinstance(node, BoolOp):
            parts = [self.condition(operand, negated) for operand in node.operands]
            joiner = node.op if not negated else ("OR" if node.op == "AND" else "AND")
            params = [param for _, part_params in parts for param in part_params]
            return "(" + f" {joiner} ".join(sql for sql, _ in parts) + ")", params
        return self.comparison(node).render(negated)

    def comparison(self, node: Comparison) -> _Predicate:
        field = self.usable(node.field, "filtered")
        op = node.op
        if op in ("INCLUDES", "EXCLUDES"):
            raise self.invalid_field(
                node.pos,
                f"{op} is only valid on multi-select picklist fields; '{field.name}' is a {field.type} field",
            )
        if op in ("!=", "NOT IN"):
            positive = Comparison(node.field, "=" if op == "!=" else "IN", node.value, node.pos)
            return self.comparison(positive).negate()
        if op == "IN":
            assert isinstance(node.value, tuple)
            return self.in_list(field, node.value)
        assert isinstance(node.value, Literal)
        value = node.value
        if value.kind == "null":
            if op != "=":
                raise SoqlError.at(
                    "MALFORMED_QUERY", self.soql, node.pos, "null can only be compared with = or != (<>)"
                )
            return _Predicate(_quoted(field), f"{_quoted(field)} IS NULL", [], matches_null=True, null_test=True)
        if value.kind == "date_literal":
            return self.date_range(field, op, value)
        if op == "LIKE":
            return self.like(field, value, node.pos)
        if field.type == "boolean" and op != "=":
            raise self.invalid_field(
                node.pos, f"invalid operator on boolean field: {field.name} supports = and != only"
            )
        param = self.value(field, value)
        if field.type in _TEXT_TYPES and param == "" and op == "=":
            # Salesforce stores an empty text value as null, so '' matches empty and null fields.
            return _Predicate(_quoted(field), f"{_quoted(field)} = ?", [param], matches_null=True)
        return _Predicate(_quoted(field), f"{self.operand(field)} {op} ?", [param])

    def in_list(self, field: FieldDef, values: tuple[Literal, ...]) -> _Predicate:
        if field.type == "boolean":
            raise self.invalid_field(values[0].token.pos, f"IN is not valid on boolean field {field.name}")
        params = [self.value(field, value) for value in values if value.kind != "null"]
        matches_null = len(params) < len(values)
        if not params:
            return _Predicate(_quoted(field), f"{_quoted(field)} IS NULL", [], matches_null=True, null_test=True)
        placeholders = ", ".join("?" * len(params))
        return _Predicate(
            _quoted(field), f"{self.operand(field)} IN ({placeholders})", params, matches_null=matches_null
        )

    def like(self, field: FieldDef, value: Literal, op_pos: int) -> _Predicate:
        if field.type not in _TEXT_TYPES | _ID_TYPES:
            raise self.invalid_field(op_pos, f"invalid operator on {field.type} field: LIKE needs a text field")
        if value.kind != "string":
            raise self.type_error(field, value)
        return _Predicate(_quoted(field), f"{_quoted(field)} LIKE ? ESCAPE '\\'", [value.token.like_pattern])

    def date_range(self, field: FieldDef, op: str, value: Literal) -> _Predicate:
        """A comparison with a relative date literal, which stands for a range of days."""
        if field.type not in ("date", "datetime"):
            raise self.type_error(field, value)
        if op == "LIKE":
            raise self.invalid_field(value.token.pos, f"LIKE is not valid on {field.type} field {field.name}")
        try:
            days = relative_range(value.token.text.upper(), value.n, self.local_now.date())
        except OverflowError as exc:
            raise SoqlError.at(
                "MALFORMED_QUERY", self.soql, value.token.pos, f"day count {value.n} is out of range"
            ) from exc
        start, end, end_inclusive = self.range_bounds(field, days)
        col = _quoted(field)
        below_end = f"{col} <= ?" if end_inclusive else f"{col} < ?"
        at_or_after_end = f"{col} > ?" if end_inclusive else f"{col} >= ?"
        sql = {
            "=": f"({col} >= ? AND {below_end})",
            "<": f"{col} < ?",
            ">=": f"{col} >= ?",
            "<=": below_end,
            ">": at_or_after_end,
        }[op]
        params: list[object] = {"=": [start, end], "<": [start], ">=": [start], "<=": [end], ">": [end]}[op]
        return _Predicate(_quoted(field), sql, params)

    def range_bounds(self, field: FieldDef, days: DayRange) -> tuple[str, str, bool]:
        """Start and end of ``days`` as stored values of ``field``, and whether the end is inclusive."""
        if field.type == "date":
            first, last = days.as_dates()
            return first, last, True
        start, end = days.as_instants(self.zone)
        return start, end, False

    # -- values --------------------------------------------------------------------------------

    def operand(self, field: FieldDef) -> str:
        """The column as the left side of a comparison: text compares case-insensitively."""
        return f"{_quoted(field)} COLLATE NOCASE" if field.type in _TEXT_TYPES else _quoted(field)

    def value(self, field: FieldDef, value: Literal) -> object:
        """The stored form of ``value`` for comparison with ``field``, after checking its type."""
        kind = value.kind
        tok = value.token
        if field.type in _ID_TYPES and kind == "string":
            try:
                return to_18(tok.text)
            except ValueError as exc:
                raise SoqlError.at(
                    "INVALID_QUERY_FILTER_OPERATOR", self.soql, tok.pos, f"invalid ID field: {tok.text}"
                ) from exc
        if field.type in _TEXT_TYPES and kind == "string":
            return tok.text
        if field.type == "boolean" and kind == "boolean":
            return 1 if tok.text.upper() == "TRUE" else 0
        if field.type == "int" and kind == "number" and tok.text.lstrip("-").isdigit():
            return int(tok.text)
        if field.type == "double" and kind == "number":
            return float(tok.text)
        if field.type == "date" and kind == "date":
            try:
                return parse_date_literal(tok.text).isoformat()
            except ValueError as exc:
                raise self.bad_literal(tok.pos, f"'{tok.text}' is not a valid date") from exc
        if field.type == "datetime" and kind == "datetime":
            try:
                return format_datetime(parse_datetime_literal(tok.text))
            except ValueError as exc:
                raise self.bad_literal(tok.pos, f"'{tok.text}' is not a valid datetime") from exc
        if kind == "date_literal":
            raise SoqlError.at(
                "MALFORMED_QUERY",
                self.soql,
                tok.pos,
                f"date literal {tok.text.upper()} stands for a range of days and cannot be used in an IN list",
            )
        raise self.type_error(field, value)

    def type_error(self, field: FieldDef, value: Literal) -> SoqlError:
        if field.type in _ID_TYPES | _TEXT_TYPES:
            expected = "string and should be enclosed in quotes"
        else:
            expected = f"{_TYPE_WORDS[field.type]} and should not be enclosed in quotes"
        return self.invalid_field(
            value.token.pos, f"value of filter criterion for field '{field.name}' must be of type {expected}"
        )

    def invalid_field(self, pos: int, detail: str) -> SoqlError:
        return SoqlError.at("INVALID_FIELD", self.soql, pos, detail)

    def bad_literal(self, pos: int, detail: str) -> SoqlError:
        return SoqlError.at("MALFORMED_QUERY", self.soql, pos, detail)


def _quoted(field: FieldDef) -> str:
    """The field's column as a quoted SQL identifier (FieldDef guarantees it is a plain identifier),
    so a column named like an SQL keyword (Order, Group, ...) still works."""
    return f'"{field.column}"'


@dataclass(frozen=True)
class _Predicate:
    """One comparison as SQL, ready to render as itself or as its Salesforce-style negation.

    ``sql`` decides the rows whose ``column`` is not null (it may be NULL for
    the others); ``matches_null`` says whether a null field matches too.
    ``null_test`` marks SQL that is itself ``column IS NULL``.
    """

    column: str
    sql: str
    params: list[object]
    matches_null: bool = False
    null_test: bool = False
    negated: bool = False

    def negate(self) -> _Predicate:
        return replace(self, negated=not self.negated)

    def render(self, negated: bool) -> tuple[str, list[object]]:
        negated ^= self.negated
        if self.null_test:
            sql = f"{self.column} IS NOT NULL" if negated else self.sql
        elif not negated:
            sql = f"({self.column} IS NULL OR {self.sql})" if self.matches_null else self.sql
        elif self.matches_null:
            sql = f"({self.column} IS NOT NULL AND NOT ({self.sql}))"
        else:
            sql = f"({self.column} IS NULL OR NOT ({self.sql}))"
        return sql, list(self.params)

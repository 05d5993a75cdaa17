"""Schema descriptions the SOQL compiler works from.

The emulator's HTTP server owns the SQLite tables; it describes each sObject
with an :class:`ObjectDef` so the compiler can map SOQL API names onto SQLite
columns without ever taking a column or table name from query text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Field types the compiler understands, with the storage the server uses:
#: TEXT for id/string-like/date/datetime, INTEGER 0/1 for boolean, INTEGER for
#: int, REAL for double.
FIELD_TYPES = frozenset(
    {
        "id",
        "string",
        "textarea",
        "picklist",
        "combobox",
        "email",
        "phone",
        "reference",
        "boolean",
        "date",
        "datetime",
        "int",
        "double",
    }
)

# Table and column names are spliced into SQL text, so they must be plain
# identifiers; checking here keeps a bad schema from ever reaching SQLite.
_SQL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class FieldDef:
    """One sObject field: its API name, the SQLite column holding it, and its type."""

    name: str
    column: str
    type: str

    def __post_init__(self) -> None:
        if not _API_NAME.fullmatch(self.name):
            raise ValueError(f"invalid field API name {self.name!r}")
        if not _SQL_IDENTIFIER.fullmatch(self.column):
            raise ValueError(f"field {self.name}: column {self.column!r} is not a plain SQL identifier")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}; expected one of {sorted(FIELD_TYPES)}")


@dataclass(frozen=True)
class ObjectDef:
    """One sObject: API name, SQLite table and fields keyed by lower-cased API name."""

    name: str
    table: str
    fields: Mapping[str, FieldDef]

    def __post_init__(self) -> None:
        if not _API_NAME.fullmatch(self.name):
            raise ValueError(f"invalid sObject API name {self.name!r}")
        if not _SQL_IDENTIFIER.fullmatch(self.table):
            raise ValueError(f"sObject {self.name}: table {self.table!r} is not a plain SQL identifier")
        for key, field in self.fields.items():
            if key != field.name.lower():
                raise ValueError(
                    f"sObject {self.name}: field {field.name!r} is keyed as {key!r}, not its lower-cased name"
                )
        # Freeze a private copy so a caller mutating its dict cannot change a
        # definition that compiled queries may still refer to.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @classmethod
    def of(cls, name: str, table: str, fields: Iterable[FieldDef]) -> ObjectDef:
        """Build a definition from a list of fields, keying them as the compiler expects."""
        keyed: dict[str, FieldDef] = {}
        for field in fields:
            key = field.name.lower()
            if key in keyed:
                raise ValueError(f"sObject {name}: field {field.name!r} is defined twice")
            keyed[key] = field
        return cls(name=name, table=table, fields=keyed)

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (case-insensitive, as SOQL is), or None."""
        return self.fields.get(name.lower())

    def __hash__(self) -> int:
        return hash((self.name, self.table))

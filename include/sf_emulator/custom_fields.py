"""Custom fields as the org's admin left them: deleted, or with other settings and field-level security.

A real org's ``Sales_Connect_Id__c`` is made by hand in Setup, so it can be missing, lack the
External ID or Unique flag, or be hidden or read-only for the integration user. This keeps those
changes per org (in the store's meta, so a reset forgets them) and hands every part of the
emulator the *effective* schema: describe omits a field the user cannot see and reports its
flags, SOQL and writes naming a missing field get ``INVALID_FIELD``, an upsert on a field that is
not an External ID gets ``NOT_FOUND``, a write to a read-only one ``INVALID_FIELD_FOR_INSERT_UPDATE``.
As in Salesforce, only custom fields can be changed, and the stored values survive a
round trip (a deleted custom field can be undeleted with its data).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sf_emulator.schema import OBJECTS, FieldSpec, ObjectSchema
from sf_emulator.soql.objects import ObjectDef
from sf_emulator.storage import Store

_META_KEY = "custom_field_changes"
# What an admin can change, as FieldSpec attributes; "visible" is field-level read access.
ALTERABLE: Mapping[str, str] = MappingProxyType({
    "external_id": "external_id", "unique": "unique", "createable": "createable", "updateable": "updateable",
    "length": "length",
})


class FieldChangeError(ValueError):
    """A control-plane request to change a field that cannot be changed that way."""


class CustomFields:
    """One org's changes to custom fields, and the schemas they produce."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._changes: dict[str, dict[str, dict[str, Any]]] = json.loads(store.get_meta(_META_KEY) or "{}")
        self._cache: dict[str, ObjectSchema] = {}

    def describe(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The changes in force, by object and field API name."""
        with self._lock:
            return json.loads(json.dumps(self._changes))

    def change(self, object_name: str, field_name: str, changes: Mapping[str, Any]) -> None:
        """Delete (``{"deleted": true}``), hide (``{"visible": false}``) or re-flag a custom field;
        ``{"deleted": false}`` undeletes it. Changes add up until ``clear``."""
        schema = OBJECTS.get(object_name.lower())
        spec = schema.field(field_name) if schema else None
        if schema is None or spec is None:
            raise FieldChangeError(f"no field {field_name!r} on {object_name!r}")
        if not spec.custom:
            raise FieldChangeError(f"{spec.name} is a standard field: only custom fields can be changed")
        unknown = set(changes) - {*ALTERABLE, "deleted", "visible"}
        if unknown:
            raise FieldChangeError(f"cannot change {sorted(unknown)}; allowed: deleted, visible, {sorted(ALTERABLE)}")
        for key, value in changes.items():
            if key == "length":
                if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 255:
                    raise FieldChangeError("length must be a whole number from 1 to 255")
            elif not isinstance(value, bool):
                raise FieldChangeError(f"{key} must be true or false")
        with self._lock:
            self._changes.setdefault(schema.name, {}).setdefault(spec.name, {}).update(changes)
            self._store.set_meta(_META_KEY, json.dumps(self._changes))
            self._cache.clear()

    def clear(self) -> None:
        """Every custom field back as shipped (the store's meta is wiped by the caller or here)."""
        with self._lock:
            self._changes = {}
            self._store.set_meta(_META_KEY, "{}")
            self._cache.clear()

    def effective(self, schema: ObjectSchema) -> ObjectSchema:
        """``schema`` as the integration user sees it: the shipped object itself when nothing changed."""
        with self._lock:
            changes = self._changes.get(schema.name)
            if not changes:
                return schema
            cached = self._cache.get(schema.name)
            if cached is None:
                fields = tuple(f for f in (_changed(spec, changes.get(spec.name)) for spec in schema.field_list)
                               if f is not None)
                cached = self._cache[schema.name] = dataclasses.replace(schema, field_list=fields)
            return cached

    def soql_objects(self) -> Mapping[str, ObjectDef]:
        """What the SOQL compiler may name: every object with the fields the user can see."""
        return MappingProxyType({s.name: self.effective(s).soql for s in OBJECTS.values()})


def _changed(spec: FieldSpec, changes: Mapping[str, Any] | None) -> FieldSpec | None:
    if not changes:
        return spec
    if changes.get("deleted") or changes.get("visible") is False:
        return None
    return dataclasses.replace(spec, **{ALTERABLE[k]: v for k, v in changes.items() if k in ALTERABLE})

"""The sObjects the emulator serves (Task, User): fields, storage and describe metadata.

One `ObjectSchema` per sObject is the single source for three things that must
agree: the SQLite table (column per field, named after the API name), the
`ObjectDef` the SOQL compiler works from, and the `describe` JSON the clients
read (the Airflow hook derives date/datetime columns from it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from sf_emulator.soql.objects import FieldDef, ObjectDef
from sf_emulator.time_zones import TIME_ZONES

_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "double": "REAL"}
_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "date": "xsd:date",
    "datetime": "xsd:dateTime", "int": "xsd:int", "double": "xsd:double",
}


@dataclass(frozen=True)
class Picklist:
    values: tuple[str, ...]
    default: str | None = None
    restricted: bool = True


@dataclass(frozen=True)
class FieldSpec:
    """One field with the metadata `describe` reports and the write path enforces."""

    name: str
    label: str
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    picklist: Picklist | None = None
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES.get(self.type, "TEXT")

    def describe(self) -> dict:
        picklist_values = []
        if self.picklist:
            picklist_values = [
                {"active": True, "defaultValue": value == self.picklist.default, "label": value,
                 "validFor": None, "value": value}
                for value in self.picklist.values
            ]
        return {
            "aggregatable": self.type not in ("textarea",),
            "autoNumber": False,
            "byteLength": self.length * 3,
            "calculated": False,
            "caseSensitive": False,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "digits": 0,
            "externalId": self.external_id,
            "filterable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "double", "datetime"),
            "idLookup": self.type == "id" or self.external_id,
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": False,
            "nillable": self.nillable,
            "picklistValues": picklist_values,
            "precision": 0,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": bool(self.picklist and self.picklist.restricted),
            "scale": 0,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type != "textarea",
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
        }


@dataclass(frozen=True)
class ObjectSchema:
    """An sObject: API name, key prefix, SQLite table and its fields in describe order."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    table: str
    field_list: tuple[FieldSpec, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    replicateable: bool = True

    @cached_property
    def fields(self) -> Mapping[str, FieldSpec]:
        """Fields keyed by lower-cased API name (API names are case-insensitive)."""
        return MappingProxyType({f.name.lower(): f for f in self.field_list})

    def field(self, name: str) -> FieldSpec | None:
        return self.fields.get(name.lower())

    @cached_property
    def soql(self) -> ObjectDef:
        """The compiler's view: every field is a column of the same name."""
        return ObjectDef.of(self.name, self.table, (FieldDef(f.name, f.name, f.type) for f in self.field_list))

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "describe": f"{base}/describe",
            "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts",
            "sobject": base,
        }

    def summary(self, version: str) -> dict:
        """The entry `GET /sobjects` lists for this object."""
        return {
            "activateable": False, "createable": self.createable, "custom": False, "customSetting": False,
            "deletable": self.deletable, "deprecatedAndHidden": False, "feedEnabled": False,
            "hasSubtypes": False, "isSubtype": False, "keyPrefix": self.key_prefix, "label": self.label,
            "labelPlural": self.label_plural, "layoutable": True, "mergeable": False, "mruEnabled": True,
            "name": self.name, "queryable": True, "replicateable": self.replicateable, "retrieveable": True,
            "searchable": True, "triggerable": True, "undeletable": self.deletable, "updateable": self.updateable,
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict:
        return {
            **self.summary(version),
            "childRelationships": [],
            "fields": [f.describe() for f in self.field_list],
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All", "name": "everything"}, {"label": "Mine", "name": "mine"}],
        }


def _system_fields() -> tuple[FieldSpec, ...]:
    """Audit fields every sObject has; never writable through the API."""
    ro = {"createable": False, "updateable": False}
    return (
        FieldSpec("CreatedDate", "Created Date", "datetime", nillable=False, defaulted_on_create=True, **ro),
        FieldSpec("CreatedById", "Created By ID", "reference", 18, nillable=False, defaulted_on_create=True,
                  reference_to=("User",), relationship_name="CreatedBy", **ro),
        FieldSpec("LastModifiedDate", "Last Modified Date", "datetime", nillable=False, defaulted_on_create=True, **ro),
        FieldSpec("LastModifiedById", "Last Modified By ID", "reference", 18, nillable=False,
                  defaulted_on_create=True, reference_to=("User",), relationship_name="LastModifiedBy", **ro),
        FieldSpec("SystemModstamp", "System Modstamp", "datetime", nillable=False, defaulted_on_create=True, **ro),
    )


TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
CLOSED_STATUSES = frozenset({"Completed"})
TASK_PRIORITIES = ("High", "Normal", "Low")
HIGH_PRIORITIES = frozenset({"High"})
TASK_TYPES = ("Call", "Email", "Meeting", "Other")
TASK_SUBTYPES = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")

_RO = {"createable": False, "updateable": False}

TASK = ObjectSchema(
    name="Task",
    label="Task",
    label_plural="Tasks",
    key_prefix="00T",
    table="task",
    field_list=(
        FieldSpec("Id", "Activity ID", "id", 18, nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("WhoId", "Name ID", "reference", 18, reference_to=("Contact", "Lead"), relationship_name="Who"),
        FieldSpec("WhatId", "Related To ID", "reference", 18, reference_to=("Account", "Opportunity"),
                  relationship_name="What"),
        FieldSpec("Subject", "Subject", "combobox", 255,
                  picklist=Picklist(("Call", "Send Letter", "Send Quote", "Other"), restricted=False)),
        FieldSpec("ActivityDate", "Due Date Only", "date"),
        FieldSpec("Status", "Status", "picklist", 255, nillable=False, defaulted_on_create=True,
                  picklist=Picklist(TASK_STATUSES, default="Not Started")),
        FieldSpec("Priority", "Priority", "picklist", 255, nillable=False, defaulted_on_create=True,
                  picklist=Picklist(TASK_PRIORITIES, default="Normal")),
        FieldSpec("IsHighPriority", "High Priority", "boolean", nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("OwnerId", "Assigned To ID", "reference", 18, nillable=False, defaulted_on_create=True,
                  reference_to=("User",), relationship_name="Owner"),
        FieldSpec("Description", "Description", "textarea", 32000),
        FieldSpec("Type", "Type", "picklist", 255, picklist=Picklist(TASK_TYPES, restricted=False)),
        FieldSpec("IsDeleted", "Deleted", "boolean", nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("IsClosed", "Closed", "boolean", nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("IsArchived", "Archived", "boolean", nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("CompletedDateTime", "Completed Date/Time", "datetime", **_RO),
        FieldSpec("ReminderDateTime", "Reminder Date/Time", "datetime"),
        FieldSpec("IsReminderSet", "Reminder Set", "boolean", nillable=False, defaulted_on_create=True),
        FieldSpec("TaskSubtype", "Task Subtype", "picklist", 40, updateable=False,
                  picklist=Picklist(TASK_SUBTYPES)),
        FieldSpec("IsRecurrence", "Create Recurring Series of Tasks", "boolean", nillable=False,
                  defaulted_on_create=True, updateable=False),
        FieldSpec("RecurrenceActivityId", "Recurrence Activity ID", "reference", 18, reference_to=("Task",),
                  **_RO),
        *_system_fields(),
        FieldSpec("Sales_Connect_Id__c", "Sales Connect Id", "string", 64, external_id=True, unique=True,
                  custom=True),
    ),
)

USER = ObjectSchema(
    name="User",
    label="User",
    label_plural="Users",
    key_prefix="005",
    table="sf_user",
    createable=False,
    updateable=False,
    deletable=False,
    field_list=(
        FieldSpec("Id", "User ID", "id", 18, nillable=False, defaulted_on_create=True, **_RO),
        FieldSpec("Username", "Username", "string", 80, nillable=False, unique=True),
        FieldSpec("LastName", "Last Name", "string", 80, nillable=False),
        FieldSpec("FirstName", "First Name", "string", 40),
        FieldSpec("Name", "Full Name", "string", 121, nillable=False, **_RO),
        FieldSpec("Alias", "Alias", "string", 8, nillable=False),
        FieldSpec("Email", "Email", "email", 128, nillable=False),
        FieldSpec("IsActive", "Active", "boolean", nillable=False, defaulted_on_create=True),
        FieldSpec("TimeZoneSidKey", "Time Zone", "picklist", 40, nillable=False,
                  picklist=Picklist(TIME_ZONES)),
        *_system_fields(),
    ),
)

OBJECTS: Mapping[str, ObjectSchema] = MappingProxyType({s.name.lower(): s for s in (TASK, USER)})
SOQL_OBJECTS: Mapping[str, ObjectDef] = MappingProxyType({s.name: s.soql for s in (TASK, USER)})


def object_schema(name: str) -> ObjectSchema | None:
    """The schema for an sObject API name (case-insensitive), or None if the emulator has no such object."""
    return OBJECTS.get(name.lower())


def object_for_id(record_id: str) -> ObjectSchema | None:
    """Which object an id belongs to, by its 3-character key prefix."""
    for schema in OBJECTS.values():
        if record_id.startswith(schema.key_prefix):
            return schema
    return None

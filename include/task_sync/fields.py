"""The field mapping between Salesforce ``Task`` and Sales Connect ``Task``: the one place it lives.

Both sides are reduced to the same seven *canonical* fields. Each side keeps its own
vocabulary in its canonical form (Salesforce words on the Salesforce side, Sales Connect
words on the Sales Connect side); all canonical values are JSON-safe strings or ``None`` so
they can be stored in ``TaskLink.sf_values`` / ``TaskLink.sc_values`` and hashed stably.

=============  ======================================  ===========================  ============================
canonical      Salesforce Task                          Sales Connect Task           canonical form
=============  ======================================  ===========================  ============================
subject        Subject (combobox 255)                   subject (text)               str; "" and null -> None
description    Description (textarea 32000)             description                  str; "" and null -> None
due_date       ActivityDate (date)                      due_date (date)              "YYYY-MM-DD" or None
status         Status (5 picklist words)                status (open/completed)      that side's word
priority       Priority (High/Normal/Low)               priority (high/normal/low)   that side's word
task_type      Type (Call/Email/Meeting/Other/null)     task_type (5 words/null)     that side's word or None
reminder_at    ReminderDateTime if IsReminderSet        reminder_at (UTC)            "YYYY-MM-DDTHH:MM:SSZ"/None
=============  ======================================  ===========================  ============================

Vocabulary (Salesforce -> Sales Connect, and back):

- Status: ``Completed`` <-> ``completed``. ``Not Started``, ``In Progress``, ``Waiting on someone
  else`` and ``Deferred`` all mean ``open``. Sending ``open`` to Salesforce uses the last open word
  Salesforce itself had for the task (kept as ``open_status`` in ``TaskLink.sf_values``, outside
  the hash), else ``Not Started`` -- so re-opening a task that was "In Progress" restores that.
- Priority: ``High/Normal/Low`` <-> ``high/normal/low`` (a bijection).
- Type: ``Call/Email/Meeting/Other`` <-> ``call/email/meeting/other``; Sales Connect's ``todo``
  has no Salesforce word and is sent as no Type (a plain Salesforce task is a to-do); a null
  Salesforce Type arrives as no task_type.

Why it is lossless: writes only carry the fields whose value changed on the *source* side
since the last agreed state (compared with the link's stored values), and a
value that maps to what the target already has is not sent. So an edit to the subject in
Sales Connect never touches Salesforce's "In Progress", and a Salesforce move from
"Not Started" to "In Progress" never touches Sales Connect. Fields only one side has
(Salesforce's WhoId/WhatId, TaskSubtype, ...; Sales Connect's own columns) are never read
or written on the other side. ``completed_at`` is derived (Salesforce sets CompletedDateTime
itself), so it is not a canonical field; ``sc_payload`` fills it when status changes.

Reminders are compared at whole seconds (Salesforce keeps milliseconds, Sales Connect
microseconds), so a value does not look changed just because a side rounded it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from sales_connect import limits
from sales_connect.models import TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES

MAPPED_FIELDS: tuple[str, ...] = (
    "subject",
    "description",
    "due_date",
    "status",
    "priority",
    "task_type",
    "reminder_at",
)

# Salesforce vocabulary (Object Reference: Task, TaskStatus, TaskPriority).
SF_STATUSES: tuple[str, ...] = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
SF_COMPLETED = "Completed"
SF_DEFAULT_OPEN = "Not Started"
SF_PRIORITIES: tuple[str, ...] = ("High", "Normal", "Low")
SF_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Other")

SC_OPEN, SC_COMPLETED = TASK_STATUSES
SC_STATUSES, SC_PRIORITIES, SC_TYPES = TASK_STATUSES, TASK_PRIORITIES, TASK_TYPES

SF_TO_SC_PRIORITY: dict[str, str] = {"High": "high", "Normal": "normal", "Low": "low"}
SC_TO_SF_PRIORITY: dict[str, str] = {sc: sf for sf, sc in SF_TO_SC_PRIORITY.items()}
SF_TO_SC_TYPE: dict[str, str] = {"Call": "call", "Email": "email", "Meeting": "meeting", "Other": "other"}
SC_TO_SF_TYPE: dict[str, str | None] = {**{sc: sf for sf, sc in SF_TO_SC_TYPE.items()}, "todo": None}

# Salesforce API names of the canonical fields (reminder_at writes two fields, see sf_payload).
SF_API_FIELD: dict[str, str] = {
    "subject": "Subject",
    "description": "Description",
    "due_date": "ActivityDate",
    "status": "Status",
    "priority": "Priority",
    "task_type": "Type",
    "reminder_at": "ReminderDateTime",
}
EXTERNAL_ID_FIELD = "Sales_Connect_Id__c"
# What the sync reads from Salesforce: the mapped fields plus what the diff needs to decide.
SF_SELECT_FIELDS: tuple[str, ...] = (
    "Id",
    "OwnerId",
    "Subject",
    "Description",
    "ActivityDate",
    "Status",
    "Priority",
    "Type",
    "ReminderDateTime",
    "IsReminderSet",
    "IsClosed",
    "CompletedDateTime",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "IsDeleted",
    EXTERNAL_ID_FIELD,
)
# Salesforce's Task limits, the same ones a rep's input is checked against when typed.
SUBJECT_MAX, DESCRIPTION_MAX = limits.SUBJECT_MAX, limits.DESCRIPTION_MAX

# Kept in TaskLink.sf_values beside the canonical fields, never hashed.
OPEN_STATUS_KEY = "open_status"


def na_to_none(series: pd.Series) -> pd.Series:
    """An object Series whose missing values (NaN, NaT, pd.NA) are ``None``, for JSON and dicts."""
    return series.astype(object).where(series.notna(), None)


def canonical_text(series: pd.Series) -> pd.Series:
    """Text as stored canonically: empty and missing both become None (Salesforce returns null for "")."""
    out = na_to_none(series)
    return out.where(out.map(lambda v: isinstance(v, str) and v != ""), None)


def canonical_date(series: pd.Series) -> pd.Series:
    """Parsed dates (datetime64) -> "YYYY-MM-DD" strings or None."""
    return na_to_none(series.dt.strftime("%Y-%m-%d"))


def canonical_datetime(series: pd.Series) -> pd.Series:
    """Parsed UTC datetimes (datetime64[UTC]) -> "YYYY-MM-DDTHH:MM:SSZ" (floored to the second) or None."""
    return na_to_none(series.dt.floor("s").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def content_hash(values: Mapping[str, Any]) -> str:
    """sha256 over the canonical mapped fields, in a fixed order; extra keys (open_status) are ignored."""
    payload = json.dumps([values.get(f) for f in MAPPED_FIELDS], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_frame(canonical: pd.DataFrame) -> pd.Series:
    """``content_hash`` of every row of a frame holding the canonical columns."""
    columns = [na_to_none(canonical[f]).tolist() for f in MAPPED_FIELDS]
    hashes = [
        hashlib.sha256(json.dumps(list(row), separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest()
        for row in zip(*columns, strict=True)
    ]
    return pd.Series(hashes, index=canonical.index, dtype=object)


def sf_to_sc_frame(sf: pd.DataFrame) -> pd.DataFrame:
    """Canonical Salesforce values -> canonical Sales Connect values (column-wise)."""
    out = sf[list(MAPPED_FIELDS)].copy()
    out["status"] = na_to_none(sf["status"]).map(lambda s: SC_COMPLETED if s == SF_COMPLETED else SC_OPEN)
    out["priority"] = na_to_none(sf["priority"].map(SF_TO_SC_PRIORITY))
    out["task_type"] = na_to_none(sf["task_type"].map(SF_TO_SC_TYPE))
    return out


def sc_to_sf_frame(sc: pd.DataFrame, known_sf_status: pd.Series) -> pd.DataFrame:
    """Canonical Sales Connect values -> canonical Salesforce values (column-wise).

    ``known_sf_status`` is, per row, the Salesforce open word to use for ``open`` (the last open
    status Salesforce had, or None for "Not Started").
    """
    out = sc[list(MAPPED_FIELDS)].copy()
    open_words = [o if o in SF_STATUSES and o != SF_COMPLETED else SF_DEFAULT_OPEN for o in known_sf_status]
    out["status"] = [
        SF_COMPLETED if s == SC_COMPLETED else o for s, o in zip(sc["status"], open_words, strict=True)
    ]
    out["priority"] = na_to_none(sc["priority"].map(SC_TO_SF_PRIORITY))
    out["task_type"] = na_to_none(sc["task_type"].map(SC_TO_SF_TYPE))
    return out


def open_status_of(sf_values: Mapping[str, Any] | None) -> str | None:
    """The Salesforce open word last seen for a task: its status if open, else the remembered one."""
    if not sf_values:
        return None
    status = sf_values.get("status")
    if status in SF_STATUSES and status != SF_COMPLETED:
        return status
    return sf_values.get(OPEN_STATUS_KEY)


def link_sf_values(values: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """What to store in ``TaskLink.sf_values``: the canonical fields plus the remembered open word."""
    stored = {f: values.get(f) for f in MAPPED_FIELDS}
    open_word = open_status_of(stored) or open_status_of(previous)
    if open_word:
        stored[OPEN_STATUS_KEY] = open_word
    return stored


def sf_payload(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The Salesforce API body for the given canonical fields of canonical Salesforce ``values``.

    A reminder is two API fields: setting one sets ``IsReminderSet``; clearing it unsets the flag.
    """
    body: dict[str, Any] = {}
    for field in fields:
        value = values.get(field)
        if field == "reminder_at":
            body["ReminderDateTime"] = value
            body["IsReminderSet"] = value is not None
        else:
            body[SF_API_FIELD[field]] = value
    return body


def sc_payload(
    values: Mapping[str, Any], fields: Iterable[str], completed_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The Sales Connect column values (typed) for the given canonical fields.

    When ``status`` is among them, ``completed_at`` goes with it: the given moment (Salesforce's
    CompletedDateTime) for ``completed``, None when the task is re-opened.
    """
    row: dict[str, Any] = {}
    for field in fields:
        value = values.get(field)
        if field == "due_date":
            row[field] = dt.date.fromisoformat(value) if value else None
        elif field == "reminder_at":
            row[field] = dt.datetime.fromisoformat(value) if value else None
        elif field == "subject":
            row[field] = value or ""  # the Sales Connect column is NOT NULL
        else:
            row[field] = value
        if field == "status":
            row["completed_at"] = completed_at if value == SC_COMPLETED else None
    return row

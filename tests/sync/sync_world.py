"""Builders for diff inputs: Salesforce rows as the REST API returns them, Sales Connect task rows,
links and users -- so each test states only what its rule is about."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from task_sync import fields
from task_sync.diff import SyncInput, SyncPlan, build_plan

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ENABLED_AT = NOW - dt.timedelta(days=2)
NAMESPACE = "sc-test"


def sf_id(n: int) -> str:
    return f"00T{n:015d}"


def owner_id(n: int) -> str:
    return f"005{n:015d}"


def sf_time(value: dt.datetime) -> str:
    """Salesforce's own datetime format."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


SF_DEFAULTS: dict[str, Any] = {
    "Subject": "Call Bob",
    "Description": None,
    "ActivityDate": "2026-11-26",
    "Status": "Not Started",
    "Priority": "Normal",
    "Type": "Call",
    "ReminderDateTime": None,
    "IsReminderSet": False,
    "IsClosed": False,
    "CompletedDateTime": None,
    "IsDeleted": False,
    "Sales_Connect_Id__c": None,
}
SC_DEFAULTS: dict[str, Any] = {
    "subject": "Call Bob",
    "description": None,
    "due_date": dt.date(2026, 11, 26),
    "priority": "normal",
    "status": "open",
    "task_type": "call",
    "reminder_at": None,
    "completed_at": None,
    "deleted_at": None,
    "version": 1,
    "changed_by": "user",
}
# The canonical values of the two defaults above (what a link stores once they agree).
AGREED_SF = {"subject": "Call Bob", "description": None, "due_date": "2026-11-26", "status": "Not Started",
             "priority": "Normal", "task_type": "Call", "reminder_at": None}
AGREED_SC = {"subject": "Call Bob", "description": None, "due_date": "2026-11-26", "status": "open",
             "priority": "normal", "task_type": "call", "reminder_at": None}


class World:
    """Accumulates one run's inputs; ``plan()`` runs the diff on them."""

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self.sf: list[dict[str, Any]] = []
        self.sc: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.deleted: list[dict[str, Any]] = []

    def user(self, user_id: int = 1, enabled: bool = True, enabled_at: dt.datetime = ENABLED_AT) -> str:
        self.users.append({"user_id": user_id, "sf_owner_id": owner_id(user_id), "sync_enabled": enabled,
                           "enabled_at": enabled_at})
        return owner_id(user_id)

    def sf_task(self, n: int, owner: int = 1, modified: dt.datetime = NOW - dt.timedelta(hours=1),
                **overrides: Any) -> dict[str, Any]:
        record = {"attributes": {"type": "Task"}, "Id": sf_id(n), "OwnerId": owner_id(owner), **SF_DEFAULTS,
                  "CreatedDate": sf_time(modified - dt.timedelta(hours=1)), "LastModifiedDate": sf_time(modified),
                  "SystemModstamp": sf_time(modified), **overrides}
        self.sf.append(record)
        return record

    def sc_task(self, task_id: int, user_id: int = 1, seq: int = 10, created: dt.datetime = NOW - dt.timedelta(hours=3),
                updated: dt.datetime = NOW - dt.timedelta(hours=1), **overrides: Any) -> dict[str, Any]:
        row = {"task_id": task_id, "user_id": user_id, **SC_DEFAULTS, "created_at": created, "updated_at": updated,
               "change_seq": seq, **overrides}
        self.sc.append(row)
        return row

    def link(self, task_id: int, n: int, user_id: int = 1, sf_modstamp: dt.datetime = NOW - dt.timedelta(hours=2),
             sc_seq: int = 5, sf_values: dict[str, Any] | None = None,
             sc_values: dict[str, Any] | None = None) -> dict[str, Any]:
        sf_values = dict(AGREED_SF if sf_values is None else sf_values)
        sc_values = dict(AGREED_SC if sc_values is None else sc_values)
        row = {"task_id": task_id, "user_id": user_id, "sf_id": sf_id(n), "origin": "salesforce",
               "sf_modstamp": sf_modstamp, "sf_values": sf_values, "sf_hash": fields.content_hash(sf_values),
               "sc_seq": sc_seq, "sc_values": sc_values, "sc_hash": fields.content_hash(sc_values)}
        self.links.append(row)
        return row

    def sf_gone(self, n: int, when: dt.datetime = NOW - dt.timedelta(minutes=30)) -> None:
        self.deleted.append({"sf_id": sf_id(n), "deleted_at": sf_time(when)})

    def plan(self) -> SyncPlan:
        return build_plan(SyncInput(
            sf_changes=pd.DataFrame(self.sf),
            sc_changes=pd.DataFrame(self.sc),
            links=pd.DataFrame(self.links),
            users=pd.DataFrame(self.users),
            sf_deleted=pd.DataFrame(self.deleted, columns=["sf_id", "deleted_at"]),
            external_id_namespace=NAMESPACE,
        ))


def ext_id(task_id: int) -> str:
    """``Sales_Connect_Id__c`` of a task this installation pushed."""
    return f"{NAMESPACE}:{task_id}"


def only(frame: pd.DataFrame) -> dict[str, Any]:
    """The single row of a plan frame, as a dict (fails loudly if there is not exactly one)."""
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()

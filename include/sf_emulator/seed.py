"""Seeding the org: the default users, JSON seed documents and fast bulk task generation.

A seed document (the body of `POST /_emulator/seed`, or a `--seed FILE.json`):

    {"users": [{"Username": "...", "FirstName": "...", "LastName": "...", "Email": "...",
                "IsActive": true, "TimeZoneSidKey": "Europe/Berlin",
                "password": "...", "security_token": "..."}],
     "tasks": [{"Subject": "...", "OwnerId": "005...", "CreatedDate": "...", "SystemModstamp": "...",
                "IsDeleted": true, "DeletedDate": "...", "client": "..."}],
     "generate_tasks": {"count": 100000, "owner_ids": ["005..."], "modstamp_from": "...",
                        "modstamp_to": "...", "subject_prefix": "Generated task"}}

Seeded rows may carry system and read-only fields (CreatedDate, SystemModstamp,
IsDeleted, IsArchived, CompletedDateTime, ...) so tests can build any history;
values still go through the API's type checks and picklist/length rules.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sf_emulator.org import Emulator
from sf_emulator.records import CallContext
from sf_emulator.schema import CLOSED_STATUSES, TASK, USER
from sf_emulator.sessions import hash_secret
from sf_emulator.wire import ApiError, parse_datetime, to_storage

DEFAULT_PASSWORD = "emulator-password"
DEFAULT_SECURITY_TOKEN = "EMULATORTOKEN"

#: The org's integration user: owns the start-up session and is always present.
API_USER = {
    "Username": "integration@salesconnect.example", "FirstName": "Integration", "LastName": "User",
    "Email": "integration@salesconnect.example", "Alias": "integ", "TimeZoneSidKey": "GMT",
}
DEFAULT_USERS = (
    {"Username": "ava.reyes@salesconnect.example", "FirstName": "Ava", "LastName": "Reyes",
     "Email": "ava.reyes@salesconnect.example", "Alias": "areyes", "TimeZoneSidKey": "America/New_York"},
    {"Username": "ben.okafor@salesconnect.example", "FirstName": "Ben", "LastName": "Okafor",
     "Email": "ben.okafor@salesconnect.example", "Alias": "bokafor", "TimeZoneSidKey": "Europe/London"},
    {"Username": "chloe.martin@salesconnect.example", "FirstName": "Chloe", "LastName": "Martin",
     "Email": "chloe.martin@salesconnect.example", "Alias": "cmartin", "TimeZoneSidKey": "Europe/Berlin"},
    {"Username": "dan.former@salesconnect.example", "FirstName": "Dan", "LastName": "Former",
     "Email": "dan.former@salesconnect.example", "Alias": "dformer", "TimeZoneSidKey": "America/Los_Angeles",
     "IsActive": False},
)
_CONTROL_KEYS_USER = ("password", "security_token")
_CONTROL_KEYS_TASK = ("DeletedDate", "client")


class SeedError(ValueError):
    """A seed document the emulator cannot load; the message says which entry and why."""


def load_seed_argument(value: str) -> dict:
    """The document for `--seed default|empty|FILE.json` (applied after the base users)."""
    if value in ("default", "empty"):
        return {}
    path = Path(value)
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SeedError(f"seed file {path} must hold a JSON object")
    return document


def seed_base(emulator: Emulator, *, with_default_users: bool) -> None:
    """The integration user (always) and, for the default org, a few reps (one of them inactive)."""
    users = [API_USER, *(DEFAULT_USERS if with_default_users else ())]
    ids = apply_seed(emulator, {"users": users})["users"]
    emulator.store.set_meta("api_user_id", ids[0])


def apply_seed(emulator: Emulator, document: dict) -> dict:
    """Load a seed document in one transaction; returns the ids created."""
    unknown = set(document) - {"users", "tasks", "generate_tasks"}
    if unknown:
        raise SeedError(f"unknown seed keys: {sorted(unknown)}; expected users, tasks, generate_tasks")
    created: dict[str, Any] = {"users": [], "tasks": [], "generated": 0}
    users = list(document.get("users", []))
    acting_user = emulator.api_user_id
    if acting_user is None and users and isinstance(users[0], dict):
        # The org's first user is created by itself (there is nobody else yet).
        acting_user = users[0].get("Id") or emulator.records.new_ids(USER)[0]
        users[0] = {**users[0], "Id": acting_user}
    ctx = emulator.context(acting_user or "", "emulator-seed")
    with emulator.store.transaction() as conn:
        for n, user in enumerate(users):
            created["users"].append(_seed_row(emulator, conn, USER, user, ctx, f"users[{n}]"))
        for n, task in enumerate(document.get("tasks", [])):
            created["tasks"].append(_seed_row(emulator, conn, TASK, task, ctx, f"tasks[{n}]"))
        if "generate_tasks" in document:
            created["generated"] = _generate_tasks(emulator, conn, document["generate_tasks"], ctx)
    return created


def _seed_row(emulator: Emulator, conn: Any, schema: Any, entry: Any, ctx: CallContext, where: str) -> str:
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: expected a JSON object")
    fields = dict(entry)
    extras = {key: fields.pop(key) for key in (*_CONTROL_KEYS_USER, *_CONTROL_KEYS_TASK) if key in fields}
    try:
        values = emulator.records.deserialize(schema, fields)
        bookkeeping: dict[str, Any] = {}
        if schema is USER:
            values.setdefault("Alias", (values.get("LastName") or "user")[:8].lower())
            values.setdefault("TimeZoneSidKey", "America/Los_Angeles")
            bookkeeping["emu_password_hash"] = hash_secret(extras.get("password", DEFAULT_PASSWORD))
            bookkeeping["emu_security_token"] = extras.get("security_token", DEFAULT_SECURITY_TOKEN)
        # A history given in part is completed the way it would have happened: modified when
        # created, stamped when modified, completed when last modified.
        if "CreatedDate" in values:
            values.setdefault("LastModifiedDate", values["CreatedDate"])
        if "LastModifiedDate" in values:
            values.setdefault("SystemModstamp", values["LastModifiedDate"])
        if schema is TASK and values.get("Status") in CLOSED_STATUSES and values.get("LastModifiedDate"):
            values.setdefault("CompletedDateTime", values["LastModifiedDate"])
        if schema is TASK and extras.get("DeletedDate"):
            bookkeeping["emu_deleted_at"] = to_storage(parse_datetime(str(extras["DeletedDate"])))
        seed_ctx = CallContext(ctx.user_id, extras.get("client", ctx.client), ctx.now)
        return emulator.records.create(conn, schema, values, seed_ctx, trusted=True, bookkeeping=bookkeeping)
    except ApiError as exc:
        raise SeedError(f"{where}: {exc.error_code}: {exc.message}") from None
    except ValueError as exc:
        raise SeedError(f"{where}: {exc}") from None


def _generate_tasks(emulator: Emulator, conn: Any, spec: Any, ctx: CallContext) -> int:
    """Insert `count` plain open tasks fast (one executemany), stamps spread over a window.

    Meant for volume tests and the benchmark: rows are valid Tasks but skip
    the per-row validation path.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("count"), int) or spec["count"] < 0:
        raise SeedError("generate_tasks: needs {'count': <non-negative int>, ...}")
    count = spec["count"]
    if count == 0:
        return 0
    try:
        end = parse_datetime(spec["modstamp_to"]) if spec.get("modstamp_to") else ctx.now
        start = parse_datetime(spec["modstamp_from"]) if spec.get("modstamp_from") else end - timedelta(days=1)
    except ValueError as exc:
        raise SeedError(f"generate_tasks: {exc}") from None
    active = [r["Id"] for r in conn.execute("SELECT Id FROM sf_user WHERE IsActive = 1 ORDER BY Id")]
    owners = spec.get("owner_ids") or active
    if not owners:
        raise SeedError("generate_tasks: the org has no active users to own the tasks")
    unknown = sorted(set(map(str, owners)) - set(active))
    if unknown:
        raise SeedError(f"generate_tasks: owner_ids must be active users; not: {', '.join(unknown)}")
    prefix = str(spec.get("subject_prefix", "Generated task"))
    ids = emulator.records.new_ids(TASK, count)
    step = (end - start) / count
    rows = (_generated_row(ids[i], owners[i % len(owners)], f"{prefix} {i + 1}", start + step * i, ctx)
            for i in range(count))
    conn.executemany(
        'INSERT INTO task (Id, OwnerId, Subject, Status, Priority, IsHighPriority, IsDeleted, IsClosed, IsArchived,'
        ' IsReminderSet, IsRecurrence, ActivityDate, CreatedDate, CreatedById, LastModifiedDate, LastModifiedById,'
        ' SystemModstamp, emu_last_client) VALUES (?, ?, ?, \'Not Started\', \'Normal\', 0, 0, 0, 0, 0, 0,'
        ' ?, ?, ?, ?, ?, ?, ?)', rows)
    return count


def _generated_row(task_id: str, owner: str, subject: str, stamp: datetime, ctx: CallContext) -> tuple:
    text = to_storage(stamp)
    due = (stamp + timedelta(days=7)).date().isoformat()
    return (task_id, owner, subject, due, text, ctx.user_id, text, ctx.user_id, text, ctx.client)

"""SQLite storage for the emulated org: one table per sObject plus bookkeeping tables.

Every field is a column named after its API name (see `schema.py`); the
emulator's own per-row bookkeeping uses `emu_`-prefixed columns that no API
exposes. All access goes through `Store.transaction()`, which serialises
writers with a lock so route handlers, the control plane and background work
(e.g. Bulk jobs) can share one connection safely.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sf_emulator.schema import OBJECTS, TASK, USER, ObjectSchema

# Per-row bookkeeping the API never shows (exposed by the control plane only).
_EXTRA_COLUMNS = {
    TASK.table: ("emu_deleted_at TEXT", "emu_last_client TEXT"),
    USER.table: ("emu_password_hash TEXT", "emu_security_token TEXT"),
}

# The sync's queries filter/sort on these; without them a million-row org
# turns every poll into a full scan. SOQL compares strings case-insensitively
# (the compiler emits COLLATE NOCASE), so the external-id index is NOCASE too.
# The recycle-bin index is partial: an index on IsDeleted alone would be
# picked for every `IsDeleted = 0` filter and make queries scan the whole table.
_INDEXES = (
    "DROP INDEX IF EXISTS task_deleted",
    "DROP INDEX IF EXISTS task_sales_connect_id",
    "CREATE INDEX IF NOT EXISTS task_modstamp ON task (SystemModstamp)",
    "CREATE INDEX IF NOT EXISTS task_owner_modstamp ON task (OwnerId, SystemModstamp)",
    "CREATE INDEX IF NOT EXISTS task_lastmodified ON task (LastModifiedDate)",
    "CREATE INDEX IF NOT EXISTS task_ext_id_nocase ON task (Sales_Connect_Id__c COLLATE NOCASE)",
    "CREATE INDEX IF NOT EXISTS task_recycle_bin ON task (emu_deleted_at) WHERE IsDeleted = 1",
    "CREATE INDEX IF NOT EXISTS task_archive_scan ON task (IsClosed, IsArchived, ActivityDate)",
    "CREATE INDEX IF NOT EXISTS user_username ON sf_user (Username COLLATE NOCASE)",
)

_BOOKKEEPING = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS session (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, issued_at TEXT NOT NULL)",
    # OAuth refresh tokens (a user's approval of the connected app), and which access tokens each one issued.
    "CREATE TABLE IF NOT EXISTS refresh_token (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, issued_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS refreshed_session (access_token TEXT PRIMARY KEY, refresh_token TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS api_call (minute TEXT NOT NULL, family TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (minute, family))",
)


def _create_table_sql(schema: ObjectSchema) -> str:
    columns = [
        f'"{f.name}" {f.sql_type}' + (" PRIMARY KEY" if f.type == "id" else "") for f in schema.field_list
    ]
    columns.extend(_EXTRA_COLUMNS.get(schema.table, ()))
    return f"CREATE TABLE IF NOT EXISTS {schema.table} ({', '.join(columns)})"


#: Set while one request holds the store across the subrequests it dispatches (a Composite call with
#: allOrNone): those subrequests run on other threads but share its transaction instead of waiting for it.
_holder: ContextVar[object | None] = ContextVar("sf_emulator_store_holder", default=None)


class _HolderLock:
    """A re-entrant lock owned by the context's holder token when one is set, else by the thread."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._owner: object | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = _holder.get() or threading.get_ident()
        with self._free:
            while self._owner is not None and self._owner != me:
                self._free.wait()
            self._owner = me
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._free:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._free.notify_all()


class Store:
    """The org's SQLite database (a file, or ':memory:')."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = _HolderLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA cache_size=-65536")
        with self.transaction() as conn:
            for schema in OBJECTS.values():
                conn.execute(_create_table_sql(schema))
            for statement in (*_BOOKKEEPING, *_INDEXES):
                conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls become savepoints of the outer transaction."""
        with self._lock:
            if self._conn.in_transaction:
                name = f"sp_{threading.get_ident()}_{id(object())}"
                self._conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                self._conn.execute(f"RELEASE {name}")
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def held(self) -> Iterator[sqlite3.Connection]:
        """One transaction shared by everything this context runs, on any thread, until it ends.

        Code that runs in the context (and threads started from it, which copy the context) enters
        the store as its holder; anything else waits. Raising inside rolls all of it back.
        """
        reset = _holder.set(object())
        try:
            with self.transaction() as conn:
                yield conn
        finally:
            _holder.reset(reset)

    def read(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        """Run one read-only statement under the lock."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def next_sequence(self, name: str, count: int = 1) -> int:
        """Reserve `count` consecutive numbers of a named sequence; returns the first."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"seq:{name}",)).fetchone()
            first = int(row["value"]) if row else 1
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f"seq:{name}", str(first + count)),
            )
            return first

    def wipe(self) -> None:
        """Delete every record and all bookkeeping except sessions: an empty org.

        Sessions survive so the session id a test harness got at start keeps
        working after a reset (the default users are re-created with the same ids).
        """
        with self.transaction() as conn:
            for schema in OBJECTS.values():
                conn.execute(f"DELETE FROM {schema.table}")  # noqa: S608 - table names come from schema.py
            for table in ("meta", "api_call"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        with self._lock:
            self._conn.close()

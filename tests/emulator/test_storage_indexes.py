"""The sync's queries run on indexes, so a million-task org answers without full scans.

Checked with SQLite's own query plan for the SQL the emulator runs (no timing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sf_emulator.schema import SOQL_OBJECTS
from sf_emulator.soql import compile_soql
from sf_emulator.storage import Store

OWNER = "0055e0000000002AAA"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "org.sqlite3")
    yield store
    store.close()


def _plan(store: Store, sql: str, params: list) -> str:
    return " / ".join(row[3] for row in store.read(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(
    ("soql", "index"),
    [
        ("SELECT Id FROM Task WHERE SystemModstamp >= 2024-05-01T00:00:00Z", "task_modstamp"),
        ("SELECT Id FROM Task WHERE SystemModstamp >= 2024-05-01T00:00:00Z ORDER BY SystemModstamp", "task_modstamp"),
        (f"SELECT Id FROM Task WHERE OwnerId = '{OWNER}' AND SystemModstamp > 2024-05-01T00:00:00Z",
         "task_owner_modstamp"),
        ("SELECT Id FROM Task WHERE LastModifiedDate > 2024-05-01T00:00:00Z", "task_lastmodified"),
        ("SELECT Id FROM Task WHERE Sales_Connect_Id__c IN ('a', 'b')", "task_ext_id_nocase"),
    ],
)
def test_sync_queries_use_an_index(store: Store, soql: str, index: str) -> None:
    for include_deleted in (False, True):
        compiled = compile_soql(soql, SOQL_OBJECTS, now=datetime.now(UTC), include_deleted=include_deleted)
        order = f"ORDER BY {compiled.order_sql}, rowid" if compiled.order_sql else ""
        plan = _plan(store, f"SELECT rowid FROM task WHERE {compiled.where_sql} {order}", compiled.params)
        assert re.search(rf"USING (COVERING )?INDEX {index}\b", plan) and "TEMP B-TREE" not in plan, plan


def test_replication_and_upsert_lookups_use_an_index(store: Store) -> None:
    deleted = _plan(store, "SELECT Id FROM task WHERE IsDeleted = 1 AND emu_deleted_at >= ? AND emu_deleted_at < ?",
                    ["a", "b"])
    assert re.search(r"USING (COVERING )?INDEX task_recycle_bin\b", deleted), deleted
    upsert = _plan(store, 'SELECT Id FROM task WHERE "Sales_Connect_Id__c" COLLATE NOCASE = ? AND IsDeleted = 0',
                   ["x"])
    assert re.search(r"USING (COVERING )?INDEX task_ext_id_nocase\b", upsert), upsert

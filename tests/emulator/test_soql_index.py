"""A polling query over a million Tasks is answered through an index, not a full table scan."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sf_emulator.ids import make_id
from sf_emulator.soql import FieldDef, ObjectDef, compile_soql

F = FieldDef
TASK = ObjectDef.of(
    "Task",
    "sf_task",
    [
        F("Id", "id", "id"),
        F("OwnerId", "owner_id", "reference"),
        F("SystemModstamp", "system_modstamp", "datetime"),
        F("IsDeleted", "is_deleted", "boolean"),
        F("IsArchived", "is_archived", "boolean"),
    ],
)
ROWS = 1_000_000
OWNERS = [make_id("005", "5e0000", k) for k in range(100)]
EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z; row n is stamped EPOCH + 30 n seconds, owned by OWNERS[n % 100]


@pytest.fixture(scope="module")
def big_db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE sf_task (id TEXT PRIMARY KEY, owner_id TEXT, system_modstamp TEXT,"
        " is_deleted INTEGER NOT NULL, is_archived INTEGER NOT NULL)"
    )
    conn.execute("CREATE TABLE owner (k INTEGER PRIMARY KEY, id TEXT)")
    conn.executemany("INSERT INTO owner VALUES (?, ?)", enumerate(OWNERS))
    conn.execute(
        """
        INSERT INTO sf_task
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
        SELECT printf('00T5e%010d', i), (SELECT id FROM owner WHERE k = i % 100),
               strftime('%Y-%m-%dT%H:%M:%S', ? + 30 * i, 'unixepoch') || '.000Z', 0, 0
        FROM n
        """,
        (ROWS, EPOCH),
    )
    conn.execute("CREATE INDEX ix_task_owner_stamp ON sf_task (owner_id, system_modstamp)")
    conn.execute("CREATE INDEX ix_task_stamp ON sf_task (system_modstamp)")
    conn.execute("ANALYZE")
    yield conn
    conn.close()


def test_modstamp_and_owner_query_uses_an_index(big_db: sqlite3.Connection) -> None:
    owners = [OWNERS[3][:15], OWNERS[40], OWNERS[77][:15]]  # ids as users type them: 15 or 18 characters
    since_row = 990_000
    since = datetime.fromtimestamp(EPOCH + 30 * since_row, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = "SELECT Id, SystemModstamp FROM Task WHERE SystemModstamp > {} AND OwnerId IN ({})".format(
        since, ", ".join(f"'{o}'" for o in owners)
    )
    q = compile_soql(soql, {"Task": TASK}, now=datetime(2024, 12, 31, tzinfo=UTC))
    sql = f"SELECT id, system_modstamp FROM {q.obj.table} WHERE {q.where_sql}"

    plan = " | ".join(row[3] for row in big_db.execute(f"EXPLAIN QUERY PLAN {sql}", q.params))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "SCAN sf_task" not in plan, plan

    rows = big_db.execute(sql, q.params).fetchall()
    expected = [n for n in range(since_row + 1, ROWS) if n % 100 in (3, 40, 77)]
    assert len(rows) == len(expected)
    assert {r[0] for r in rows} == {f"00T5e{n:010d}" for n in expected}

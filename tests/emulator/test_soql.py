"""SOQL compiled to SQLite returns the rows Salesforce would, over a small in-memory Task/User table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sf_emulator.ids import make_id
from sf_emulator.soql import CompiledQuery, FieldDef, ObjectDef, compile_soql

F = FieldDef
TASK = ObjectDef.of(
    "Task",
    "sf_task",
    [
        F("Id", "id", "id"),
        F("OwnerId", "owner_id", "reference"),
        F("Subject", "subject", "combobox"),
        F("Description", "description", "textarea"),
        F("Priority", "priority", "picklist"),
        F("IsClosed", "is_closed", "boolean"),
        F("ActivityDate", "activity_date", "date"),
        F("SystemModstamp", "system_modstamp", "datetime"),
        F("CallDurationInSeconds", "call_duration", "int"),
        F("Score__c", "score", "double"),
        F("IsDeleted", "is_deleted", "boolean"),
        F("IsArchived", "is_archived", "boolean"),
    ],
)
USER = ObjectDef.of(
    "User", "sf_user", [F("Id", "id", "id"), F("Username", "username", "string"), F("Email", "email", "email")]
)
OBJECTS = {"Task": TASK, "User": USER}
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

U1, U2 = make_id("005", "5e0000", 1), make_id("005", "5e0000", 2)
T = {n: make_id("00T", "5e0000", n) for n in range(1, 9)}
# key: (owner, subject, priority, closed, activity date, modstamp, duration, score, deleted, archived)
ROWS = {
    1: (U1, "Call Bob", "High", 0, "2024-05-01", "2024-05-01T10:00:00.000Z", 30, 1.5, 0, 0),
    2: (U2, "call alice", "Normal", 1, "2024-04-30", "2024-05-01T03:30:00.000Z", 120, 2.25, 0, 0),
    3: (U1, "It's a \\ test", "Low", 0, None, "2024-04-20T00:00:00.000Z", None, None, 0, 0),
    4: (U2, None, "Normal", 0, "2024-05-02", "2024-04-30T23:59:59.999Z", 0, -1.0, 0, 0),
    5: (U1, "100% done_ok", "Normal", 0, "2024-05-03", "2024-05-02T00:00:00.000Z", 45, 0.0, 0, 0),
    6: (U1, "Deleted one", "Normal", 0, "2024-05-01", "2024-05-01T11:00:00.000Z", 5, 1.0, 1, 0),
    7: (U2, "Archived one", "Normal", 1, "2023-01-01", "2023-01-02T00:00:00.000Z", 5, 1.0, 0, 1),
}


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE sf_task (id TEXT PRIMARY KEY, owner_id TEXT, subject TEXT, description TEXT, priority TEXT,"
        " is_closed INTEGER, activity_date TEXT, system_modstamp TEXT, call_duration INTEGER, score REAL,"
        " is_deleted INTEGER, is_archived INTEGER)"
    )
    conn.executemany(
        "INSERT INTO sf_task (id, owner_id, subject, priority, is_closed, activity_date, system_modstamp,"
        " call_duration, score, is_deleted, is_archived) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [(T[n], *row) for n, row in ROWS.items()],
    )
    conn.execute("CREATE TABLE sf_user (id TEXT PRIMARY KEY, username TEXT, email TEXT)")
    conn.executemany("INSERT INTO sf_user VALUES (?,?,?)", [(U1, "ann@x.test", "ann@x.test"), (U2, "bo@x.test", None)])
    yield conn
    conn.close()


def run(db: sqlite3.Connection, soql: str, **kwargs: object) -> list[tuple]:
    """Execute a compiled query the way the emulator's server does and return the selected rows."""
    kwargs.setdefault("now", NOW)
    q: CompiledQuery = compile_soql(soql, OBJECTS, **kwargs)  # type: ignore[arg-type]
    columns = ", ".join(f.column for f in q.fields) or "COUNT(*)"
    sql = f"SELECT {columns} FROM {q.obj.table} WHERE {q.where_sql}"
    if q.order_sql:
        sql += f" ORDER BY {q.order_sql}"
    sql += " LIMIT ? OFFSET ?"
    return db.execute(sql, [*q.params, -1 if q.limit is None else q.limit, q.offset or 0]).fetchall()


def keys(db: sqlite3.Connection, where: str, **kwargs: object) -> set[int]:
    """Which of the ROWS a WHERE clause selects (as row numbers)."""
    by_id = {v: k for k, v in T.items()}
    return {by_id[r[0]] for r in run(db, f"SELECT Id FROM Task WHERE {where}", **kwargs)}


def ordered(db: sqlite3.Connection, soql: str, **kwargs: object) -> list[int]:
    by_id = {v: k for k, v in T.items()}
    return [by_id[r[0]] for r in run(db, soql, **kwargs)]


# -- SELECT, COUNT(), visibility ----------------------------------------------------------------


def test_select_returns_the_fields_in_select_order(db: sqlite3.Connection) -> None:
    q = compile_soql("select subject, ID, isclosed from TASK where id = '" + T[1] + "'", OBJECTS, now=NOW)
    assert [f.name for f in q.fields] == ["Subject", "Id", "IsClosed"]
    assert q.obj is TASK and not q.is_count
    assert run(db, "select subject, ID, isclosed from TASK where id = '" + T[1] + "'") == [("Call Bob", T[1], 0)]


def test_count(db: sqlite3.Connection) -> None:
    q = compile_soql("SELECT COUNT() FROM Task WHERE OwnerId = '" + U1 + "'", OBJECTS, now=NOW)
    assert q.is_count and q.fields == []
    assert run(db, "SELECT COUNT() FROM Task WHERE OwnerId = '" + U1 + "'") == [(3,)]


def test_query_hides_deleted_and_archived_rows_and_query_all_shows_them(db: sqlite3.Connection) -> None:
    assert run(db, "SELECT COUNT() FROM Task") == [(5,)]
    assert run(db, "SELECT COUNT() FROM Task", include_deleted=True) == [(7,)]
    assert keys(db, "Priority = 'Normal'", include_deleted=True) == {2, 4, 5, 6, 7}
    assert keys(db, "IsDeleted = true", include_deleted=True) == {6}
    assert keys(db, "IsDeleted = true") == set()


def test_objects_without_deleted_flags_get_no_visibility_condition(db: sqlite3.Connection) -> None:
    q = compile_soql("SELECT Id FROM User", OBJECTS, now=NOW)
    assert q.where_sql == "1=1" and q.params == []
    assert sorted(run(db, "SELECT Username FROM User ORDER BY Username")) == [("ann@x.test",), ("bo@x.test",)]


# -- comparison operators -----------------------------------------------------------------------


def test_string_equality_is_case_insensitive(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject = 'CALL BOB'") == {1}
    assert keys(db, "Subject IN ('call BOB', 'CALL ALICE')") == {1, 2}


def test_not_equal_and_not_in_match_null_fields_like_salesforce(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject != 'call bob'") == {2, 3, 4, 5}
    assert keys(db, "Subject <> 'call bob'") == {2, 3, 4, 5}
    assert keys(db, "Subject NOT IN ('call bob', 'CALL ALICE')") == {3, 4, 5}
    assert keys(db, "ActivityDate != 2024-05-01") == {2, 3, 4, 5}


def test_null_comparisons(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject = null") == {4}
    assert keys(db, "Subject != null") == {1, 2, 3, 5}
    assert keys(db, "ActivityDate = NULL") == {3}
    assert keys(db, "Subject IN ('Call Bob', null)") == {1, 4}
    assert keys(db, "Subject NOT IN ('Call Bob', null)") == {2, 3, 5}


def test_empty_string_means_null_for_text_fields(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject = ''") == {4}
    assert keys(db, "Subject != ''") == {1, 2, 3, 5}


def test_ordering_operators_on_numbers(db: sqlite3.Connection) -> None:
    assert keys(db, "CallDurationInSeconds > 30") == {2, 5}
    assert keys(db, "CallDurationInSeconds >= 30") == {1, 2, 5}
    assert keys(db, "CallDurationInSeconds < 30") == {4}
    assert keys(db, "CallDurationInSeconds <= 30") == {1, 4}
    assert keys(db, "CallDurationInSeconds IN (0, 45)") == {4, 5}
    assert keys(db, "Score__c > -0.5") == {1, 2, 5}
    assert keys(db, "Score__c = 2.25") == {2}
    assert keys(db, "Score__c <= 0") == {4, 5}


def test_ordering_operators_on_strings_are_case_insensitive(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject < 'D'") == {1, 2, 5}
    assert keys(db, "Subject >= 'c'") == {1, 2, 3}


def test_boolean_fields(db: sqlite3.Connection) -> None:
    assert keys(db, "IsClosed = true") == {2}
    assert keys(db, "IsClosed = FALSE") == {1, 3, 4, 5}
    assert keys(db, "IsClosed != true") == {1, 3, 4, 5}


def test_like_is_case_insensitive_with_wildcards(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject LIKE 'CALL%'") == {1, 2}
    assert keys(db, "Subject LIKE '%b_b'") == {1}
    assert keys(db, "Subject LIKE 'It_s%'") == {3}


def test_like_escapes_make_percent_and_underscore_literal(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject LIKE '%\\%%'") == {5}
    assert keys(db, "Subject LIKE '100\\% done\\_ok'") == {5}
    assert keys(db, "Subject LIKE '100\\% done\\_o'") == set()
    assert keys(db, "Subject LIKE '%\\\\%'") == {3}  # a literal backslash


def test_not_like_matches_null_fields(db: sqlite3.Connection) -> None:
    assert keys(db, "NOT Subject LIKE 'call%'") == {3, 4, 5}


def test_string_escapes_quote_and_backslash(db: sqlite3.Connection) -> None:
    assert keys(db, "Subject = 'It\\'s a \\\\ test'") == {3}
    assert keys(db, "Subject = 'It\\u0027s a \\u005C test'") == {3}
    assert keys(db, "Subject = 'It\\'s a \\\\ test\\n'") == set()


def test_values_are_bound_parameters_never_sql_text(db: sqlite3.Connection) -> None:
    evil = "x' OR 1=1; DROP TABLE sf_task; --"
    soql = "SELECT Id FROM Task WHERE Subject = '" + evil.replace("'", "\\'") + "'"
    q = compile_soql(soql, OBJECTS, now=NOW)
    assert "DROP" not in q.where_sql and evil in q.params
    assert run(db, soql) == []
    assert run(db, "SELECT COUNT() FROM Task") == [(5,)]


# -- ids ----------------------------------------------------------------------------------------


def test_id_filters_accept_15_and_18_character_ids(db: sqlite3.Connection) -> None:
    assert keys(db, f"Id = '{T[1][:15]}'") == {1}
    assert keys(db, f"Id IN ('{T[1][:15]}', '{T[2]}', '{T[3].lower()}')") == {1, 2, 3}
    assert keys(db, f"OwnerId IN ('{U2[:15]}')") == {2, 4}
    assert keys(db, f"OwnerId NOT IN ('{U2[:15]}')") == {1, 3, 5}
    assert keys(db, f"Id != '{T[1][:15]}'") == {2, 3, 4, 5}


def test_a_15_character_id_is_case_sensitive(db: sqlite3.Connection) -> None:
    other_case = T[1][:15].swapcase()
    assert keys(db, f"Id = '{other_case}'") == set()


# -- AND / OR / NOT -----------------------------------------------------------------------------


def test_and_or_with_parentheses(db: sqlite3.Connection) -> None:
    assert keys(db, "Priority = 'High' OR (Priority = 'Normal' AND IsClosed = true)") == {1, 2}
    assert keys(db, "(Priority = 'High' OR Priority = 'Normal') AND IsClosed = false") == {1, 4, 5}
    assert keys(db, "Priority = 'Normal' AND (CallDurationInSeconds > 40 OR Subject = null)") == {2, 4, 5}
    assert keys(db, "Priority = 'Low' OR Priority = 'High' OR IsClosed = true") == {1, 2, 3}


def test_not_applies_to_the_next_operand_and_keeps_nulls(db: sqlite3.Connection) -> None:
    assert keys(db, "NOT Priority = 'Normal'") == {1, 3}
    assert keys(db, "NOT (Priority = 'Normal' OR IsClosed = true)") == {1, 3}
    assert keys(db, "NOT (Priority = 'Normal' AND CallDurationInSeconds > 30)") == {1, 3, 4}
    assert keys(db, "NOT (CallDurationInSeconds > 30)") == {1, 3, 4}  # null duration is "not > 30"
    assert keys(db, "NOT NOT (CallDurationInSeconds > 30)") == {2, 5}
    assert keys(db, "NOT Subject IN ('Call Bob')") == {2, 3, 4, 5}
    assert keys(db, "NOT Subject = null") == {1, 2, 3, 5}
    assert keys(db, "NOT ActivityDate = TODAY") == {2, 3, 4, 5}


# -- ORDER BY, LIMIT, OFFSET --------------------------------------------------------------------


def test_order_by_puts_nulls_first_ascending_and_last_descending(db: sqlite3.Connection) -> None:
    assert ordered(db, "SELECT Id FROM Task ORDER BY ActivityDate") == [3, 2, 1, 4, 5]
    assert ordered(db, "SELECT Id FROM Task ORDER BY ActivityDate DESC") == [5, 4, 1, 2, 3]
    assert ordered(db, "SELECT Id FROM Task ORDER BY ActivityDate ASC NULLS LAST") == [2, 1, 4, 5, 3]
    assert ordered(db, "SELECT Id FROM Task ORDER BY ActivityDate DESC NULLS FIRST") == [3, 5, 4, 1, 2]


def test_order_by_several_fields_and_text_case_insensitively(db: sqlite3.Connection) -> None:
    assert ordered(db, "SELECT Id FROM Task ORDER BY Priority DESC, Subject") == [4, 5, 2, 3, 1]
    assert ordered(db, "SELECT Id FROM Task WHERE Subject != null ORDER BY Subject") == [5, 2, 1, 3]


def test_limit_and_offset(db: sqlite3.Connection) -> None:
    assert ordered(db, "SELECT Id FROM Task ORDER BY SystemModstamp LIMIT 2") == [3, 4]
    assert ordered(db, "SELECT Id FROM Task ORDER BY SystemModstamp LIMIT 2 OFFSET 2") == [2, 1]
    assert ordered(db, "SELECT Id FROM Task ORDER BY SystemModstamp OFFSET 4") == [5]
    assert ordered(db, "SELECT Id FROM Task ORDER BY SystemModstamp OFFSET 2000") == []
    q = compile_soql("SELECT Id FROM Task LIMIT 0", OBJECTS, now=NOW)
    assert (q.limit, q.offset, q.order_sql) == (0, None, "")


# -- dates and datetimes ------------------------------------------------------------------------


def test_date_literals_compare_date_fields(db: sqlite3.Connection) -> None:
    assert keys(db, "ActivityDate = 2024-05-01") == {1}
    assert keys(db, "ActivityDate > 2024-05-01") == {4, 5}
    assert keys(db, "ActivityDate <= 2024-05-01") == {1, 2}
    assert keys(db, "ActivityDate IN (2024-04-30, 2024-05-03)") == {2, 5}


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2024-05-01T10:00:00Z", {1}),
        ("2024-05-01T10:00:00.000Z", {1}),
        ("2024-05-01T12:00:00+02:00", {1}),
        ("2024-05-01T02:00:00-0800", {1}),
        ("2024-05-01T15:30:00+0530", {1}),
    ],
)
def test_datetime_literal_forms_name_the_same_instant(db: sqlite3.Connection, literal: str, expected: set) -> None:
    assert keys(db, f"SystemModstamp = {literal}") == expected


def test_datetime_comparisons_use_utc_instants(db: sqlite3.Connection) -> None:
    assert keys(db, "SystemModstamp > 2024-05-01T05:30:00+02:00") == {1, 5}  # 03:30Z is not after 03:30Z
    assert keys(db, "SystemModstamp >= 2024-05-01T05:30:00+02:00") == {1, 2, 5}
    assert keys(db, "SystemModstamp < 2024-05-01T00:00:00Z") == {3, 4}
    assert keys(db, "SystemModstamp > 2024-04-30T23:59:59.998Z AND SystemModstamp < 2024-05-01T00:00:00Z") == {4}


def test_today_in_a_timezone_behind_utc(db: sqlite3.Connection) -> None:
    # 2024-05-01T05:00Z is still 2024-04-30 22:00 in Los Angeles.
    now = datetime(2024, 5, 1, 5, 0, tzinfo=UTC)
    la = {"now": now, "tz": "America/Los_Angeles"}
    assert keys(db, "ActivityDate = TODAY", **la) == {2}
    assert keys(db, "ActivityDate = TODAY", now=now) == {1}  # UTC
    # The Los Angeles day is [04-30T07:00Z, 05-01T07:00Z): it holds 03:30Z but not 10:00Z.
    assert keys(db, "SystemModstamp = TODAY", **la) == {2, 4}
    assert keys(db, "SystemModstamp = TODAY", now=now) == {1, 2}
    assert keys(db, "SystemModstamp > TODAY", **la) == {1, 5}
    assert keys(db, "SystemModstamp < TODAY", **la) == {3}
    assert keys(db, "SystemModstamp = YESTERDAY", **la) == set()
    assert keys(db, "ActivityDate = TOMORROW", **la) == {1}


@pytest.mark.parametrize(
    ("op", "expected"),
    [("=", {1}), ("!=", {2, 3, 4, 5}), ("<", {2}), ("<=", {1, 2}), (">", {4, 5}), (">=", {1, 4, 5})],
)
def test_each_operator_with_a_range_literal_on_a_date_field(db: sqlite3.Connection, op: str, expected: set) -> None:
    assert keys(db, f"ActivityDate {op} TODAY") == expected


def test_multi_day_literals(db: sqlite3.Connection) -> None:
    assert keys(db, "ActivityDate = LAST_N_DAYS:1") == {1, 2}  # yesterday and today
    assert keys(db, "ActivityDate = NEXT_N_DAYS:1") == {4}  # starts tomorrow
    assert keys(db, "ActivityDate > NEXT_N_DAYS:1") == {5}
    assert keys(db, "ActivityDate = N_DAYS_AGO:1") == {2}
    assert keys(db, "ActivityDate = THIS_WEEK") == {1, 2, 4, 5}  # Sun 04-28 .. Sat 05-04
    assert keys(db, "ActivityDate = LAST_MONTH") == {2}
    assert keys(db, "ActivityDate < THIS_MONTH") == {2}
    assert keys(db, "SystemModstamp = LAST_90_DAYS") == {1, 2, 3, 4}  # 05-02 is after today
    assert keys(db, "ActivityDate = NEXT_90_DAYS") == {4, 5}


def test_day_ranges_follow_dst_changes(db: sqlite3.Connection) -> None:
    # New York springs forward on 2024-03-10: that local day is 05:00Z..04:00Z next day (23 hours).
    stamps = {
        "2024-03-10T04:59:59.999Z": "before",
        "2024-03-10T05:00:00.000Z": "first",
        "2024-03-11T03:59:59.999Z": "last",
        "2024-03-11T04:00:00.000Z": "after",
    }
    db.executemany(
        "INSERT INTO sf_task (id, subject, system_modstamp, is_deleted, is_archived) VALUES (?, ?, ?, 0, 0)",
        [(make_id("00T", "5e0000", 100 + i), label, ts) for i, (ts, label) in enumerate(stamps.items())],
    )
    now = datetime(2024, 3, 10, 18, 0, tzinfo=UTC)
    rows = run(db, "SELECT Subject FROM Task WHERE SystemModstamp = TODAY", now=now, tz="America/New_York")
    assert {r[0] for r in rows} == {"first", "last"}
    rows = run(db, "SELECT Subject FROM Task WHERE SystemModstamp >= TOMORROW", now=now, tz="America/New_York")
    assert "after" in {r[0] for r in rows} and "last" not in {r[0] for r in rows}


def test_date_literal_ranges_bind_the_range_bounds() -> None:
    q = compile_soql(
        "SELECT Id FROM Task WHERE SystemModstamp = TODAY", OBJECTS, now=NOW, tz="Asia/Kolkata", include_deleted=True
    )
    assert q.params == ["2024-04-30T18:30:00.000Z", "2024-05-01T18:30:00.000Z"]
    assert "?" in q.where_sql and "2024" not in q.where_sql


def test_columns_named_like_sql_keywords_work() -> None:
    thing = ObjectDef.of("Thing", "thing", [F("Id", "id", "id"), F("Group__c", "group", "string")])
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE thing (id TEXT, "group" TEXT)')
    conn.executemany("INSERT INTO thing VALUES (?, ?)", [(T[1], "b"), (T[2], "A"), (T[3], "c")])
    q = compile_soql("SELECT Id FROM Thing WHERE Group__c != 'c' ORDER BY Group__c", {"Thing": thing}, now=NOW)
    rows = conn.execute(f"SELECT id FROM thing WHERE {q.where_sql} ORDER BY {q.order_sql}", q.params).fetchall()
    assert rows == [(T[2],), (T[1],)]
    conn.close()

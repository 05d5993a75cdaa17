"""Every query the emulator refuses: the error code, and a message that says what to change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sf_emulator.soql import FieldDef, ObjectDef, SoqlError, compile_soql

F = FieldDef
TASK = ObjectDef.of(
    "Task",
    "sf_task",
    [
        F("Id", "id", "id"),
        F("OwnerId", "owner_id", "reference"),
        F("Subject", "subject", "combobox"),
        F("Description", "description", "textarea"),
        F("IsClosed", "is_closed", "boolean"),
        F("ActivityDate", "activity_date", "date"),
        F("SystemModstamp", "system_modstamp", "datetime"),
        F("CallDurationInSeconds", "call_duration", "int"),
        F("Score__c", "score", "double"),
    ],
)
OBJECTS = {"Task": TASK}
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def refuse(soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        compile_soql(soql, OBJECTS, now=NOW)
    return info.value


def test_unknown_field_message_matches_salesforce() -> None:
    err = refuse("SELECT Foo FROM Task")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Foo FROM Task\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Foo' on entity 'Task'. If you are attempting to use a custom field, be sure to append "
        "the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Task WHERE Foo = 'x'",
        "SELECT Id FROM Task ORDER BY Foo",
        "SELECT Id, Foo FROM Task",
    ],
)
def test_unknown_field_anywhere_is_invalid_field(soql: str) -> None:
    err = refuse(soql)
    assert err.error_code == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Task'" in err.message
    assert f"Column:{soql.index('Foo') + 1}\n" in err.message


def test_error_position_is_row_and_column_of_a_multi_line_query() -> None:
    err = refuse("SELECT Id\nFROM Task\nWHERE  Bogus = 1")
    assert err.message.startswith("\nWHERE  Bogus = 1\n       ^\nERROR at Row:3:Column:8\n")


def test_unknown_object_is_invalid_type() -> None:
    err = refuse("SELECT Id FROM Foo")
    assert err.error_code == "INVALID_TYPE"
    assert "sObject type 'Foo' is not supported." in err.message
    assert "ERROR at Row:1:Column:16" in err.message


def test_mixing_and_with_or_without_parentheses_is_malformed() -> None:
    err = refuse("SELECT Id FROM Task WHERE Subject = 'a' AND IsClosed = true OR Subject = 'b'")
    assert err.error_code == "MALFORMED_QUERY"
    assert "unexpected token: 'OR'" in err.message and "add parentheses" in err.message
    err = refuse("SELECT Id FROM Task WHERE Subject = 'a' OR Subject = 'b' AND IsClosed = true")
    assert "unexpected token: 'AND'" in err.message


@pytest.mark.parametrize(
    ("where", "field", "expected_type"),
    [
        ("Subject = TODAY", "Subject", "string and should be enclosed in quotes"),
        ("Subject = 2024-05-01", "Subject", "string and should be enclosed in quotes"),
        ("Subject = 12", "Subject", "string and should be enclosed in quotes"),
        ("Subject = true", "Subject", "string and should be enclosed in quotes"),
        ("OwnerId = 5", "OwnerId", "string and should be enclosed in quotes"),
        ("IsClosed = 'true'", "IsClosed", "boolean and should not be enclosed in quotes"),
        ("IsClosed = 1", "IsClosed", "boolean and should not be enclosed in quotes"),
        ("ActivityDate = '2024-05-01'", "ActivityDate", "date and should not be enclosed in quotes"),
        ("ActivityDate = 2024-05-01T00:00:00Z", "ActivityDate", "date and should not be enclosed in quotes"),
        ("SystemModstamp > 2024-05-01", "SystemModstamp", "dateTime and should not be enclosed in quotes"),
        ("SystemModstamp > '2024-05-01T00:00:00Z'", "SystemModstamp", "dateTime and should not be enclosed"),
        ("CallDurationInSeconds = 1.5", "CallDurationInSeconds", "integer and should not be enclosed in quotes"),
        ("CallDurationInSeconds IN (1, '2')", "CallDurationInSeconds", "integer and should not be enclosed"),
        ("Score__c = '1.5'", "Score__c", "double and should not be enclosed in quotes"),
        ("Score__c = TODAY", "Score__c", "double and should not be enclosed in quotes"),
        ("ActivityDate LIKE '2024%'", "ActivityDate", None),
        ("Subject LIKE 5", "Subject", "string and should be enclosed in quotes"),
    ],
)
def test_values_of_the_wrong_type_are_invalid_field(where: str, field: str, expected_type: str | None) -> None:
    err = refuse(f"SELECT Id FROM Task WHERE {where}")
    assert err.error_code == "INVALID_FIELD"
    if expected_type is None:
        assert "invalid operator on date field" in err.message
    else:
        assert f"value of filter criterion for field '{field}' must be of type {expected_type}" in err.message


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("IsClosed < true", "invalid operator on boolean field"),
        ("IsClosed IN (true)", "IN is not valid on boolean field IsClosed"),
        ("Subject INCLUDES ('a')", "only valid on multi-select picklist fields"),
        ("Subject EXCLUDES ('a')", "only valid on multi-select picklist fields"),
        ("Description = 'x'", "field 'Description' can not be filtered in a query call"),
    ],
)
def test_operators_a_field_does_not_support_are_invalid_field(where: str, message: str) -> None:
    err = refuse(f"SELECT Id FROM Task WHERE {where}")
    assert err.error_code == "INVALID_FIELD"
    assert message in err.message


def test_long_text_areas_cannot_be_sorted_but_can_be_selected() -> None:
    assert [f.name for f in compile_soql("SELECT Description FROM Task", OBJECTS, now=NOW).fields] == ["Description"]
    err = refuse("SELECT Id FROM Task ORDER BY Description")
    assert err.error_code == "INVALID_FIELD" and "can not be sorted" in err.message


def test_malformed_ids_are_refused() -> None:
    err = refuse("SELECT Id FROM Task WHERE Id = 'abc'")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert "invalid ID field: abc" in err.message
    err = refuse("SELECT Id FROM Task WHERE OwnerId IN ('005000000000001', '005000000000001XYZ9')")
    assert "invalid ID field: 005000000000001XYZ9" in err.message


def test_offset_above_2000_is_refused() -> None:
    err = refuse("SELECT Id FROM Task LIMIT 10 OFFSET 2001")
    assert err.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert "Maximum SOQL offset allowed for apiName Task is 2000" in err.message


def test_queries_over_100000_characters_are_refused() -> None:
    soql = "SELECT Id FROM Task WHERE Subject IN (" + ",".join(["'abcdefgh'"] * 10_000) + ")"
    assert len(soql) > 100_000
    err = refuse(soql)
    assert err.error_code == "MALFORMED_QUERY" and "cannot be longer than 100000 characters" in err.message
    compile_soql(soql[: soql.rindex(",", 0, 99_990)] + ")", OBJECTS, now=NOW)  # just under the limit is fine


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Id, (SELECT Id FROM Tasks) FROM Account", "subqueries"),
        ("SELECT Owner.Name FROM Task", "relationship paths such as 'Owner.Name' are not supported"),
        ("SELECT Id FROM Task WHERE Owner.Name = 'x'", "relationship paths such as 'Owner.Name'"),
        ("SELECT Id FROM Task ORDER BY What.Name", "relationship paths such as 'What.Name'"),
        ("SELECT OwnerId, COUNT(Id) FROM Task GROUP BY OwnerId", "function 'COUNT' is not supported"),
        ("SELECT COUNT(Id) FROM Task", "aggregate functions other than COUNT() are not supported"),
        ("SELECT MAX(ActivityDate) FROM Task", "function 'MAX' is not supported"),
        ("SELECT COUNT(), Id FROM Task", "COUNT() must be the only item"),
        ("SELECT Id FROM Task GROUP BY Id", "GROUP BY is not supported"),
        ("SELECT Id FROM Task WITH SECURITY_ENFORCED", "WITH is not supported"),
        ("SELECT Id FROM Task FOR UPDATE", "FOR is not supported"),
        ("SELECT Id FROM Task ALL ROWS", "use the queryAll resource"),
        ("SELECT Id FROM Task, User", "several objects"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF is not supported"),
        ("SELECT Id FROM Task WHERE Id IN (SELECT WhatId FROM Event)", "semi-join subqueries"),
        ("SELECT Id FROM Task WHERE CALENDAR_YEAR(ActivityDate) = 2024", "function 'CALENDAR_YEAR' in WHERE"),
        ("SELECT Id FROM Task ORDER BY COUNT(Id)", "function 'COUNT' in ORDER BY"),
        ("SELECT Id FROM Task WHERE Subject = :subject", "bind variables"),
        ('SELECT Id FROM Task WHERE Subject = "x"', "use single quotes"),
        ("SELECT Id FROM Task WHERE Subject = 'x", "unterminated string literal"),
        ("SELECT Id FROM Task WHERE Subject = 'a\\qb'", "invalid escape sequence '\\q'"),
        ("SELECT Id FROM Task WHERE Subject = 'a\\u00'", "invalid escape sequence '\\u'"),
        ("SELECT Id FROM Task WHERE ActivityDate = 2024-02-30", "'2024-02-30' is not a valid date"),
        ("SELECT Id FROM Task WHERE SystemModstamp > 2024-05-01T25:00:00Z", "is not a valid datetime"),
        ("SELECT Id FROM Task WHERE SystemModstamp > 2024-05-01T10:00:00", "invalid date or datetime literal"),
        ("SELECT Id FROM Task WHERE ActivityDate = LAST_N_DAYS", "needs a day count, e.g. LAST_N_DAYS:7"),
        ("SELECT Id FROM Task WHERE ActivityDate = LAST_N_DAYS:99999999", "out of range"),
        ("SELECT Id FROM Task WHERE ActivityDate IN (TODAY)", "cannot be used in an IN list"),
        ("SELECT Id FROM Task WHERE ActivityDate = THIS_DECADE", "'THIS_DECADE' is not a value"),
        ("SELECT Id FROM Task WHERE Subject = Description", "'Description' is not a value"),
        ("SELECT Id FROM Task WHERE Subject < null", "null can only be compared with = or !="),
        ("SELECT Id FROM Task WHERE Subject", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Task WHERE Subject ~ 'x'", "unexpected character: '~'"),
        ("SELECT Id FROM Task WHERE (Subject = 'x'", "expected ')'"),
        ("SELECT Id FROM Task WHERE", "unexpected token: '<EOF>'"),
        ("SELECT Id FROM Task LIMIT -1", "LIMIT needs a non-negative whole number"),
        ("SELECT Id FROM Task OFFSET 1.5", "OFFSET needs a non-negative whole number"),
        ("SELECT Id FROM Task ORDER BY Subject NULLS", "expected FIRST or LAST"),
        ("SELECT Id FROM Task;", "unexpected character: ';'"),
        ("SELECT Id FROM Task LIMIT 5 ORDER BY Id", "unexpected token: 'ORDER'"),
        ("SELECT FROM Task", "unexpected token: 'FROM' (expected a field name)"),
        ("SELECT Id, Subject, id FROM Task", "duplicate field selected: Id"),
        ("", "unexpected token: '<EOF>' (expected SELECT)"),
        ("DELETE FROM Task", "unexpected token: 'DELETE' (expected SELECT)"),
    ],
)
def test_malformed_and_unsupported_queries(soql: str, message: str) -> None:
    err = refuse(soql)
    assert err.error_code == "MALFORMED_QUERY", err.message
    assert message in err.message
    assert "ERROR at Row:1:Column:" in err.message


def test_soql_error_string_shows_code_and_message() -> None:
    err = refuse("SELECT Id FROM Nope")
    assert str(err) == f"INVALID_TYPE: {err.message}"


def test_caller_mistakes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compile_soql("SELECT Id FROM Task", OBJECTS, now=datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="unknown time zone"):
        compile_soql("SELECT Id FROM Task", OBJECTS, now=NOW, tz="Mars/Olympus")


def test_more_values_than_sqlite_can_bind_are_refused() -> None:
    soql = "SELECT Id FROM Task WHERE CallDurationInSeconds IN (" + ",".join(["1"] * 40_000) + ")"
    assert len(soql) < 100_000
    err = refuse(soql)
    assert (
        err.error_code == "MALFORMED_QUERY" and "at most 32766" in err.message and "Split long IN lists" in err.message
    )


@pytest.mark.parametrize(
    "soql",
    ["SELECT Id FROM Task LIMIT 2147483648", "SELECT Id FROM Task WHERE ActivityDate = LAST_N_DAYS:99999999999"],
)
def test_integers_beyond_32_bits_are_refused(soql: str) -> None:
    err = refuse(soql)
    assert err.error_code == "MALFORMED_QUERY" and "must be at most 2147483647" in err.message

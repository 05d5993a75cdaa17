"""SPEC §10: bad input from either side gets a specific error, is quarantined whole, never crashes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sync_world import SC_DEFAULTS, SF_DEFAULTS, World, only, owner_id, sf_id, sf_time

from task_sync import validation as v

T = sf_time(dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC))


def sf_frame(**overrides: object) -> pd.DataFrame:
    return pd.DataFrame([{"Id": sf_id(1), "OwnerId": owner_id(1), **SF_DEFAULTS, "CreatedDate": T,
                          "LastModifiedDate": T, "SystemModstamp": T, **overrides}])


def sc_frame(**overrides: object) -> pd.DataFrame:
    return pd.DataFrame([{"task_id": 7, "user_id": 1, **SC_DEFAULTS, **overrides}])


def sf_content_error(**overrides: object) -> dict[str, object]:
    good, bad = v.validate_sf_content(v.validate_sf_system(sf_frame(**overrides))[0])
    assert good.empty
    return only(bad)


def sc_content_error(**overrides: object) -> dict[str, object]:
    good, bad = v.validate_sc_content(sc_frame(**overrides))
    assert good.empty
    return only(bad)


def test_unknown_salesforce_status_priority_type() -> None:
    for column, value, code in (("Status", "Blocked", "SF_UNKNOWN_STATUS"), ("Status", None, "SF_UNKNOWN_STATUS"),
                                ("Priority", "Urgent", "SF_UNKNOWN_PRIORITY"), ("Type", "Fax", "SF_UNKNOWN_TYPE")):
        row = sf_content_error(**{column: value})
        assert row["error_code"] == code
        assert f"{column} {value!r}" in row["message"] and sf_id(1) in row["message"]


def test_unparsable_salesforce_dates() -> None:
    assert sf_content_error(ActivityDate="26/11/2026")["error_code"] == "SF_BAD_DATE"
    assert sf_content_error(ActivityDate="2026-02-30")["error_code"] == "SF_BAD_DATE"
    assert sf_content_error(ReminderDateTime="tomorrow", IsReminderSet=True)["error_code"] == "SF_BAD_DATETIME"
    assert sf_content_error(CompletedDateTime="2026-13-01T00:00:00Z")["error_code"] == "SF_BAD_DATETIME"


def test_unparsable_salesforce_system_fields_and_ids() -> None:
    for overrides, code in (({"SystemModstamp": "yesterday"}, "SF_BAD_DATETIME"),
                            ({"LastModifiedDate": None}, "SF_BAD_DATETIME"),
                            ({"Id": "00T'; DELETE"}, "SF_BAD_ID"), ({"Id": None}, "SF_BAD_ID")):
        good, bad = v.validate_sf_system(sf_frame(**overrides))
        assert good.empty
        assert only(bad)["error_code"] == code


def test_missing_salesforce_subject_is_quarantined() -> None:
    for subject in (None, ""):
        assert sf_content_error(Subject=subject)["error_code"] == "SF_MISSING_SUBJECT"


def test_missing_due_date_is_synced_not_quarantined() -> None:
    good, bad = v.validate_sf_content(v.validate_sf_system(sf_frame(ActivityDate=None))[0])
    assert bad.empty and good["due_date"].tolist() == [None]
    good, bad = v.validate_sc_content(sc_frame(due_date=None))
    assert bad.empty and good["due_date"].tolist() == [None]


def test_every_error_of_a_record_is_reported() -> None:
    good, bad = v.validate_sf_content(v.validate_sf_system(sf_frame(Status="X", Priority="Y"))[0])
    assert good.empty
    assert sorted(bad["error_code"]) == ["SF_UNKNOWN_PRIORITY", "SF_UNKNOWN_STATUS"]


def test_owner_not_mapped(world: World) -> None:
    world.user(1)
    users = pd.DataFrame(world.users)
    good, bad = v.validate_sf_owners(v.validate_sf_system(sf_frame(OwnerId=owner_id(2)))[0], users)
    assert good.empty
    row = only(bad)
    assert row["error_code"] == "SF_OWNER_NOT_MAPPED" and owner_id(2) in row["message"]


def test_sc_subject_over_salesforce_limit_is_quarantined_not_truncated() -> None:
    long_subject = "é" * 256
    row = sc_content_error(subject=long_subject)
    assert row["error_code"] == "SC_SUBJECT_TOO_LONG"
    assert "256 characters; Salesforce allows 255" in row["message"] and "not truncated" in row["message"]
    assert row["payload"]["subject"] == long_subject
    good, bad = v.validate_sc_content(sc_frame(subject="é" * 255))
    assert bad.empty and good["subject"].tolist() == ["é" * 255]


def test_sc_description_over_salesforce_limit() -> None:
    row = sc_content_error(description="d" * 32001)
    assert row["error_code"] == "SC_DESCRIPTION_TOO_LONG" and "32001" in row["message"]
    assert v.validate_sc_content(sc_frame(description="d" * 32000))[1].empty


def test_sc_unknown_vocabulary_and_bad_dates() -> None:
    for column, value, code in (("status", "done", "SC_UNKNOWN_STATUS"), ("priority", "urgent", "SC_UNKNOWN_PRIORITY"),
                                ("task_type", "fax", "SC_UNKNOWN_TYPE"), ("due_date", "soon", "SC_BAD_DATE"),
                                ("reminder_at", "later", "SC_BAD_DATETIME")):
        row = sc_content_error(**{column: value})
        assert row["error_code"] == code, column
        assert row["task_id"] == 7 and repr(value) in row["message"]


def test_good_rows_pass_with_canonical_values() -> None:
    good, bad = v.validate_sc_content(sc_frame(subject="", reminder_at=dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)))
    assert bad.empty
    assert good[["subject", "due_date", "reminder_at"]].iloc[0].tolist() == [None, "2026-11-26",
                                                                              "2026-01-01T08:00:00Z"]


def test_csv_style_booleans_from_bulk_results_are_understood() -> None:
    good, bad = v.validate_sf_system(sf_frame(IsDeleted="true"))
    assert bad.empty and good["is_deleted"].tolist() == [True]
    good, _ = v.validate_sf_content(v.validate_sf_system(sf_frame(
        ReminderDateTime="2026-11-26T08:00:00.000+0000", IsReminderSet="false"))[0])
    assert good["reminder_at"].tolist() == [None]

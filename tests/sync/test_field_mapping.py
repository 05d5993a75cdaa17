"""The field mapping (fields.py): vocabulary both ways, lossless status, payloads, stable hashes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sync_world import AGREED_SC, AGREED_SF

from task_sync import fields


def test_salesforce_words_map_to_sales_connect_vocabulary() -> None:
    sf = pd.DataFrame([{**AGREED_SF, "status": s, "priority": p, "task_type": t}
                       for s, p, t in zip(fields.SF_STATUSES, ("High", "Normal", "Low", "High", "Low"),
                                          ("Call", "Email", "Meeting", "Other", None), strict=True)])
    sc = fields.sf_to_sc_frame(sf)
    assert sc["status"].tolist() == ["open", "open", "completed", "open", "open"]
    assert sc["priority"].tolist() == ["high", "normal", "low", "high", "low"]
    assert sc["task_type"].tolist() == ["call", "email", "meeting", "other", None]


def test_sales_connect_words_map_to_salesforce_vocabulary() -> None:
    sc = pd.DataFrame([{**AGREED_SC, "task_type": t} for t in fields.SC_TYPES])
    sf = fields.sc_to_sf_frame(sc, pd.Series([None] * len(sc), dtype=object))
    assert sf["task_type"].tolist() == ["Call", "Email", "Meeting", None, "Other"]  # todo: no Salesforce word
    assert set(sf["status"]) == {"Not Started"}


def test_open_is_sent_as_the_last_salesforce_open_word() -> None:
    sc = pd.DataFrame([{**AGREED_SC, "status": "open"}, {**AGREED_SC, "status": "completed"},
                       {**AGREED_SC, "status": "open"}])
    sf = fields.sc_to_sf_frame(sc, pd.Series(["Deferred", "In Progress", "Completed"], dtype=object))
    assert sf["status"].tolist() == ["Deferred", "Completed", "Not Started"]


def test_link_values_remember_the_open_word_through_completion() -> None:
    started = fields.link_sf_values({**AGREED_SF, "status": "Waiting on someone else"}, None)
    done = fields.link_sf_values({**AGREED_SF, "status": "Completed"}, started)
    assert done[fields.OPEN_STATUS_KEY] == "Waiting on someone else"
    assert fields.open_status_of(done) == "Waiting on someone else"
    assert fields.open_status_of(None) is None


def test_content_hash_is_stable_and_covers_only_mapped_fields() -> None:
    base = fields.content_hash(AGREED_SF)
    assert base == fields.content_hash(dict(reversed(list(AGREED_SF.items()))))
    assert base == fields.content_hash({**AGREED_SF, fields.OPEN_STATUS_KEY: "In Progress"})
    assert len(base) == 64 and int(base, 16) >= 0
    changed = {fields.content_hash({**AGREED_SF, name: "other"}) for name in fields.MAPPED_FIELDS}
    assert base not in changed and len(changed) == len(fields.MAPPED_FIELDS)
    frame = pd.DataFrame([AGREED_SF, {**AGREED_SF, "subject": "x"}])
    assert fields.hash_frame(frame).tolist() == [base, fields.content_hash({**AGREED_SF, "subject": "x"})]


def test_salesforce_payload_names_and_reminder_flag() -> None:
    values = {**AGREED_SF, "reminder_at": "2026-11-26T08:00:00Z"}
    assert fields.sf_payload(values, ["subject", "due_date", "task_type"]) == {
        "Subject": "Call Bob", "ActivityDate": "2026-11-26", "Type": "Call"}
    assert fields.sf_payload(values, ["reminder_at"]) == {"ReminderDateTime": "2026-11-26T08:00:00Z",
                                                         "IsReminderSet": True}
    assert fields.sf_payload(AGREED_SF, ["reminder_at"]) == {"ReminderDateTime": None, "IsReminderSet": False}


def test_sales_connect_payload_is_typed_and_carries_completed_at() -> None:
    when = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    values = {**AGREED_SC, "status": "completed", "reminder_at": "2026-11-26T08:00:00Z", "subject": None}
    assert fields.sc_payload(values, ["status", "due_date", "reminder_at", "subject"], when) == {
        "status": "completed", "completed_at": when, "due_date": dt.date(2026, 11, 26),
        "reminder_at": dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC), "subject": ""}
    assert fields.sc_payload({**AGREED_SC}, ["status"], when) == {"status": "open", "completed_at": None}
    assert fields.sc_payload({**AGREED_SC}, ["priority"], when) == {"priority": "normal"}


def test_canonical_forms_normalise_blank_text_and_subsecond_times() -> None:
    assert fields.canonical_text(pd.Series(["", None, "x"], dtype=object)).tolist() == [None, None, "x"]
    stamps = pd.to_datetime(pd.Series(["2026-11-26T08:00:00.999+0000", None]), utc=True, format="ISO8601")
    assert fields.canonical_datetime(stamps).tolist() == ["2026-11-26T08:00:00Z", None]


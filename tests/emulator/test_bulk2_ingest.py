"""Bulk API 2.0 ingest jobs, through simple-salesforce's `sf.bulk2` and, for exact wire details, plain HTTPS."""

from __future__ import annotations

import csv
import io
import time
from typing import TYPE_CHECKING

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceOperationError

from sf_emulator.process import EmulatorProcess

if TYPE_CHECKING:  # the fixture's class, from this folder's conftest (not importable as a package module)
    from conftest import RawApi

WAIT = 0.05
EXT = "Sales_Connect_Id__c"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def by_id(emu: EmulatorProcess) -> dict[str, dict]:
    return {t["Id"]: t for t in emu.tasks()}


def open_job(raw: RawApi, operation: str = "insert", **extra: str) -> str:
    response = raw.post("jobs/ingest", json={"object": "Task", "operation": operation, "contentType": "CSV",
                                             "lineEnding": "LF", **extra})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "Open"
    return response.json()["id"]


def upload(raw: RawApi, job_id: str, data: str) -> int:
    return raw.request("PUT", f"jobs/ingest/{job_id}/batches", data=data.encode(),
                       headers={"Content-Type": "text/csv"}).status_code


def finish(raw: RawApi, job_id: str) -> dict:
    assert raw.patch(f"jobs/ingest/{job_id}", json={"state": "UploadComplete"}).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = raw.get(f"jobs/ingest/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def test_insert_with_a_too_long_subject_in_the_middle(emu: EmulatorProcess, sf: Salesforce) -> None:
    records = [{"Subject": "first", EXT: "sc-1"}, {"Subject": "x" * 256, EXT: "sc-2"},
               {"Subject": "third", EXT: "sc-3"}]

    (result,) = sf.bulk2.Task.insert(records=records, wait=WAIT)

    assert result["numberRecordsProcessed"] == 3
    assert result["numberRecordsFailed"] == 1
    assert result["numberRecordsTotal"] == 3
    successful = sf.bulk2.Task.get_successful_records(result["job_id"])
    assert successful.splitlines()[0].startswith('"sf__Id","sf__Created",')
    ok = rows_of(successful)
    assert sorted(r[EXT] for r in ok) == ["sc-1", "sc-3"]
    assert {r["sf__Created"] for r in ok} == {"true"}
    stored = by_id(emu)
    assert {stored[r["sf__Id"]]["Subject"] for r in ok} == {"first", "third"}
    assert len(stored) == 2

    failed = sf.bulk2.Task.get_failed_records(result["job_id"])
    assert failed.splitlines()[0].startswith('"sf__Id","sf__Error",')
    (bad,) = rows_of(failed)
    assert bad["sf__Id"] == "" and bad[EXT] == "sc-2" and bad["Subject"] == "x" * 256
    assert bad["sf__Error"].startswith("STRING_TOO_LONG:Subject: data value too large: xxx")
    assert bad["sf__Error"].endswith("(max length=255):Subject --")

    assert rows_of(sf.bulk2.Task.get_unprocessed_records(result["job_id"])) == []


def test_upsert_reports_created_and_updated(emu: EmulatorProcess, sf: Salesforce) -> None:
    (existing,) = emu.seed(tasks=[{"Subject": "old", EXT: "sc-1"}])["tasks"]

    (result,) = sf.bulk2.Task.upsert(records=[{"Subject": "renamed", EXT: "sc-1"}, {"Subject": "new", EXT: "sc-2"}],
                                     external_id_field=EXT, wait=WAIT)

    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
    ok = {r[EXT]: r for r in rows_of(sf.bulk2.Task.get_successful_records(result["job_id"]))}
    assert ok["sc-1"]["sf__Id"] == existing and ok["sc-1"]["sf__Created"] == "false"
    assert ok["sc-2"]["sf__Created"] == "true"
    stored = by_id(emu)
    assert stored[existing]["Subject"] == "renamed"
    assert stored[ok["sc-2"]["sf__Id"]]["Subject"] == "new"


def test_upsert_without_the_key_fails_that_row(sf: Salesforce) -> None:
    (result,) = sf.bulk2.Task.upsert(records=[{"Subject": "keyless", EXT: ""}, {"Subject": "keyed", EXT: "sc-7"}],
                                     external_id_field=EXT, wait=WAIT)
    (bad,) = rows_of(sf.bulk2.Task.get_failed_records(result["job_id"]))
    assert bad["sf__Error"] == f"MISSING_ARGUMENT:{EXT} not specified:{EXT} --"
    assert result["numberRecordsFailed"] == 1


def test_update_empty_leaves_and_na_clears(emu: EmulatorProcess, sf: Salesforce) -> None:
    (task_id,) = emu.seed(tasks=[{"Subject": "keep", "Description": "drop me", "ActivityDate": "2024-05-01"}])["tasks"]

    (result,) = sf.bulk2.Task.update(records=[{"Id": task_id, "Subject": "", "Description": "#N/A",
                                               "Status": "Completed"}], wait=WAIT)

    assert result["numberRecordsFailed"] == 0
    (ok,) = rows_of(sf.bulk2.Task.get_successful_records(result["job_id"]))
    assert ok["sf__Id"] == task_id and ok["sf__Created"] == "false"
    row = by_id(emu)[task_id]
    assert row["Subject"] == "keep"
    assert row["Description"] is None
    assert row["Status"] == "Completed" and row["IsClosed"] is True  # Task rules ran (same code as REST)
    assert row["ActivityDate"] == "2024-05-01"


def test_update_failures_are_per_record(emu: EmulatorProcess, sf: Salesforce) -> None:
    locked, fine, typed = emu.seed(tasks=[{"Subject": "a"}, {"Subject": "b"}, {"Subject": "c"}])["tasks"]
    emu.lock_rows([locked])

    (result,) = sf.bulk2.Task.update(records=[
        {"Id": locked, "Subject": "A", "ActivityDate": ""},
        {"Id": fine, "Subject": "B", "ActivityDate": ""},
        {"Id": typed, "Subject": "C", "ActivityDate": "tomorrow"},
        {"Id": "00Tnot-an-id", "Subject": "D", "ActivityDate": ""},
        {"Id": "", "Subject": "E", "ActivityDate": ""},
    ], wait=WAIT)

    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (5, 4)
    errors = {r["Subject"]: (r["sf__Id"], r["sf__Error"]) for r in rows_of(
        sf.bulk2.Task.get_failed_records(result["job_id"]))}
    assert errors["A"] == (locked, "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 "
                                   "records:--")
    assert errors["C"] == (typed, "INVALID_TYPE_ON_FIELD_IN_RECORD:Due Date Only: value not of required type: "
                                  "tomorrow:ActivityDate --")
    assert errors["D"][1].startswith("MALFORMED_ID:")
    assert errors["E"] == ("", "MISSING_ARGUMENT:Id not specified in an update call:--")
    stored = by_id(emu)
    assert (stored[locked]["Subject"], stored[fine]["Subject"], stored[typed]["Subject"]) == ("a", "B", "c")


def test_delete_and_hard_delete(emu: EmulatorProcess, sf: Salesforce) -> None:
    soft, hard, kept = emu.seed(tasks=[{"Subject": "soft"}, {"Subject": "hard"}, {"Subject": "kept"}])["tasks"]

    (deleted,) = sf.bulk2.Task.delete(records=[{"Id": soft}], wait=WAIT)
    (purged,) = sf.bulk2.Task.hard_delete(records=[{"Id": hard}], wait=WAIT)

    assert deleted["numberRecordsFailed"] == purged["numberRecordsFailed"] == 0
    stored = by_id(emu)
    assert stored[soft]["IsDeleted"] is True and stored[soft]["DeletedDate"]
    assert hard not in stored
    assert stored[kept]["IsDeleted"] is False
    (again,) = sf.bulk2.Task.delete(records=[{"Id": soft}], wait=WAIT)
    (bad,) = rows_of(sf.bulk2.Task.get_failed_records(again["job_id"]))
    assert bad["sf__Error"] == "ENTITY_IS_DELETED:entity is deleted:--"


def test_unknown_column_fails_the_job_and_leaves_every_row_unprocessed(sf: Salesforce, raw: RawApi) -> None:
    with pytest.raises(SalesforceOperationError, match="InvalidBatch : Field name not found : Colour__c"):
        sf.bulk2.Task.insert(records=[{"Subject": "a", "Colour__c": "red"}, {"Subject": "b", "Colour__c": "blue"}],
                             wait=WAIT)

    job = max((j for j in raw.get("jobs/ingest").json()["records"] if "Colour__c" in j.get("errorMessage", "")),
              key=lambda j: j["id"])
    assert job["state"] == "Failed"
    unprocessed = sf.bulk2.Task.get_unprocessed_records(job["id"])
    assert sorted(r["Subject"] for r in rows_of(unprocessed)) == ["a", "b"]
    documented = raw.get(f"jobs/ingest/{job['id']}/unprocessedrecords")
    assert documented.status_code == 200 and documented.text == unprocessed


def test_job_info_counts_and_shape(raw: RawApi) -> None:
    job_id = open_job(raw)
    assert upload(raw, job_id, "Subject,Priority\nok,High\nbad,Urgent\n") == 201

    info = finish(raw, job_id)

    assert info["state"] == "JobComplete" and info["jobType"] == "V2Ingest" and info["object"] == "Task"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    failed = raw.get(f"jobs/ingest/{job_id}/failedResults/")
    assert failed.headers["Content-Type"].startswith("text/csv")
    assert rows_of(failed.text)[0]["sf__Error"] == ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Priority: bad value for "
                                                    "restricted picklist field: Urgent:Priority --")


def test_state_transitions_are_enforced(raw: RawApi) -> None:
    job_id = open_job(raw)
    assert upload(raw, job_id, "Subject\na\n") == 201
    second = raw.request("PUT", f"jobs/ingest/{job_id}/batches", data=b"Subject\nb\n",
                         headers={"Content-Type": "text/csv"})
    assert second.status_code == 400 and second.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert "Found multiple contents for job" in second.json()[0]["message"]
    assert raw.delete(f"jobs/ingest/{job_id}").json()[0]["errorCode"] == "INVALIDJOBSTATE"  # Open: abort first

    finish(raw, job_id)
    assert upload(raw, job_id, "Subject\nc\n") == 400
    reclose = raw.patch(f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert reclose.status_code == 400 and reclose.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    wrong = raw.patch(f"jobs/ingest/{job_id}", json={"state": "JobComplete"})
    assert wrong.status_code == 400 and wrong.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert raw.delete(f"jobs/ingest/{job_id}").status_code == 204


def test_aborting_an_open_job_leaves_its_rows_unprocessed(emu: EmulatorProcess, raw: RawApi) -> None:
    job_id = open_job(raw)
    upload(raw, job_id, "Subject\na\nb\n")

    aborted = raw.patch(f"jobs/ingest/{job_id}", json={"state": "Aborted"})

    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    assert rows_of(raw.get(f"jobs/ingest/{job_id}/unprocessedRecords").text) == [{"Subject": "a"}, {"Subject": "b"}]
    assert raw.get(f"jobs/ingest/{job_id}/successfulResults").text == '"sf__Id","sf__Created","Subject"\n'
    again = raw.patch(f"jobs/ingest/{job_id}", json={"state": "Aborted"})
    assert again.json() == [{"message": "Aborting already Aborted Job not allowed", "errorCode": "INVALIDJOBSTATE"}]
    assert raw.patch(f"jobs/ingest/{job_id}", json={"state": "UploadComplete"}).status_code == 400
    assert emu.tasks() == []


@pytest.mark.parametrize("body, message", [
    ({"object": "Task", "operation": "merge"}, "Invalid operation for an ingest job: merge"),
    ({"object": "Widget__c", "operation": "insert"}, "Unable to find object: Widget__c"),
    ({"object": "Task", "operation": "upsert"}, "External ID was blank for Task"),
    ({"object": "Task", "operation": "upsert", "externalIdFieldName": "Subject"},
     "Subject is not an External ID or indexed field for Task"),
    ({"object": "Task", "operation": "insert", "contentType": "JSON"}, "Unsupported content type: JSON"),
])
def test_bad_ingest_jobs_are_refused_with_invalidjob(raw: RawApi, body: dict, message: str) -> None:
    response = raw.post("jobs/ingest", json=body)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALIDJOB"
    assert message in response.json()[0]["message"]


def test_other_delimiters_and_line_endings(emu: EmulatorProcess, raw: RawApi) -> None:
    job_id = open_job(raw, columnDelimiter="SEMICOLON", lineEnding="CRLF")
    upload(raw, job_id, "Subject;Description\r\n\"a;b\";two\r\n")

    assert finish(raw, job_id)["numberRecordsFailed"] == 0

    (task,) = emu.tasks()
    assert (task["Subject"], task["Description"]) == ("a;b", "two")
    assert raw.get(f"jobs/ingest/{job_id}/successfulResults").text.endswith('"a;b";"two"\r\n')


def test_empty_upload_is_refused(raw: RawApi) -> None:
    job_id = open_job(raw)
    response = raw.request("PUT", f"jobs/ingest/{job_id}/batches", data=b"", headers={"Content-Type": "text/csv"})
    assert response.status_code == 400


def test_writes_carry_the_call_options_client(emu: EmulatorProcess, raw: RawApi) -> None:
    raw.http.headers["Sforce-Call-Options"] = "client=SalesConnectSync"
    job_id = open_job(raw)
    upload(raw, job_id, "Subject\ntagged\n")
    finish(raw, job_id)
    (task,) = emu.tasks()
    assert task["LastWriteClient"] == "SalesConnectSync"


@pytest.mark.parametrize("operation, extra, data, message", [
    ("delete", {}, "Id,Subject\n00T5e0000000001EAA,x\n",
     "InvalidBatch : The 'delete' batch must contain only the 'Id'"),
    ("upsert", {"externalIdFieldName": EXT}, "Subject\nx\n", f"InvalidBatch : The external ID field {EXT} is not in"),
    ("insert", {}, "Subject\n\"unterminated\n", "InvalidBatch : Failed to parse CSV"),
])
def test_unusable_data_fails_the_job(raw: RawApi, operation: str, extra: dict, data: str, message: str) -> None:
    job_id = open_job(raw, operation, **extra)
    upload(raw, job_id, data)

    info = finish(raw, job_id)

    assert info["state"] == "Failed"
    assert info["errorMessage"].startswith(message)
    assert info["numberRecordsProcessed"] == 0


def test_data_that_is_not_utf8_fails_the_job(raw: RawApi) -> None:
    job_id = open_job(raw)
    raw.request("PUT", f"jobs/ingest/{job_id}/batches", data="Subject\ncaf\xe9\n".encode("latin-1"),
                headers={"Content-Type": "text/csv"})
    assert finish(raw, job_id)["errorMessage"] == "InvalidBatch : The uploaded data is not valid UTF-8"


def test_closing_a_job_without_data_fails_it(raw: RawApi) -> None:
    job_id = open_job(raw)
    info = finish(raw, job_id)
    assert (info["state"], info["errorMessage"]) == ("Failed", "InvalidBatch : No data was uploaded for this job")


@pytest.mark.parametrize("header, value, error", [
    ("IsReminderSet", "maybe", "INVALID_TYPE_ON_FIELD_IN_RECORD:Reminder Set: value not of required type: maybe:"
                               "IsReminderSet --"),
    ("ReminderDateTime", "2024-13-01T00:00:00Z", "INVALID_TYPE_ON_FIELD_IN_RECORD:Reminder Date/Time: value not of "
                                                 "required type: 2024-13-01T00:00:00Z:ReminderDateTime --"),
    ("OwnerId", "005nope", "MALFORMED_ID:"),
    ("IsClosed", "true", "INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: IsClosed."),
    ("Status", "#N/A", "REQUIRED_FIELD_MISSING:Required fields are missing: [Status]:Status --"),
])
def test_bad_values_fail_their_row(raw: RawApi, header: str, value: str, error: str) -> None:
    job_id = open_job(raw)
    upload(raw, job_id, f"Subject,{header}\nbad,{value}\n")
    assert finish(raw, job_id)["numberRecordsFailed"] == 1
    (row,) = rows_of(raw.get(f"jobs/ingest/{job_id}/failedResults").text)
    assert row["sf__Error"].startswith(error)


def test_typed_values_are_converted(emu: EmulatorProcess, raw: RawApi) -> None:
    job_id = open_job(raw)
    upload(raw, job_id, "Subject,IsReminderSet,ReminderDateTime,ActivityDate\nx,TRUE,2024-05-01T12:00:00+02:00,"
                        "2024-05-03\n")
    assert finish(raw, job_id)["numberRecordsFailed"] == 0
    (task,) = emu.tasks()
    assert task["IsReminderSet"] is True
    assert task["ReminderDateTime"] == "2024-05-01T10:00:00.000+0000"
    assert task["ActivityDate"] == "2024-05-03"


def test_a_row_with_the_wrong_number_of_values_fails_alone(emu: EmulatorProcess, raw: RawApi) -> None:
    job_id = open_job(raw)
    upload(raw, job_id, "Subject,Description\nfine,one\nshort\n")

    info = finish(raw, job_id)

    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    failed = raw.get(f"jobs/ingest/{job_id}/failedResults").text
    assert failed.splitlines()[1] == '"","INVALID_FIELD:The row has 1 values but the header names 2 fields:--","short"'
    assert [t["Subject"] for t in emu.tasks()] == ["fine"]


def test_all_ingest_records_in_one_call(sf: Salesforce) -> None:
    (result,) = sf.bulk2.Task.insert(records=[{"Subject": "ok"}, {"Subject": "y" * 300}], wait=WAIT)

    everything = sf.bulk2.Task.get_all_ingest_records(result["job_id"])

    assert [r["Subject"] for r in everything["successfulRecords"]] == ["ok"]
    assert [r["sf__Error"].split(":")[0] for r in everything["failedRecords"]] == ["STRING_TOO_LONG"]
    assert everything["unprocessedRecords"] == []

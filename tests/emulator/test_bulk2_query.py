"""Bulk API 2.0 query jobs, through simple-salesforce's `sf.bulk2` and, for exact wire details, plain HTTPS."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceOperationError

from sf_emulator.ids import to_18
from sf_emulator.process import EmulatorProcess

if TYPE_CHECKING:  # the fixture's class, from this folder's conftest (not importable as a package module)
    from conftest import RawApi

WAIT = 0.05


def rows_of(page: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(page)))


def wait_for(raw: RawApi, job_id: str, kind: str = "query") -> dict:
    """Poll a job until it leaves UploadComplete/InProgress (what a client does)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = raw.get(f"jobs/{kind}/{job_id}").json()
        if info["state"] not in ("Open", "UploadComplete", "InProgress"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish: {info}")


def create_query_job(raw: RawApi, soql: str, operation: str = "query") -> dict:
    response = raw.post("jobs/query", json={"operation": operation, "query": soql, "columnDelimiter": "COMMA",
                                            "lineEnding": "LF"})
    assert response.status_code == 200, response.text
    return response.json()


def test_create_answers_job_info_with_a_750_id(raw: RawApi, users: dict) -> None:
    info = create_query_job(raw, "SELECT Id FROM Task")

    assert info["id"].startswith("750") and len(info["id"]) == 18
    assert to_18(info["id"][:15]) == info["id"]
    assert info["state"] == "UploadComplete"
    assert info["operation"] == "query" and info["object"] == "Task"
    assert info["createdById"] == users["Integration"]["Id"]
    assert info["contentType"] == "CSV" and info["columnDelimiter"] == "COMMA" and info["lineEnding"] == "LF"
    done = wait_for(raw, info["id"])
    assert done["state"] == "JobComplete"
    assert done["jobType"] == "V2Query"
    assert done["numberRecordsProcessed"] == 0


def test_query_pages_with_max_records_smaller_than_the_result(emu: EmulatorProcess, sf: Salesforce) -> None:
    ids = emu.seed(tasks=[{"Subject": f"Task {n}"} for n in range(5)])["tasks"]

    pages = list(sf.bulk2.Task.query("SELECT Id, Subject FROM Task ORDER BY Subject", max_records=2, wait=WAIT))

    assert [len(rows_of(p)) for p in pages] == [2, 2, 1]
    assert all(p.startswith('"Id","Subject"\n') for p in pages)
    got = [r for p in pages for r in rows_of(p)]
    assert [r["Subject"] for r in got] == [f"Task {n}" for n in range(5)]
    assert sorted(r["Id"] for r in got) == sorted(ids)


def test_results_headers_carry_locator_and_count(emu: EmulatorProcess, raw: RawApi) -> None:
    emu.generate_tasks(3)
    job = create_query_job(raw, "SELECT Id FROM Task")
    wait_for(raw, job["id"])

    first = raw.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 2})
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "2"
    assert first.headers["Sforce-Locator"] not in ("", "null")
    assert first.headers["Sforce-Limit-Info"].startswith("api-usage=")

    last = raw.get(f"jobs/query/{job['id']}/results",
                   params={"maxRecords": 2, "locator": first.headers["Sforce-Locator"]})
    assert last.headers["Sforce-NumberOfRecords"] == "1"
    assert last.headers["Sforce-Locator"] == "null"
    assert len(rows_of(first.text) + rows_of(last.text)) == 3


def test_values_are_quoted_and_null_is_an_empty_field(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.seed(tasks=[{"Subject": 'Say "hi", then', "Status": "Completed", "ActivityDate": "2024-05-01"}])

    (page,) = sf.bulk2.Task.query("SELECT Subject, Description, IsClosed, ActivityDate, CompletedDateTime FROM Task",
                                  wait=WAIT)

    header, line = page.splitlines()
    assert header == '"Subject","Description","IsClosed","ActivityDate","CompletedDateTime"'
    assert line.startswith('"Say ""hi"", then",,"true","2024-05-01","')
    assert rows_of(page)[0]["CompletedDateTime"].endswith("Z")


def test_query_all_sees_deleted_rows_and_query_does_not(emu: EmulatorProcess, sf: Salesforce) -> None:
    live, gone = emu.seed(tasks=[{"Subject": "live"}, {"Subject": "gone"}])["tasks"]
    sf.Task.delete(gone)

    queried = [r["Id"] for p in sf.bulk2.Task.query("SELECT Id FROM Task", wait=WAIT) for r in rows_of(p)]
    everything = [r for p in sf.bulk2.Task.query_all("SELECT Id, IsDeleted FROM Task", wait=WAIT)
                  for r in rows_of(p)]

    assert queried == [live]
    assert {r["Id"]: r["IsDeleted"] for r in everything} == {live: "false", gone: "true"}


def test_bad_query_fails_the_job_with_the_soql_error(sf: Salesforce, raw: RawApi) -> None:
    with pytest.raises(SalesforceOperationError, match="No such column 'Foo' on entity 'Task'"):
        list(sf.bulk2.Task.query("SELECT Foo FROM Task", wait=WAIT))

    job = create_query_job(raw, "SELECT Id FROM Task WHERE")
    info = wait_for(raw, job["id"])
    assert info["state"] == "Failed"
    assert info["errorMessage"].startswith("MALFORMED_QUERY")
    results = raw.get(f"jobs/query/{job['id']}/results")
    assert results.status_code == 400
    assert results.json()[0]["errorCode"] == "INVALIDJOBSTATE"


def test_aggregate_queries_fail_the_job(raw: RawApi) -> None:
    job = create_query_job(raw, "SELECT COUNT() FROM Task")
    info = wait_for(raw, job["id"])
    assert info["state"] == "Failed"
    assert "Aggregate queries are not supported" in info["errorMessage"]


@pytest.mark.parametrize("body, message", [
    ({"operation": "insert", "query": "SELECT Id FROM Task"}, "Invalid operation for a query job: insert"),
    ({"operation": "query"}, "A query job needs a query"),
    ({"operation": "query", "query": "SELECT Id FROM Task", "columnDelimiter": "COLON"}, "Invalid column delimiter"),
    ({"operation": "query", "query": "SELECT Id FROM Task", "lineEnding": "CR"}, "Invalid line ending"),
])
def test_bad_create_requests_are_refused_with_invalidjob(raw: RawApi, body: dict, message: str) -> None:
    response = raw.post("jobs/query", json=body)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALIDJOB"
    assert message in response.json()[0]["message"]


def test_unknown_job_and_bad_locator(raw: RawApi) -> None:
    missing = raw.get("jobs/query/7505e00000zzzzzAAA")
    assert missing.status_code == 404
    assert missing.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert raw.get("jobs/query/not-an-id").status_code == 404

    job = create_query_job(raw, "SELECT Id FROM Task")
    wait_for(raw, job["id"])
    assert raw.get(f"jobs/ingest/{job['id']}").status_code == 404  # a query job is not an ingest job
    bad = raw.get(f"jobs/query/{job['id']}/results", params={"locator": "bm9wZQ"})
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert raw.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 0}).status_code == 400


def test_finished_jobs_cannot_be_aborted_but_can_be_deleted(raw: RawApi) -> None:
    job = create_query_job(raw, "SELECT Id FROM Task")
    wait_for(raw, job["id"])

    abort = raw.patch(f"jobs/query/{job['id']}", json={"state": "Aborted"})
    assert abort.status_code == 400
    assert abort.json() == [{"message": "Aborting already Completed Job not allowed", "errorCode": "INVALIDJOBSTATE"}]
    close = raw.patch(f"jobs/query/{job['id']}", json={"state": "UploadComplete"})
    assert close.status_code == 400 and close.json()[0]["errorCode"] == "INVALIDJOBSTATE"

    assert raw.delete(f"jobs/query/{job['id']}").status_code == 204
    assert raw.get(f"jobs/query/{job['id']}").status_code == 404


def test_finished_jobs_are_forgotten_after_seven_days(emu: EmulatorProcess, raw: RawApi) -> None:
    old = create_query_job(raw, "SELECT Id FROM Task")
    wait_for(raw, old["id"])
    emu.advance_clock(7 * 86400 + 60)

    new = create_query_job(raw, "SELECT Id FROM Task")

    assert raw.get(f"jobs/query/{old['id']}").status_code == 404
    assert raw.get(f"jobs/query/{new['id']}").status_code == 200


def test_jobs_are_listed(raw: RawApi) -> None:
    job = create_query_job(raw, "SELECT Id FROM Task")
    listing = raw.get("jobs/query").json()
    assert listing["done"] is True
    assert job["id"] in [j["id"] for j in listing["records"]]


def test_bulk_calls_are_counted_and_limited(emu: EmulatorProcess, sf: Salesforce, raw: RawApi) -> None:
    emu.reset_counters()
    list(sf.bulk2.Task.query("SELECT Id FROM Task", wait=WAIT))
    calls = emu.counters()["by_resource"]["bulk2_query"]
    assert calls >= 3  # create, at least one poll, one results page

    used = emu.counters()["api_usage"]["used"]
    emu.set_api_limit(used)
    refused = raw.post("jobs/query", json={"operation": "query", "query": "SELECT Id FROM Task"})
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_a_bad_session_is_refused(raw_as) -> None:
    response = raw_as("00D000000000001!nope").post("jobs/query", json={"operation": "query",
                                                                        "query": "SELECT Id FROM Task"})
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_download_writes_one_file_per_page(emu: EmulatorProcess, sf: Salesforce, tmp_path: Path) -> None:
    emu.generate_tasks(5)

    pages = sf.bulk2.Task.download("SELECT Id FROM Task", path=str(tmp_path), max_records=2, wait=WAIT)

    assert [p["number_of_records"] for p in pages] == [2, 2, 1]
    assert pages[-1]["locator"] == ""
    ids = [r["Id"] for p in pages for r in rows_of(Path(p["file"]).read_text())]
    assert len(set(ids)) == 5


def test_results_use_the_jobs_delimiter_and_line_ending(emu: EmulatorProcess, raw: RawApi) -> None:
    emu.seed(tasks=[{"Subject": "a|b"}])
    response = raw.post("jobs/query", json={"operation": "query", "query": "SELECT Subject, Type FROM Task",
                                            "columnDelimiter": "PIPE", "lineEnding": "CRLF"})
    wait_for(raw, response.json()["id"])

    results = raw.get(f"jobs/query/{response.json()['id']}/results")

    assert results.text == '"Subject"|"Type"\r\n"a|b"|\r\n'


def test_limit_and_offset_bound_the_snapshot(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.seed(tasks=[{"Subject": f"Task {n}"} for n in range(6)])

    pages = list(sf.bulk2.Task.query("SELECT Subject FROM Task ORDER BY Subject LIMIT 3 OFFSET 2", wait=WAIT))

    assert [r["Subject"] for p in pages for r in rows_of(p)] == ["Task 2", "Task 3", "Task 4"]


def test_a_reset_forgets_every_job(emu: EmulatorProcess, raw: RawApi) -> None:
    job = create_query_job(raw, "SELECT Id FROM Task")
    wait_for(raw, job["id"])

    emu.reset()

    assert raw.get(f"jobs/query/{job['id']}").status_code == 404
    assert raw.get("jobs/query").json()["records"] == []

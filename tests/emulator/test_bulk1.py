"""Bulk API 1.0 (`/services/async/{version}/`) over plain HTTPS: jobs, batches, results, XML and JSON, errors."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from sf_emulator.process import EmulatorProcess

VERSION = "59.0"
NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
EXT = "Sales_Connect_Id__c"


class Async:
    """Bulk 1.0 calls with the session in `X-SFDC-Session`, XML unless `as_json`."""

    def __init__(self, emu: EmulatorProcess, session_id: str | None = None, *, as_json: bool = False) -> None:
        self.http = emu.requests_session()
        self.http.headers["X-SFDC-Session"] = session_id or emu.session_id
        self.as_json = as_json
        self.base = f"{emu.instance_url}/services/async/{VERSION}/"

    def call(self, method: str, path: str, body: str | bytes | None = None, content_type: str | None = None
             ) -> requests.Response:
        headers = {"Content-Type": content_type or ("application/json" if self.as_json else "application/xml")}
        return self.http.request(method, self.base + path, data=body, headers=headers, timeout=30)

    def doc(self, response: requests.Response) -> dict[str, str]:
        """A jobInfo/batchInfo answer as a flat dict of strings, whichever format it came in."""
        if self.as_json:
            assert response.headers["Content-Type"].startswith("application/json"), response.text
            return {k: str(v) for k, v in response.json().items()}
        assert response.headers["Content-Type"].startswith("application/xml"), response.text
        root = ElementTree.fromstring(response.content)
        return {child.tag.removeprefix(NS): child.text or "" for child in root}

    def create_job(self, operation: str, content_type: str = "CSV", **extra: str) -> dict[str, str]:
        fields = {"operation": operation, "object": "Task", "contentType": content_type, **extra}
        if self.as_json:
            body = json.dumps(fields)
        else:
            inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
            body = f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS[1:-1]}">{inner}</jobInfo>'
        response = self.call("POST", "job", body)
        assert response.status_code == 201, response.text
        return self.doc(response)

    def set_state(self, job_id: str, state: str) -> requests.Response:
        body = (json.dumps({"state": state}) if self.as_json else
                f'<jobInfo xmlns="{NS[1:-1]}"><state>{state}</state></jobInfo>')
        return self.call("POST", f"job/{job_id}", body)

    def add_batch(self, job_id: str, data: str, content_type: str = "text/csv") -> requests.Response:
        return self.call("POST", f"job/{job_id}/batch", data.encode(), content_type)

    def wait(self, job_id: str, batch_id: str) -> dict[str, str]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            info = self.doc(self.call("GET", f"job/{job_id}/batch/{batch_id}"))
            if info["state"] in ("Completed", "Failed", "NotProcessed"):
                return info
        raise AssertionError(f"batch {batch_id} did not finish")


def error_of(response: requests.Response) -> tuple[int, str, str]:
    """(status, exceptionCode, exceptionMessage) of an AsyncApiException, XML or JSON."""
    if response.headers["Content-Type"].startswith("application/json"):
        body = response.json()
        return response.status_code, body["exceptionCode"], body["exceptionMessage"]
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{NS}error", response.text
    return response.status_code, root.findtext(f"{NS}exceptionCode") or "", root.findtext(f"{NS}exceptionMessage") or ""


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def bulk(emu: EmulatorProcess) -> Async:
    return Async(emu)


def rest_tasks(emu: EmulatorProcess) -> dict[str, dict[str, Any]]:
    return {t["Id"]: t for t in emu.tasks()}


def test_csv_insert_job_in_xml_from_open_to_closed_with_one_bad_row(bulk: Async, emu: EmulatorProcess) -> None:
    job = bulk.create_job("insert")
    assert job["state"] == "Open" and job["contentType"] == "CSV" and job["object"] == "Task"
    assert job["id"].startswith("750") and job["numberBatchesTotal"] == "0"
    assert job["createdDate"].endswith(".000Z") and job["apiVersion"] == VERSION

    # The third row has one value too many: that row fails, its neighbours are written.
    data = f'Subject,{EXT}\n"first, with a comma",sc-1\nsecond,sc-2\nthird,sc-3,extra\n"x""y",sc-4\n'
    added = bulk.add_batch(job["id"], data)
    assert added.status_code == 201, added.text
    batch = bulk.doc(added)
    assert batch["state"] == "Queued" and batch["jobId"] == job["id"] and batch["id"].startswith("751")

    done = bulk.wait(job["id"], batch["id"])
    assert done["state"] == "Completed"
    assert (done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("4", "1")

    result = bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result")
    assert result.headers["Content-Type"].startswith("text/csv")
    assert result.text.splitlines()[0] == '"Id","Success","Created","Error"'
    rows = csv_rows(result.text)
    assert [r["Success"] for r in rows] == ["true", "true", "false", "true"]
    assert rows[2]["Id"] == "" and rows[2]["Created"] == "false"
    assert rows[2]["Error"].startswith("INVALID_FIELD:The row has 3 values")
    stored = rest_tasks(emu)
    assert len(stored) == 3
    assert [stored[r["Id"]]["Subject"] for r in rows if r["Success"] == "true"] == [
        "first, with a comma", "second", 'x"y']

    assert bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/request").text == data
    closed = bulk.doc(bulk.set_state(job["id"], "Closed"))
    assert closed["state"] == "Closed"
    assert (closed["numberBatchesCompleted"], closed["numberBatchesTotal"]) == ("1", "1")
    assert (closed["numberRecordsProcessed"], closed["numberRecordsFailed"]) == ("4", "1")

    # A closed job takes no more batches.
    status, code, message = error_of(bulk.add_batch(job["id"], data))
    assert (status, code) == (400, "InvalidJobState") and "Closed" in message
    assert len(rest_tasks(emu)) == 3


def test_upsert_update_delete_and_batch_list(bulk: Async, emu: EmulatorProcess) -> None:
    job = bulk.create_job("upsert", externalIdFieldName=EXT)
    assert job["externalIdFieldName"] == EXT
    first = bulk.doc(bulk.add_batch(job["id"], f"{EXT},Subject\nk-1,one\nk-2,two\n"))
    assert bulk.wait(job["id"], first["id"])["state"] == "Completed"
    second = bulk.doc(bulk.add_batch(job["id"], f"{EXT},Subject\nk-1,one again\nk-3,three\n"))
    assert bulk.wait(job["id"], second["id"])["state"] == "Completed"
    created = [r["Created"] for r in csv_rows(bulk.call("GET", f"job/{job['id']}/batch/{second['id']}/result").text)]
    assert created == ["false", "true"]

    listing = ElementTree.fromstring(bulk.call("GET", f"job/{job['id']}/batch").content)
    assert listing.tag == f"{NS}batchInfoList"
    assert [b.findtext(f"{NS}id") for b in listing] == [first["id"], second["id"]]
    by_key = {t[EXT]: t for t in emu.tasks()}
    assert sorted(by_key) == ["k-1", "k-2", "k-3"] and by_key["k-1"]["Subject"] == "one again"

    update = bulk.create_job("update")
    batch = bulk.doc(bulk.add_batch(update["id"], f'Id,Status\n{by_key["k-2"]["Id"]},Completed\n'))
    assert bulk.wait(update["id"], batch["id"])["numberRecordsFailed"] == "0"
    assert rest_tasks(emu)[by_key["k-2"]["Id"]]["Status"] == "Completed"

    delete = bulk.create_job("delete")
    batch = bulk.doc(bulk.add_batch(delete["id"], f'Id\n{by_key["k-3"]["Id"]}\n00T5e0000000000AAA\n'))
    done = bulk.wait(delete["id"], batch["id"])
    assert (done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("2", "1")
    assert sorted(t[EXT] for t in emu.tasks() if not t["IsDeleted"]) == ["k-1", "k-2"]

    # hardDelete skips the recycle bin: the row is gone for queryAll too.
    purge = bulk.create_job("hardDelete")
    batch = bulk.doc(bulk.add_batch(purge["id"], f'Id\n{by_key["k-2"]["Id"]}\n'))
    assert bulk.wait(purge["id"], batch["id"])["numberRecordsFailed"] == "0"
    assert sorted(t[EXT] for t in emu.tasks()) == ["k-1", "k-3"]


def test_query_and_query_all_batches_give_a_result_list_then_csv(bulk: Async, emu: EmulatorProcess) -> None:
    emu.generate_tasks(25, owner_ids=[emu.user_id])
    doomed = next(iter(rest_tasks(emu)))
    rest = emu.requests_session()
    rest.headers["Authorization"] = f"Bearer {emu.session_id}"
    assert rest.delete(f"{emu.instance_url}/services/data/v{VERSION}/sobjects/Task/{doomed}").status_code == 204

    for operation, expected in (("query", 24), ("queryAll", 25)):
        job = bulk.create_job(operation)
        batch = bulk.doc(bulk.add_batch(job["id"], "SELECT Id, Subject, IsDeleted FROM Task"))
        assert bulk.wait(job["id"], batch["id"])["numberRecordsProcessed"] == str(expected)
        listing = ElementTree.fromstring(bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result").content)
        assert listing.tag == f"{NS}result-list"
        (result_id,) = [r.text for r in listing]
        assert result_id and result_id.startswith("752")
        result = bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result/{result_id}")
        rows = csv_rows(result.text)
        assert result.text.splitlines()[0] == '"Id","Subject","IsDeleted"'
        assert len(rows) == expected
        assert (doomed in {r["Id"] for r in rows}) is (operation == "queryAll")


def test_json_job_with_json_batches_results_and_query(emu: EmulatorProcess) -> None:
    bulk = Async(emu, as_json=True)
    job = bulk.create_job("insert", "JSON")
    assert job["state"] == "Open" and job["contentType"] == "JSON" and job["createdDate"].endswith("+0000")
    records = [{"Subject": "json 1", EXT: "j-1", "ActivityDate": "2026-03-01"},
               {"Subject": "x" * 256, EXT: "j-2"}, {"Subject": "json 3", "Description": None}]
    batch = bulk.doc(bulk.add_batch(job["id"], json.dumps(records), "application/json"))
    done = bulk.wait(job["id"], batch["id"])
    assert (done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("3", "1")
    results = bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result").json()
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG" and results[1]["id"] is None

    query = bulk.create_job("query", "JSON")
    batch = bulk.doc(bulk.add_batch(query["id"], "SELECT Id, Subject, ActivityDate FROM Task WHERE "
                                    f"{EXT} = 'j-1'", "application/json"))
    bulk.wait(query["id"], batch["id"])
    (result_id,) = bulk.call("GET", f"job/{query['id']}/batch/{batch['id']}/result").json()
    (record,) = bulk.call("GET", f"job/{query['id']}/batch/{batch['id']}/result/{result_id}").json()
    assert record["Subject"] == "json 1" and record["attributes"]["type"] == "Task"
    assert record["ActivityDate"] == 1772323200000  # Bulk 1.0 JSON writes dates as epoch milliseconds
    assert record["Id"] == results[0]["id"]


def test_xml_batch_and_xml_results(bulk: Async, emu: EmulatorProcess) -> None:
    job = bulk.create_job("insert", "XML")
    data = (f'<sObjects xmlns="{NS[1:-1]}"><sObject><Subject>xml one</Subject></sObject>'
            f"<sObject><Subject>{'y' * 256}</Subject></sObject></sObjects>")
    batch = bulk.doc(bulk.add_batch(job["id"], data, "application/xml"))
    assert bulk.wait(job["id"], batch["id"])["numberRecordsFailed"] == "1"
    results = ElementTree.fromstring(bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result").content)
    assert [r.findtext(f"{NS}success") for r in results] == ["true", "false"]
    assert results[1].findtext(f"{NS}errors/{NS}statusCode") == "STRING_TOO_LONG"
    assert [t["Subject"] for t in emu.tasks()] == ["xml one"]


def test_abort_leaves_the_job_aborted_and_refuses_more(bulk: Async) -> None:
    job = bulk.create_job("insert")
    aborted = bulk.doc(bulk.set_state(job["id"], "Aborted"))
    assert aborted["state"] == "Aborted"
    assert error_of(bulk.set_state(job["id"], "Closed"))[:2] == (400, "InvalidJobState")
    assert error_of(bulk.add_batch(job["id"], "Subject\nx\n"))[:2] == (400, "InvalidJobState")


def test_a_batch_that_cannot_be_read_fails_whole_and_writes_nothing(bulk: Async, emu: EmulatorProcess) -> None:
    job = bulk.create_job("insert")
    unknown = bulk.doc(bulk.add_batch(job["id"], "Subject,NoSuchField__c\na,b\n"))
    unterminated = bulk.doc(bulk.add_batch(job["id"], 'Subject\n"never closed\n'))
    for batch in (unknown, unterminated):
        done = bulk.wait(job["id"], batch["id"])
        assert done["state"] == "Failed" and done["stateMessage"].startswith("InvalidBatch : ")
        assert error_of(bulk.call("GET", f"job/{job['id']}/batch/{batch['id']}/result"))[:2] == (400, "InvalidBatch")
    assert "NoSuchField__c" in bulk.wait(job["id"], unknown["id"])["stateMessage"]
    assert emu.tasks() == []


def test_errors_are_async_api_exceptions(bulk: Async, emu: EmulatorProcess) -> None:
    stranger = Async(emu, "00D5e0000000001!not-a-session")
    assert error_of(stranger.call("GET", "job/750000000000000AAA")) == (400, "InvalidSessionId", "Invalid session id")
    assert error_of(Async(emu, as_json=True).call("GET", "job/7505e0000000000AAA"))[:2] == (400, "InvalidJob")
    assert error_of(bulk.call("GET", "job/nonsense"))[:2] == (400, "InvalidJob")
    job = bulk.create_job("insert")
    assert error_of(bulk.call("GET", f"job/{job['id']}/batch/7515e0000000000AAA"))[:2] == (400, "InvalidBatch")
    assert error_of(bulk.call("GET", "jobs"))[:2] == (400, "InvalidUrl")
    assert error_of(bulk.call("POST", "job", "<jobInfo><operation>"))[:2] == (400, "InvalidXML")
    bad_object = bulk.call("POST", "job", f'<jobInfo xmlns="{NS[1:-1]}"><operation>insert</operation>'
                           "<object>Nope</object></jobInfo>")
    assert error_of(bad_object) == (400, "InvalidJob", "Unable to find object: Nope")
    no_ext = bulk.call("POST", "job", f'<jobInfo xmlns="{NS[1:-1]}"><operation>upsert</operation>'
                       "<object>Task</object></jobInfo>")
    assert error_of(no_ext)[:2] == (400, "InvalidJob")
    assert error_of(bulk.add_batch(job["id"], ""))[:2] == (400, "InvalidBatch")
    assert emu.tasks() == []


def test_the_daily_allowance_spent_answers_exceeded_quota(bulk: Async, emu: EmulatorProcess) -> None:
    job = bulk.create_job("insert")
    used = emu.counters()["api_usage"]["used"]
    emu.set_api_limit(used)
    status, code, _ = error_of(bulk.add_batch(job["id"], "Subject\nover the limit\n"))
    assert (status, code) == (403, "ExceededQuota")
    assert emu.counters()["by_resource"]["bulk1"] == 1
    assert emu.tasks() == []

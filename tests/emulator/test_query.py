"""query / queryAll with paging through nextRecordsUrl, COUNT(), visibility of deleted and archived rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_emulator.process import EmulatorProcess

SMALL_BATCH = {"Sforce-Query-Options": "batchSize=200"}


def test_default_batch_is_2000_with_locator_urls(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.generate_tasks(2500)
    first = sf.query("SELECT Id, Subject FROM Task")
    assert (first["totalSize"], first["done"], len(first["records"])) == (2500, False, 2000)
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-2000", first["nextRecordsUrl"])
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (second["totalSize"], second["done"], len(second["records"])) == (2500, True, 500)
    assert "nextRecordsUrl" not in second
    ids = [r["Id"] for r in first["records"] + second["records"]]
    assert len(set(ids)) == 2500


def test_batch_size_header_and_query_all_iter(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.generate_tasks(450)
    first = sf.query("SELECT Id FROM Task", headers=SMALL_BATCH)
    assert len(first["records"]) == 200 and first["nextRecordsUrl"].endswith("-200")
    records = list(sf.query_all_iter("SELECT Id FROM Task", headers=SMALL_BATCH))
    assert len(records) == 450 and len({r["Id"] for r in records}) == 450
    assert emu.counters()["by_resource"]["query"] == 4  # first page above + three pages of the iteration


@pytest.mark.parametrize(("asked", "served"), [("batchSize=50", 200), ("batchSize=5000", 2000), ("junk", 2000)])
def test_batch_size_is_clamped(emu: EmulatorProcess, sf: Salesforce, asked: str, served: int) -> None:
    emu.generate_tasks(2100)
    page = sf.query("SELECT Id FROM Task", headers={"Sforce-Query-Options": asked})
    assert len(page["records"]) == served


def test_query_all_returns_everything_in_one_dict(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.generate_tasks(2300)
    result = sf.query_all("SELECT Id, OwnerId FROM Task")
    assert result["totalSize"] == 2300 and result["done"] is True and len(result["records"]) == 2300


def test_records_carry_attributes_and_wire_formats(sf: Salesforce) -> None:
    created = sf.Task.create({"Subject": "Wire", "ActivityDate": "2024-05-01", "Priority": "High"})
    record = sf.query(
        "SELECT Id, Subject, ActivityDate, IsHighPriority, CreatedDate FROM Task WHERE Subject = 'Wire'"
    )["records"][0]
    assert record["attributes"] == {"type": "Task", "url": f"/services/data/v59.0/sobjects/Task/{created['id']}"}
    assert list(record) == ["attributes", "Id", "Subject", "ActivityDate", "IsHighPriority", "CreatedDate"]
    assert record["ActivityDate"] == "2024-05-01" and record["IsHighPriority"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])


def test_count_answers_total_size_with_no_records(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.generate_tasks(30)
    result = sf.query("SELECT COUNT() FROM Task")
    assert result == {"totalSize": 30, "done": True, "records": []}


def test_query_hides_deleted_and_archived_query_all_shows_them(emu: EmulatorProcess, sf: Salesforce) -> None:
    live = sf.Task.create({"Subject": "live"})["id"]
    gone = sf.Task.create({"Subject": "gone"})["id"]
    sf.Task.delete(gone)
    old_due = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()
    old = sf.Task.create({"Subject": "old", "Status": "Completed", "ActivityDate": old_due})["id"]
    assert emu.archive() == 1
    visible = {r["Id"] for r in sf.query_all("SELECT Id FROM Task")["records"]}
    assert visible == {live}
    everything = sf.query_all("SELECT Id, IsDeleted, IsArchived FROM Task", include_deleted=True)["records"]
    flags = {r["Id"]: (r["IsDeleted"], r["IsArchived"]) for r in everything}
    assert flags == {live: (False, False), gone: (True, False), old: (False, True)}


def test_query_all_locator_points_at_query_all(emu: EmulatorProcess, sf: Salesforce) -> None:
    assert emu.generate_tasks(250) == 250
    doomed = [r["Id"] for r in sf.query("SELECT Id FROM Task LIMIT 10")["records"]]
    sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(doomed)})
    first = sf.query("SELECT Id FROM Task", include_deleted=True, headers=SMALL_BATCH)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/queryAll/01g")
    everything = list(sf.query_all_iter("SELECT Id FROM Task", include_deleted=True, headers=SMALL_BATCH))
    assert len(everything) == 250
    assert len(list(sf.query_all_iter("SELECT Id FROM Task", headers=SMALL_BATCH))) == 240


def test_where_order_limit_offset(emu: EmulatorProcess, sf: Salesforce, users: dict) -> None:
    ava, ben = users["Ava"]["Id"], users["Ben"]["Id"]
    emu.seed(tasks=[{"Subject": f"T{i}", "OwnerId": ava if i % 2 else ben, "ActivityDate": f"2024-05-{i + 1:02d}"}
                    for i in range(10)])
    result = sf.query(f"SELECT Subject FROM Task WHERE OwnerId = '{ava}' ORDER BY ActivityDate DESC LIMIT 3 OFFSET 1")
    assert [r["Subject"] for r in result["records"]] == ["T7", "T5", "T3"]
    assert result["totalSize"] == 3


def test_users_are_queryable(sf: Salesforce, users: dict) -> None:
    result = sf.query("SELECT Id, Name, IsActive FROM User WHERE IsActive = true ORDER BY Name")
    assert [r["Name"] for r in result["records"]] == ["Ava Reyes", "Ben Okafor", "Chloe Martin", "Integration User"]
    assert all(r["attributes"]["type"] == "User" for r in result["records"])


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM", "MALFORMED_QUERY"),
        ("SELECT Bogus__c FROM Task", "INVALID_FIELD"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
    ],
)
def test_bad_soql_raises_malformed_request(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query(soql)
    assert info.value.status == 400
    assert info.value.content[0]["errorCode"] == code


def test_missing_query_and_bad_locator(raw) -> None:
    missing = raw.get("query")
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "MALFORMED_QUERY"
    bad = raw.get("query/01g5e0000000000AAA-2000")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"

"""Describe resources, limits, the Sforce-Limit-Info header and API accounting."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce, SalesforceRefusedRequest
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sf_emulator.process import EmulatorProcess


def test_global_describe_lists_task_and_user(sf: Salesforce) -> None:
    described = sf.describe()
    by_name = {s["name"]: s for s in described["sobjects"]}
    assert by_name["Task"]["keyPrefix"] == "00T" and by_name["Task"]["queryable"] is True
    assert by_name["User"]["keyPrefix"] == "005"
    assert described["maxBatchSize"] == 200


def test_task_describe_reports_fields_as_salesforce(sf: Salesforce) -> None:
    described = sf.Task.describe()
    assert described["name"] == "Task" and described["keyPrefix"] == "00T"
    fields = {f["name"]: f for f in described["fields"]}
    status = fields["Status"]
    assert (status["type"], status["nillable"], status["defaultedOnCreate"]) == ("picklist", False, True)
    assert [p["value"] for p in status["picklistValues"]] == [
        "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]
    assert [p["value"] for p in status["picklistValues"] if p["defaultValue"]] == ["Not Started"]
    assert [p["value"] for p in fields["Priority"]["picklistValues"] if p["defaultValue"]] == ["Normal"]
    assert [p["value"] for p in fields["Type"]["picklistValues"]] == ["Call", "Email", "Meeting", "Other"]
    ext = fields["Sales_Connect_Id__c"]
    assert (ext["type"], ext["length"], ext["externalId"], ext["unique"], ext["custom"]) == (
        "string", 64, True, True, True)
    assert (fields["Subject"]["type"], fields["Subject"]["length"]) == ("combobox", 255)
    assert fields["Description"]["length"] == 32000
    assert fields["ActivityDate"]["type"] == "date"
    assert fields["SystemModstamp"]["type"] == "datetime"
    for read_only in ("Id", "IsClosed", "IsHighPriority", "CompletedDateTime", "SystemModstamp", "IsDeleted"):
        assert fields[read_only]["createable"] is False and fields[read_only]["updateable"] is False
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    assert fields["TaskSubtype"]["createable"] is True and fields["TaskSubtype"]["updateable"] is False


def test_user_describe(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.User.describe()["fields"]}
    assert {"Id", "Username", "Name", "Email", "IsActive", "TimeZoneSidKey"} <= set(fields)
    assert fields["IsActive"]["type"] == "boolean"


def test_unknown_object_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Widget__c.describe()
    assert info.value.content == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_limits_and_usage_header(emu: EmulatorProcess, sf: Salesforce, raw) -> None:
    emu.set_api_limit(500)
    sf.query("SELECT Id FROM Task")
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 500, "Remaining": 498}
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 500
    response = raw.get("sobjects/Task/describe")
    assert response.headers["Sforce-Limit-Info"] == "api-usage=3/500"
    error = raw.get("sobjects/Task/00Tbad")
    assert error.status_code == 400 and error.headers["Sforce-Limit-Info"] == "api-usage=4/500"


def test_counters_by_resource_family(emu: EmulatorProcess, sf: Salesforce) -> None:
    task = sf.Task.create({"Subject": "count me"})
    sf.Task.update(task["id"], {"Subject": "again"})
    sf.query("SELECT Id FROM Task")
    sf.Task.describe()
    sf.limits()
    sf.restful("composite/sobjects", method="POST",
               json={"records": [{"attributes": {"type": "Task"}, "Subject": "x"}]})
    counters = emu.counters()
    assert counters["by_resource"] == {"collections": 1, "describe": 1, "limits": 1, "query": 1, "sobject": 2}
    assert counters["total"] == 6
    assert emu.reset_counters()["total"] == 0


def test_allowance_exhausted_refuses_requests(emu: EmulatorProcess, sf: Salesforce, raw) -> None:
    emu.set_api_limit(3)
    for _ in range(3):
        sf.query("SELECT Id FROM Task")
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Task")
    assert info.value.status == 403
    assert info.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    refused = raw.get("limits")
    assert refused.status_code == 403 and refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"
    assert emu.counters()["total"] == 3
    emu.set_api_limit(10)
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_usage_is_a_rolling_24_hour_window(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_api_limit(2)
    sf.limits()
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    emu.advance_clock(24 * 3600 + 120)
    assert sf.limits()["DailyApiRequests"] == {"Max": 2, "Remaining": 1}
    assert emu.counters()["total"] == 3

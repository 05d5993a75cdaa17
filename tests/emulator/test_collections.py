"""sObject Collections: per-record results in request order, allOrNone, the 200-record cap, row locks."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_emulator.process import EmulatorProcess

ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def _task(**fields: object) -> dict:
    return {"attributes": {"type": "Task"}, **fields}


def _create(sf: Salesforce, records: list[dict], all_or_none: bool = False) -> list[dict]:
    return sf.restful("composite/sobjects", method="POST", json={"allOrNone": all_or_none, "records": records})


def test_create_reports_each_record_in_order(emu: EmulatorProcess, sf: Salesforce) -> None:
    results = _create(sf, [_task(Subject="ok 1"), _task(Subject="x" * 256), _task(Subject="ok 2", Status=None),
                           _task(Subject="ok 3")])
    assert [r["success"] for r in results] == [True, False, False, True]
    assert results[1] == {"success": False, "errors": [{
        "statusCode": "STRING_TOO_LONG", "message": results[1]["errors"][0]["message"], "fields": ["Subject"]}]}
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[0]["errors"] == [] and "id" in results[0] and "id" not in results[1]
    assert sorted(t["Subject"] for t in emu.tasks()) == ["ok 1", "ok 3"]


def test_all_or_none_rolls_everything_back(emu: EmulatorProcess, sf: Salesforce) -> None:
    results = _create(sf, [_task(Subject="a"), _task(Priority="Urgent"), _task(Subject="c")], all_or_none=True)
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == [ROLLED_BACK, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ROLLED_BACK]
    assert all(r["success"] is False for r in results)
    assert emu.tasks() == []


def test_update_and_delete_collections(emu: EmulatorProcess, sf: Salesforce) -> None:
    ids = [r["id"] for r in _create(sf, [_task(Subject=f"t{i}") for i in range(3)])]
    sf.Task.delete(ids[2])
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Task"}, "id": ids[0], "Status": "Completed"},
        {"attributes": {"type": "Task"}, "id": ids[1], "Subject": "y" * 300},
        {"attributes": {"type": "Task"}, "id": ids[2], "Subject": "deleted"},
        {"attributes": {"type": "Task"}, "Subject": "no id"},
    ]})
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in results[1:]] == [
        "STRING_TOO_LONG", "ENTITY_IS_DELETED", "MISSING_ARGUMENT"]
    assert results[2]["id"] == ids[2]
    assert sf.Task.get(ids[0])["IsClosed"] is True
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{ids[0]},{ids[2]}"})
    assert deleted[0] == {"id": ids[0], "success": True, "errors": []}
    assert deleted[1]["success"] is False and deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    rolled = sf.restful("composite/sobjects", method="DELETE",
                        params={"ids": f"{ids[1]},{ids[2]}", "allOrNone": "true"})
    assert [r["errors"][0]["statusCode"] for r in rolled] == [ROLLED_BACK, "ENTITY_IS_DELETED"]
    assert sf.Task.get(ids[1])["IsDeleted"] is False


def test_upsert_collection_by_external_id(sf: Salesforce) -> None:
    sf.Task.upsert("Sales_Connect_Id__c/e-1", {"Subject": "existing"})
    results = sf.restful("composite/sobjects/Task/Sales_Connect_Id__c", method="PATCH", json={"records": [
        _task(Sales_Connect_Id__c="e-1", Subject="updated"),
        _task(Sales_Connect_Id__c="e-2", Subject="new"),
        _task(Subject="no key"),
    ]})
    assert (results[0]["created"], results[1]["created"]) == (False, True)
    assert results[2]["success"] is False
    assert sf.Task.get_by_custom_id("Sales_Connect_Id__c", "e-1")["Subject"] == "updated"
    assert sf.Task.get(results[1]["id"])["Sales_Connect_Id__c"] == "e-2"


def test_more_than_200_records_is_refused(emu: EmulatorProcess, sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        _create(sf, [_task(Subject=str(i)) for i in range(201)])
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert len(_create(sf, [_task(Subject=str(i)) for i in range(200)])) == 200
    assert len(emu.tasks()) == 200


def test_whole_request_errors(sf: Salesforce) -> None:
    for body, code in (({"records": [{"Subject": "no type"}]}, "INVALID_TYPE"),
                       ({"records": [_task(Bogus__c="x")]}, "INVALID_FIELD"),
                       ({"records": [_task(ActivityDate="tomorrow")]}, "JSON_PARSER_ERROR"),
                       ({"records": "nope"}, "JSON_PARSER_ERROR")):
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.restful("composite/sobjects", method="POST", json=body)
        assert info.value.content[0]["errorCode"] == code


def test_locked_rows_fail_alone(emu: EmulatorProcess, sf: Salesforce) -> None:
    ids = [r["id"] for r in _create(sf, [_task(Subject=f"t{i}") for i in range(3)])]
    emu.lock_rows([ids[1]], count=2)
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Task"}, "id": i, "Subject": "edited"} for i in ids]})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.update(ids[1], {"Subject": "edited"})
    assert info.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Task.update(ids[1], {"Subject": "edited at last"}) == 204
    assert [t["Subject"] for t in emu.tasks(ids)] == ["edited", "edited at last", "edited"]

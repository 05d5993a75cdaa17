"""Upsert by the Sales_Connect_Id__c external id (and by Id), including the 300 multiple-match answer."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sf_emulator.process import EmulatorProcess


def test_upsert_creates_then_updates(sf: Salesforce) -> None:
    assert sf.Task.upsert("Sales_Connect_Id__c/sc-1", {"Subject": "first"}) == 201
    created = sf.Task.upsert("Sales_Connect_Id__c/sc-2", {"Subject": "second"}, raw_response=True)
    assert created.status_code == 201
    body = created.json()
    assert body["created"] is True and body["success"] is True and body["errors"] == []
    updated = sf.Task.upsert("Sales_Connect_Id__c/sc-2", {"Subject": "second, edited"}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    task = sf.Task.get_by_custom_id("Sales_Connect_Id__c", "sc-2")
    assert (task["Id"], task["Subject"], task["Sales_Connect_Id__c"]) == (body["id"], "second, edited", "sc-2")


def test_upsert_by_id(sf: Salesforce) -> None:
    task_id = sf.Task.create({"Subject": "by id"})["id"]
    response = sf.Task.upsert(f"Id/{task_id}", {"Subject": "changed"}, raw_response=True)
    assert response.status_code == 200 and response.json()["created"] is False
    assert sf.Task.get(task_id)["Subject"] == "changed"


def test_upsert_ignores_deleted_matches(sf: Salesforce) -> None:
    sf.Task.upsert("Sales_Connect_Id__c/sc-9", {"Subject": "old"})
    old = sf.Task.get_by_custom_id("Sales_Connect_Id__c", "sc-9")["Id"]
    sf.Task.delete(old)
    response = sf.Task.upsert("Sales_Connect_Id__c/sc-9", {"Subject": "new"}, raw_response=True)
    assert response.status_code == 201 and response.json()["id"] != old


def test_multiple_matches_answer_300(emu: EmulatorProcess, sf: Salesforce) -> None:
    # Two rows sharing a value can only predate the field's uniqueness: seeding allows it.
    ids = emu.seed(tasks=[{"Subject": "a", "Sales_Connect_Id__c": "dup"},
                          {"Subject": "b", "Sales_Connect_Id__c": "dup"}])["tasks"]
    with pytest.raises(SalesforceMoreThanOneRecord) as info:
        sf.Task.upsert("Sales_Connect_Id__c/dup", {"Subject": "which?"})
    assert info.value.status == 300
    assert sorted(info.value.content) == sorted(f"/services/data/v59.0/sobjects/Task/{i}" for i in ids)


def test_external_id_is_unique_on_insert_and_update(sf: Salesforce) -> None:
    sf.Task.create({"Subject": "one", "Sales_Connect_Id__c": "u-1"})
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Subject": "two", "Sales_Connect_Id__c": "u-1"})
    assert info.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    other = sf.Task.create({"Subject": "three"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.update(other, {"Sales_Connect_Id__c": "u-1"})
    assert info.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_unknown_external_id_field_is_not_found(sf: Salesforce) -> None:
    for field in ("Subject", "Nope__c"):
        with pytest.raises(SalesforceResourceNotFound) as info:
            sf.Task.upsert(f"{field}/x", {"Subject": "y"})
        assert info.value.content[0]["errorCode"] == "NOT_FOUND"


def test_upsert_validates_like_create(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.upsert("Sales_Connect_Id__c/v-1", {"Subject": "x" * 300})
    assert info.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.upsert("Sales_Connect_Id__c/" + "x" * 65, {"Subject": "long key"})
    assert info.value.content[0]["errorCode"] == "STRING_TOO_LONG"


def test_external_id_matching_is_case_insensitive(sf: Salesforce) -> None:
    first = sf.Task.upsert("Sales_Connect_Id__c/Case-1", {"Subject": "one"}, raw_response=True).json()
    again = sf.Task.upsert("Sales_Connect_Id__c/CASE-1", {"Subject": "two"}, raw_response=True).json()
    assert again == {"id": first["id"], "success": True, "errors": [], "created": False}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Sales_Connect_Id__c": "case-1"})
    assert info.value.content[0]["errorCode"] == "DUPLICATE_VALUE"

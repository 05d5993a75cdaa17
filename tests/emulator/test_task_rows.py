"""Single-record Task create/get/update/delete with Salesforce's semantics and error shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sf_emulator.ids import is_valid_id, make_id, to_18
from sf_emulator.process import EmulatorProcess


def _error(info: pytest.ExceptionInfo) -> dict:
    assert isinstance(info.value.content, list) and len(info.value.content) == 1
    return info.value.content[0]


def test_create_applies_defaults_and_system_fields(emu: EmulatorProcess, sf: Salesforce, users: dict) -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    emu.set_clock(moment)
    created = sf.Task.create({"Subject": "Call back"})
    assert created["success"] is True and created["errors"] == []
    task_id = created["id"]
    assert len(task_id) == 18 and task_id.startswith("00T") and is_valid_id(task_id) and to_18(task_id) == task_id
    task = sf.Task.get(task_id)
    assert (task["Status"], task["Priority"], task["IsClosed"], task["IsHighPriority"]) == (
        "Not Started", "Normal", False, False)
    assert task["OwnerId"] == task["CreatedById"] == task["LastModifiedById"] == users["Integration"]["Id"]
    assert task["CreatedDate"].startswith("2024-05-01T12:00:0")
    assert task["CreatedDate"].endswith("+0000")
    assert task["SystemModstamp"] == task["LastModifiedDate"] == task["CreatedDate"]
    assert task["IsDeleted"] is False and task["CompletedDateTime"] is None


def test_get_with_fields_and_15_char_id(sf: Salesforce) -> None:
    task_id = sf.Task.create({"Subject": "Pick", "Type": "Call"})["id"]
    picked = sf.Task.get(task_id[:15], params={"fields": "Subject,type"})
    assert picked == {"attributes": {"type": "Task", "url": f"/services/data/v59.0/sobjects/Task/{task_id}"},
                      "Subject": "Pick", "Type": "Call"}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.get(task_id, params={"fields": "Subject,Nope"})
    assert _error(info)["errorCode"] == "INVALID_FIELD"


def test_closing_and_reopening_drive_derived_fields(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_clock(datetime(2024, 5, 1, 9, 0, tzinfo=UTC))
    task_id = sf.Task.create({"Subject": "Close me", "Priority": "High"})["id"]
    assert sf.Task.get(task_id)["IsHighPriority"] is True
    emu.set_clock(datetime(2024, 5, 2, 9, 0, tzinfo=UTC))
    assert sf.Task.update(task_id, {"Status": "Completed"}) == 204
    closed = sf.Task.get(task_id)
    assert closed["IsClosed"] is True and closed["CompletedDateTime"].startswith("2024-05-02T09:00:0")
    assert closed["LastModifiedDate"].startswith("2024-05-02") and closed["CreatedDate"].startswith("2024-05-01")
    emu.set_clock(datetime(2024, 5, 3, 9, 0, tzinfo=UTC))
    sf.Task.update(task_id, {"Subject": "still closed"})
    assert sf.Task.get(task_id)["CompletedDateTime"] == closed["CompletedDateTime"]
    sf.Task.update(task_id, {"Status": "In Progress", "Priority": "Low"})
    reopened = sf.Task.get(task_id)
    assert (reopened["IsClosed"], reopened["CompletedDateTime"], reopened["IsHighPriority"]) == (False, None, False)


def test_reminder_fields(sf: Salesforce) -> None:
    task_id = sf.Task.create({"ReminderDateTime": "2024-05-01T08:30:00+02:00", "IsReminderSet": True})["id"]
    task = sf.Task.get(task_id)
    assert (task["ReminderDateTime"], task["IsReminderSet"]) == ("2024-05-01T06:30:00.000+0000", True)
    sf.Task.update(task_id, {"ReminderDateTime": None, "IsReminderSet": None})
    cleared = sf.Task.get(task_id)
    assert (cleared["ReminderDateTime"], cleared["IsReminderSet"]) == (None, False)


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"Status": None}, "REQUIRED_FIELD_MISSING", ["Status"]),
        ({"Priority": None}, "REQUIRED_FIELD_MISSING", ["Priority"]),
        ({"Subject": "x" * 256}, "STRING_TOO_LONG", ["Subject"]),
        ({"Description": "x" * 32001}, "STRING_TOO_LONG", ["Description"]),
        ({"Status": "Done-ish"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Status"]),
        ({"Priority": "Urgent"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Priority"]),
        ({"IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsClosed"]),
        ({"CreatedDate": "2024-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["CreatedDate"]),
        ({"Bogus__c": 1}, "INVALID_FIELD", ["Bogus__c"]),
        ({"OwnerId": "not-an-id"}, "MALFORMED_ID", ["OwnerId"]),
        ({"OwnerId": "0055e00000009zzAAB"}, "MALFORMED_ID", ["OwnerId"]),
        ({"OwnerId": "0055e000000zzzz"}, "INVALID_CROSS_REFERENCE_KEY", ["OwnerId"]),
    ],
)
def test_create_validation_errors(sf: Salesforce, body: dict, code: str, fields: list) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create(body)
    assert info.value.status == 400
    error = _error(info)
    assert error["errorCode"] == code and error["fields"] == fields
    assert error["message"]


@pytest.mark.parametrize("value", ["2024-13-45", "05/01/2024", 20240501])
def test_bad_activity_date_is_a_json_parser_error(sf: Salesforce, value: object) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"ActivityDate": value})
    error = _error(info)
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    assert error["message"].startswith("Cannot deserialize instance of date from VALUE_")


def test_long_values_at_the_limit_are_accepted(sf: Salesforce) -> None:
    task_id = sf.Task.create({"Subject": "s" * 255, "Description": "d" * 32000})["id"]
    task = sf.Task.get(task_id)
    assert len(task["Subject"]) == 255 and len(task["Description"]) == 32000


def test_type_is_an_open_picklist(sf: Salesforce) -> None:
    task_id = sf.Task.create({"Type": "Demo"})["id"]
    assert sf.Task.get(task_id)["Type"] == "Demo"


def test_owner_must_be_an_active_user(sf: Salesforce, users: dict) -> None:
    task_id = sf.Task.create({"OwnerId": users["Ava"]["Id"]})["id"]
    assert sf.Task.get(task_id)["OwnerId"] == users["Ava"]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.update(task_id, {"OwnerId": users["Dan"]["Id"]})
    assert _error(info)["errorCode"] == "INACTIVE_OWNER_OR_USER"


def test_update_refuses_read_only_and_create_only_fields(sf: Salesforce) -> None:
    task_id = sf.Task.create({"TaskSubtype": "Call"})["id"]
    for body in ({"TaskSubtype": "Email"}, {"IsClosed": True}, {"Id": task_id}):
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.Task.update(task_id, body)
        assert _error(info)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_ids_not_found_malformed_and_deleted(sf: Salesforce, raw) -> None:
    task_id = sf.Task.create({"Subject": "to delete"})["id"]
    assert sf.Task.delete(task_id) == 204
    for call in (lambda: sf.Task.get(task_id), lambda: sf.Task.update(task_id, {"Subject": "x"}),
                 lambda: sf.Task.delete(task_id)):
        with pytest.raises(SalesforceResourceNotFound) as info:
            call()
        assert info.value.status == 404
        assert _error(info) == {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Task.get(make_id("00T", "5e0000", 999_999))
    assert _error(info) == {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    for bad in ("00T123", "0055e0000000001AAA", "00T5e0000000001XYZ"):
        response = raw.get(f"sobjects/Task/{bad}")
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "MALFORMED_ID"


def test_delete_moves_to_recycle_bin(emu: EmulatorProcess, sf: Salesforce) -> None:
    task_id = sf.Task.create({"Subject": "bin"})["id"]
    before = sf.Task.get(task_id)["SystemModstamp"]
    emu.advance_clock(60)
    sf.Task.delete(task_id)
    row = emu.tasks([task_id])[0]
    assert row["IsDeleted"] is True and row["DeletedDate"] == row["SystemModstamp"] and row["SystemModstamp"] > before


def test_caller_and_client_name_are_recorded(emu: EmulatorProcess, users: dict) -> None:
    ava_session = emu.new_session(users["Ava"]["Username"])
    sf = Salesforce(instance_url=emu.instance_url, session_id=ava_session, session=emu.requests_session())
    options = {"Sforce-Call-Options": "client=SalesConnectSync"}
    task_id = sf.Task.create({"Subject": "by Ava"}, headers=options)["id"]
    task = sf.Task.get(task_id)
    assert task["OwnerId"] == task["CreatedById"] == users["Ava"]["Id"]
    assert emu.tasks([task_id])[0]["LastWriteClient"] == "SalesConnectSync"
    main = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())
    main.Task.update(task_id, {"Subject": "by a person"})
    row = emu.tasks([task_id])[0]
    assert row["LastWriteClient"] is None and row["LastModifiedById"] == users["Integration"]["Id"]


def test_user_records_are_read_only_through_the_api(sf: Salesforce) -> None:
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.User.create({"LastName": "Nope"})
    assert _error(info)["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_concurrent_writers_get_distinct_ids(emu: EmulatorProcess) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def writer(n: int) -> list[str]:
        sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())
        return [sf.Task.create({"Subject": f"w{n}-{i}"})["id"] for i in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [task_id for batch in pool.map(writer, range(8)) for task_id in batch]
    assert len(set(ids)) == 200
    assert sorted(t["Id"] for t in emu.tasks()) == sorted(ids)
    assert emu.counters()["by_resource"]["sobject"] == 200

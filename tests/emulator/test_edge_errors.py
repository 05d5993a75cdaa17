"""Less common failure modes, checked on the wire with plain HTTPS."""

from __future__ import annotations

import socket

import pytest
import requests

from sf_emulator.process import EmulatorError, EmulatorProcess
from sf_emulator.query import MAX_OPEN_CURSORS


def _code(response) -> str:
    return response.json()[0]["errorCode"]


def test_bad_json_body(raw) -> None:
    response = raw.post("sobjects/Task", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and _code(response) == "JSON_PARSER_ERROR"
    assert "line:1" in response.json()[0]["message"]
    empty = raw.post("sobjects/Task", data="", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400 and _code(empty) == "JSON_PARSER_ERROR"


def test_replication_parameter_errors(raw) -> None:
    missing = raw.get("sobjects/Task/updated/", params={"start": "2024-05-01T00:00:00Z"})
    assert missing.status_code == 400 and _code(missing) == "MISSING_ARGUMENT"
    garbage = raw.get("sobjects/Task/deleted/", params={"start": "yesterday", "end": "today"})
    assert garbage.status_code == 400 and _code(garbage) == "INVALID_REPLICATION_DATE"


def test_upsert_body_must_agree_with_the_url(raw) -> None:
    response = raw.patch("sobjects/Task/Sales_Connect_Id__c/k-1", json={"Sales_Connect_Id__c": "k-2"})
    assert response.status_code == 400 and _code(response) == "INVALID_FIELD"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code"),
    [
        ("POST", "composite/sobjects", {"json": {"allOrNone": "yes", "records": []}}, "JSON_PARSER_ERROR"),
        ("POST", "composite/sobjects", {"json": {"records": [{"attributes": {"type": "Widget"}}]}}, "INVALID_TYPE"),
        ("POST", "composite/sobjects",
         {"json": {"records": [{"attributes": {"type": "Task"}, "id": "00T5e0000000001EAA"}]}}, "INVALID_FIELD"),
        ("PATCH", "composite/sobjects/Task/Sales_Connect_Id__c",
         {"json": {"records": [{"attributes": {"type": "User"}, "LastName": "x"}]}}, "INVALID_TYPE"),
        ("DELETE", "composite/sobjects", {}, "MISSING_ARGUMENT"),
        ("DELETE", "composite/sobjects", {"params": {"ids": ",".join(["00T5e0000000001EAA"] * 201)}},
         "EXCEEDED_ID_LIMIT"),
    ],
)
def test_collection_request_errors(raw, method: str, path: str, kwargs: dict, code: str) -> None:
    response = raw.request(method, path, **kwargs)
    assert response.status_code == 400 and _code(response) == code


def test_collection_delete_reports_malformed_ids_per_record(raw) -> None:
    results = raw.delete("composite/sobjects", params={"ids": "bogus,00T5e0000000001EAB"}).json()
    assert [r["errors"][0]["statusCode"] for r in results] == ["MALFORMED_ID", "MALFORMED_ID"]


def test_oldest_cursor_is_dropped_when_too_many_are_open(emu: EmulatorProcess, raw) -> None:
    emu.generate_tasks(201)
    headers = {"Sforce-Query-Options": "batchSize=200"}
    locators = [raw.get("query", params={"q": "SELECT Id FROM Task"}, headers=headers).json()["nextRecordsUrl"]
                for _ in range(MAX_OPEN_CURSORS + 1)]
    oldest = raw.get(f"https://{emu.instance_url.removeprefix('https://')}{locators[0]}")
    assert oldest.status_code == 400 and _code(oldest) == "INVALID_QUERY_LOCATOR"
    newest = raw.get(f"{emu.instance_url}{locators[-1]}")
    assert newest.status_code == 200 and newest.json()["done"] is True and len(newest.json()["records"]) == 1
    # a finished cursor is closed
    again = raw.get(f"{emu.instance_url}{locators[-1]}")
    assert again.status_code == 400 and _code(again) == "INVALID_QUERY_LOCATOR"


def test_control_plane_rejects_bad_bodies(emu: EmulatorProcess) -> None:
    kept = emu.seed(tasks=[{"Subject": "survives refused requests"}])["tasks"]
    for method, path, body, message in (
        ("POST", "seed", {"accounts": []}, "unknown seed keys"),
        ("POST", "seed", {"generate_tasks": {"count": -1}}, "generate_tasks"),
        ("POST", "seed", {"generate_tasks": {"count": 5, "owner_ids": ["0055e0000000005AAA"]}}, "active users"),
        ("POST", "seed", {"tasks": [{"ActivityDate": "someday"}]}, "JSON_PARSER_ERROR"),
        ("POST", "limits", {"daily_api_requests": -5}, "daily_api_requests must be an integer of at least 0"),
        ("POST", "clock", {"advance_seconds": "soon"}, "number"),
        ("POST", "reset", {"seed": "everything"}, "seed must be"),
        ("POST", "sessions", {"username": "nobody@example.com"}, "no such user"),
    ):
        with pytest.raises(EmulatorError, match=message):
            emu.control(method, path, body)
    assert [t["Id"] for t in emu.tasks()] == kept


def test_port_in_use_fails_to_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EmulatorError, match="cannot listen"):
            EmulatorProcess(port=port).start()



def test_a_query_uri_longer_than_16384_bytes_is_refused_with_414(raw) -> None:
    """Salesforce caps the request URI (path and query string, URL-encoded as sent) at 16,384 bytes."""
    def query(ids: int) -> str:
        return "SELECT Id FROM Task WHERE Id IN (" + ",".join(["'00T000000000001AAA'"] * ids) + ")"

    def uri_bytes(ids: int) -> int:
        prepared = requests.Request("GET", f"{raw.base}/query/", params={"q": query(ids)}).prepare()
        return len(prepared.path_url)

    fits = max(n for n in range(1, 1000) if uri_bytes(n) <= 16_384)
    ok = raw.get("query/", params={"q": query(fits)})
    assert ok.status_code == 200, ok.text
    too_long = raw.get("query/", params={"q": query(fits + 1)})
    assert uri_bytes(fits + 1) > 16_384
    assert too_long.status_code == 414 and _code(too_long) == "URI_TOO_LONG"

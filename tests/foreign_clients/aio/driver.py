"""Drives aiosalesforce, unchanged, against the emulator: `driver.py <scenario>` with JSON input on stdin.

Runs in `.venv-foreign` (aiosalesforce and its own httpx), never in the project's venv.
Prints one JSON line with what the client saw. Only the base URL (resolved to the
emulator, see `_ToEmulator`) and the CA bundle (httpx's `verify=`) point it at the emulator.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
from aiosalesforce import Salesforce
from aiosalesforce.auth import SoapLogin
from aiosalesforce.exceptions import SalesforceError

ENV = os.environ
VERSION = "60.0"


class _ToEmulator(httpx.AsyncHTTPTransport):
    """Resolves the My Domain host to the emulator's address, as a hosts-file entry would.

    aiosalesforce accepts only `https://<domain>.my.salesforce.com` base URLs. The request keeps
    its Host header and TLS server name, so the emulator's certificate is verified for that name.
    """

    def __init__(self, address: httpx.URL, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._address = address

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == ENV["EMU_MY_DOMAIN"]:
            request.extensions = {**request.extensions, "sni_hostname": request.url.host}
            request.url = request.url.copy_with(host=self._address.host, port=self._address.port)
        return await super().handle_async_request(request)


def _http() -> httpx.AsyncClient:
    transport = _ToEmulator(httpx.URL(ENV["EMU_INSTANCE_URL"]), verify=ENV["EMU_CA_BUNDLE"])
    return httpx.AsyncClient(transport=transport, timeout=60)


def _client(http: httpx.AsyncClient) -> Salesforce:
    """aiosalesforce's normal login: SOAP with username, password and security token."""
    auth = SoapLogin(username=ENV["EMU_USERNAME"], password=ENV["EMU_PASSWORD"],
                     security_token=ENV["EMU_SECURITY_TOKEN"])
    return Salesforce(http, base_url=f"https://{ENV['EMU_MY_DOMAIN']}", auth=auth, version=VERSION)


async def _rows(sf: Salesforce, soql: str, include_all_records: bool = False) -> list[dict]:
    return [record async for record in sf.query(soql, include_all_records=include_all_records)]


async def _bulk(sf: Salesforce, operation: str, data: list[dict], **options: Any) -> tuple[int, int]:
    """One Bulk API 2.0 ingest through aiosalesforce's job API (polling every 0.2 s instead of 5 s)."""
    done = failed = 0
    async for result in sf.bulk_v2.ingest.perform_operation(operation=operation, sobject="Task", data=data,
                                                            polling_interval=0.2, **options):
        done += len(result.successful_results)
        failed += len(result.failed_results)
    return done, failed


async def sync_cycle(sf: Salesforce, payload: dict) -> dict:
    """Login, describe, full read, single-record writes, delete by external id, Bulk 2.0 writes."""
    describe = (await sf.request("GET", f"{sf.base_url}/services/data/v{VERSION}/sobjects/Task/describe")).json()
    full = await _rows(sf, "SELECT Id, Subject, SystemModstamp FROM Task")
    first = await sf.sobject.create("Task", {"Subject": "aio 1", "Sales_Connect_Id__c": "AIO-1"})
    second = await sf.sobject.create("Task", {"Subject": "aio 2", "Sales_Connect_Id__c": "AIO-2"})
    await sf.sobject.update("Task", first, {"Status": "In Progress"})
    got = await sf.sobject.get("Task", first, fields=["Id", "Subject", "Status"])
    by_external = await sf.sobject.get("Task", "AIO-2", external_id_field="Sales_Connect_Id__c")
    upserted = [await sf.sobject.upsert("Task", key, external_id_field="Sales_Connect_Id__c",
                                        data={"Subject": f"upserted {key}"}) for key in ("AIO-1", "AIO-3")]
    await sf.sobject.delete("Task", "AIO-2", external_id_field="Sales_Connect_Id__c")
    try:
        await sf.sobject.get("Task", second)
        gone = None
    except SalesforceError as exc:
        gone = exc.error_code
    bulk = [
        await _bulk(sf, "insert", [{"Subject": "aio bulk 1", "Sales_Connect_Id__c": "AIO-B1"},
                                   {"Subject": "aio bulk 2", "Sales_Connect_Id__c": "AIO-B2"}]),
        await _bulk(sf, "upsert", [{"Subject": "aio bulk 1 again", "Sales_Connect_Id__c": "AIO-B1"}],
                    external_id_field="Sales_Connect_Id__c"),
        await _bulk(sf, "delete", [{"Id": by_id} for by_id in payload.get("delete_ids", [])]),
    ]
    return {
        "describe": {"name": describe["name"], "fields": len(describe["fields"])},
        "full": len(full), "got": got["Status"], "byExternal": by_external["Subject"],
        "upserted": [u.created for u in upserted], "gone": gone, "bulk": bulk,
    }


async def incremental(sf: Salesforce, payload: dict) -> dict:
    """The next run: rows changed since the last one, and the deleted rows (queryAll)."""
    since = payload["since"]
    changed = await _rows(sf, f"SELECT Id FROM Task WHERE SystemModstamp >= {since}")
    deleted = await _rows(sf, f"SELECT Id FROM Task WHERE IsDeleted = true AND SystemModstamp >= {since}",
                          include_all_records=True)
    every = await _rows(sf, "SELECT Id FROM Task", include_all_records=True)
    return {"changed": len(changed), "deleted": len(deleted), "all": len(every)}


async def composite(sf: Salesforce, payload: dict) -> dict:
    """Composite with references (all or none), a failing all-or-none one, and a Composite Batch."""
    async with sf.composite(all_or_none=True) as linked:
        created = linked.sobject.create("Task", {"Subject": "composite 1", "Sales_Connect_Id__c": "CMP-1"})
        # (aiosalesforce's composite `get` loses a reference in its URL; `update` keeps it.)
        linked.sobject.update("Task", created.reference.id, {"Description": f"made by {created.reference.id}"})
        listed = linked.query("SELECT Id, Subject FROM Task WHERE Sales_Connect_Id__c = 'CMP-1'")
    read_back = await sf.sobject.get("Task", created.id, fields=["Id", "Description"])
    async with sf.composite(all_or_none=True) as doomed:
        kept = doomed.sobject.create("Task", {"Subject": "rolled back", "Sales_Connect_Id__c": "CMP-2"})
        bad = doomed.sobject.update("Task", created.id, {"Status": "No Such Status"})
    async with sf.composite.batch(halt_on_error=True) as batch:
        batch_created = batch.sobject.create("Task", {"Subject": "batch 1"})
        missing = batch.sobject.get("Task", payload["missing_id"])
        after = batch.query("SELECT Id FROM Task")
    rolled_back = [r async for r in sf.query("SELECT Id FROM Task WHERE Sales_Connect_Id__c = 'CMP-2'")]
    return {
        "readBack": read_back["Description"] == f"made by {created.id}", "listed": len(listed.records),
        "doomed": [kept.status_code, bad.status_code, bad.response_body[0]["errorCode"],
                   kept.response_body[0]["errorCode"]],
        "rolledBack": len(rolled_back) == 0,
        "batch": [batch_created.status_code, missing.status_code, after.status_code],
    }


SCENARIOS = {"sync_cycle": sync_cycle, "incremental": incremental, "composite": composite}


async def main(name: str) -> None:
    payload = json.loads(sys.stdin.read() or "{}")
    async with _http() as http:
        sf = _client(http)
        result = await SCENARIOS[name](sf, payload)
        # What aiosalesforce parsed from login's userInfo.sessionSecondsValid (None: it never re-logs in).
        expires = getattr(sf.auth, "_expiration_time", None)
        result["sessionSecondsValid"] = round(expires - time.time(), -2) if expires else None
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

"""Response header names go out in Salesforce's canonical case, as read off the wire.

Some connectors look headers up case-sensitively (`headers["Sforce-Locator"]` on a plain dict),
so `sforce-locator` breaks their Bulk 2.0 downloads. `http.client` keeps the names as sent.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from urllib.parse import urlsplit

from foreign_harness import seed_tasks

from sf_emulator.process import EmulatorProcess


def _raw(emu: EmulatorProcess, method: str, path: str, body: dict | None = None) -> tuple[int, list[str], bytes]:
    """One request; the status, the header names exactly as they came over the wire, the body."""
    url = urlsplit(emu.instance_url)
    conn = http.client.HTTPSConnection(url.hostname, url.port,
                                       context=ssl.create_default_context(cafile=emu.ca_bundle))
    headers = {"Authorization": f"Bearer {emu.session_id}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    names = [name for name, _ in response.getheaders()]
    data = response.read()
    conn.close()
    return response.status, names, data


def test_rest_and_bulk_results_headers_arrive_in_canonical_case(emu: EmulatorProcess) -> None:
    seed_tasks(emu, 3)
    status, names, _ = _raw(emu, "GET", "/services/data/v59.0/query?q=SELECT+Id+FROM+Task")
    assert status == 200
    assert {"Content-Type", "Content-Length", "Sforce-Limit-Info", "Date"} <= set(names), names

    status, _, body = _raw(emu, "POST", "/services/data/v59.0/jobs/query",
                           {"operation": "query", "query": "SELECT Id FROM Task"})
    job_id = json.loads(body)["id"]
    for _ in range(100):
        if json.loads(_raw(emu, "GET", f"/services/data/v59.0/jobs/query/{job_id}")[2])["state"] == "JobComplete":
            break
        time.sleep(0.05)
    status, names, body = _raw(emu, "GET", f"/services/data/v59.0/jobs/query/{job_id}/results")
    assert status == 200 and body.count(b"\n") == 4
    assert {"Content-Type", "Sforce-Locator", "Sforce-NumberOfRecords", "Sforce-Limit-Info"} <= set(names), names
    assert not [n for n in names if n.islower()], names

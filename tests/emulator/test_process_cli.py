"""`python -m sf_emulator` and EmulatorProcess: the start-up line, seeds, limits, restarts on a state file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce, SalesforceExpiredSession, SalesforceRefusedRequest

from sf_emulator.process import EmulatorError, EmulatorProcess


def _sf(emu: EmulatorProcess) -> Salesforce:
    return Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())


def test_first_stdout_line_is_the_connection_json(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "sf_emulator", "--port", "0", "--state", str(tmp_path / "o.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    assert line["instance_url"].startswith("https://127.0.0.1:") and not line["instance_url"].endswith(":0")
    assert line["control_url"] == line["instance_url"] + "/_emulator"
    assert Path(line["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert Path(line["ca_bundle"]).parent == tmp_path / "o.db.tls"
    assert line["session_id"].startswith(line["org_id"][:15] + "!")
    assert proc.returncode == 0


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite3"
    with EmulatorProcess(state=state) as first:
        sf = _sf(first)
        task_id = sf.Task.create({"Subject": "persisted"})["id"]
        sf.Task.delete(sf.Task.create({"Subject": "binned"})["id"])
        first.advance_clock(3600)
        clock_before = first.clock()
        old_session, ca = first.session_id, first.ca_bundle
    with EmulatorProcess(state=state, seed="empty") as second:
        assert second.ca_bundle == ca
        assert second.clock() >= clock_before
        old = Salesforce(instance_url=second.instance_url, session_id=old_session,
                         session=second.requests_session())
        assert old.Task.get(task_id)["Subject"] == "persisted"
        assert len(second.tasks()) == 2
        assert len(second.info()["users"]) == 5  # the existing org was kept; --seed does not apply to it
        assert second.counters()["by_resource"]["sobject"] >= 3


def test_seed_empty_and_seed_file(tmp_path: Path) -> None:
    with EmulatorProcess(seed="empty") as emu:
        assert [u["Name"] for u in emu.info()["users"]] == ["Integration User"]
        assert _sf(emu).query("SELECT COUNT() FROM Task")["totalSize"] == 0
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "users": [{"Username": "eve@example.com", "LastName": "Eve", "Email": "eve@example.com"}],
        "tasks": [{"Subject": "seeded", "SystemModstamp": "2024-01-02T03:04:05Z", "CreatedDate": "2024-01-01T00:00:00Z",
                   "LastModifiedDate": "2024-01-02T03:04:05Z"}],
        "generate_tasks": {"count": 10},
    }))
    with EmulatorProcess(seed=str(seed)) as emu:
        sf = _sf(emu)
        assert "Eve" in {u["Name"] for u in emu.info()["users"]}
        record = sf.query("SELECT CreatedDate, SystemModstamp FROM Task WHERE Subject = 'seeded'")["records"][0]
        assert (record["CreatedDate"], record["SystemModstamp"]) == (
            "2024-01-01T00:00:00.000+0000", "2024-01-02T03:04:05.000+0000")
        assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 11


def test_bad_seed_file_fails_to_start(tmp_path: Path) -> None:
    seed = tmp_path / "bad.json"
    seed.write_text(json.dumps({"tasks": [{"Status": "Sleeping"}]}))
    with pytest.raises(EmulatorError, match=r"tasks\[0\].*INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"):
        EmulatorProcess(seed=str(seed)).start()


def test_api_limit_option_and_revoking_every_session() -> None:
    with EmulatorProcess(api_limit=2) as emu:
        sf = _sf(emu)
        assert sf.limits()["DailyApiRequests"] == {"Max": 2, "Remaining": 1}
        sf.limits()
        with pytest.raises(SalesforceRefusedRequest):
            sf.limits()
        assert emu.revoke_sessions() == 1
        with pytest.raises(SalesforceExpiredSession):
            sf.limits()


def test_reset_keeps_sessions_and_restores_the_allowance(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_api_limit(1)
    sf.Task.create({"Subject": "before reset"})
    answer = emu.reset(seed={"tasks": [{"Subject": "after reset"}]})
    assert answer["seeded"]["tasks"] and answer["api_user_id"] == emu.user_id
    assert [r["Subject"] for r in sf.query("SELECT Subject FROM Task")["records"]] == ["after reset"]
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


def test_clock_control_validation(emu: EmulatorProcess) -> None:
    with pytest.raises(EmulatorError, match="exactly one"):
        emu.control("POST", "clock", {})
    with pytest.raises(EmulatorError, match="UTC offset"):
        emu.control("POST", "clock", {"now": "2024-05-01T00:00:00"})
    with pytest.raises(ValueError, match="timezone-aware"):
        from datetime import datetime

        emu.set_clock(datetime(2024, 5, 1))


def test_extra_certificate_names_and_oauth_instance_url_from_the_host_header(tmp_path: Path) -> None:
    from cryptography import x509

    state = tmp_path / "org.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "sf_emulator", "--port", "0", "--state", str(state),
                             "--hostname", "sf-emulator"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = json.loads(proc.stdout.readline())
        cert = x509.load_pem_x509_certificate((tmp_path / "org.sqlite3.tls" / "server.pem").read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "sf-emulator" in san.get_values_for_type(x509.DNSName)
        http = requests.Session()
        http.trust_env = False
        port = line["instance_url"].rsplit(":", 1)[1]
        info = http.get(f"{line['control_url']}/info", verify=line["ca_bundle"], timeout=10).json()
        token = http.post(f"https://localhost:{port}/services/oauth2/token", verify=line["ca_bundle"], timeout=10,
                          data={"grant_type": "client_credentials", "client_id": info["consumer_key"],
                                "client_secret": info["consumer_secret"]}).json()
        assert token["instance_url"] == f"https://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()

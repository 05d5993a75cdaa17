"""Fault injection: server errors, expired sessions and delays on chosen requests."""

from __future__ import annotations

import time

import pytest
from simple_salesforce import Salesforce, SalesforceExpiredSession
from simple_salesforce.exceptions import SalesforceGeneralError

from sf_emulator.process import EmulatorError, EmulatorProcess


def test_503_then_recovery(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("http_503", count=2)
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as info:
            sf.query("SELECT Id FROM Task")
        assert info.value.status == 503
        assert info.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0
    assert emu.counters()["total"] == 1  # failed-by-fault requests never reached the org


def test_500_matches_path_and_method(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("http_500", path="/composite/sobjects", method="POST")
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0
    task = sf.Task.create({"Subject": "not a collection call"})
    with pytest.raises(SalesforceGeneralError) as info:
        sf.restful("composite/sobjects", method="POST",
                   json={"records": [{"attributes": {"type": "Task"}, "Subject": "x"}]})
    assert info.value.status == 500 and info.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert [t["Id"] for t in emu.tasks()] == [task["id"]]
    assert emu.info()  # the control plane is never faulted
    assert emu.faults() == {"requests": [], "row_locks": []}


def test_expired_session_fault(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("expired_session", path="/query")
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Task")
    assert info.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_delay_fault_slows_the_next_request(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("delay", delay_ms=400, path="/limits")
    started = time.monotonic()
    assert sf.limits()["DailyApiRequests"]["Max"] > 0
    assert time.monotonic() - started >= 0.4
    assert emu.faults()["requests"] == []


def test_bad_fault_requests_are_refused(emu: EmulatorProcess) -> None:
    with pytest.raises(EmulatorError, match="unknown fault kind"):
        emu.add_fault("meteor")
    with pytest.raises(EmulatorError, match="delay_ms"):
        emu.add_fault("delay")
    with pytest.raises(EmulatorError, match="MALFORMED_ID"):
        emu.lock_rows(["nope"])


def test_reset_clears_faults(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("http_503", count=5)
    emu.reset()
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_a_lost_answer_reports_503_for_a_write_that_was_carried_out(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.add_fault("response_lost", path="/composite/sobjects", method="POST")
    with pytest.raises(SalesforceGeneralError) as info:
        sf.restful("composite/sobjects", method="POST",
                   json={"records": [{"attributes": {"type": "Task"}, "Subject": "answer lost"}]})
    assert info.value.status == 503 and info.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert [t["Subject"] for t in emu.tasks()] == ["answer lost"]
    assert emu.faults() == {"requests": [], "row_locks": []}

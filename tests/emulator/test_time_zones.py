"""Issue 15 #6: ``User.TimeZoneSidKey`` takes every value of Salesforce's time-zone picklist
(``Pacific/Kiritimati``, UTC+14, included) and refuses any other, as Salesforce does."""

from __future__ import annotations

import datetime as dt

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.login import SalesforceLogin

from sf_emulator.process import EmulatorError, EmulatorProcess
from sf_emulator.seed import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN


def _rep(time_zone: str) -> dict:
    return {"Username": "tarawa.rep@salesconnect.example", "FirstName": "Teuea", "LastName": "Rep",
            "Email": "tarawa.rep@salesconnect.example", "IsActive": True, "TimeZoneSidKey": time_zone}


def _signed_in(emu: EmulatorProcess, username: str) -> Salesforce:
    session_id, instance = SalesforceLogin(username=username, password=DEFAULT_PASSWORD,
                                           security_token=DEFAULT_SECURITY_TOKEN, scratch_url=emu.instance_url,
                                           session=emu.requests_session())
    return Salesforce(instance=instance, session_id=session_id, session=emu.requests_session())


def test_the_picklist_serves_salesforces_geographic_time_zones(sf: Salesforce) -> None:
    field = next(f for f in sf.User.describe()["fields"] if f["name"] == "TimeZoneSidKey")
    values = {v["value"] for v in field["picklistValues"]}
    assert field["restrictedPicklist"] is True
    assert {"GMT", "Pacific/Kiritimati", "Pacific/Chatham", "Asia/Kathmandu", "America/Argentina/Buenos_Aires",
            "America/St_Johns", "Australia/Lord_Howe", "America/Los_Angeles", "Europe/Berlin"} <= values
    assert len(values) > 400
    assert not values & {"Etc/GMT+5", "US/Pacific", "EST5EDT", "Japan", "Factory"}


def test_a_rep_in_kiritimati_is_accepted_and_their_today_is_kiritimatis(emu: EmulatorProcess, sf: Salesforce) -> None:
    rep_id = emu.seed(users=[_rep("Pacific/Kiritimati")])["users"][0]
    assert sf.query(f"SELECT TimeZoneSidKey FROM User WHERE Id = '{rep_id}'")["records"][0]["TimeZoneSidKey"] == \
        "Pacific/Kiritimati"
    # 11:00 UTC on 1 March is 01:00 on 2 March on Kiritimati (UTC+14).
    emu.set_clock(dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC))
    emu.seed(tasks=[{"Subject": "due 1 March", "OwnerId": rep_id, "ActivityDate": "2026-03-01"},
                    {"Subject": "due 2 March", "OwnerId": rep_id, "ActivityDate": "2026-03-02"}])
    today = "SELECT Subject FROM Task WHERE ActivityDate = TODAY"
    assert [r["Subject"] for r in _signed_in(emu, _rep("")["Username"]).query(today)["records"]] == ["due 2 March"]
    assert [r["Subject"] for r in sf.query(today)["records"]] == ["due 1 March"]  # the integration user: GMT


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "US/Pacific", "Etc/GMT-14", "pacific/kiritimati"])
def test_a_time_zone_salesforce_does_not_have_is_refused_and_nothing_is_created(
    emu: EmulatorProcess, sf: Salesforce, bad: str
) -> None:
    with pytest.raises(EmulatorError) as info:
        emu.seed(users=[_rep(bad)])
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in str(info.value)
    assert f"Time Zone: bad value for restricted picklist field: {bad}" in str(info.value)
    assert sf.query("SELECT COUNT() FROM User WHERE Username = 'tarawa.rep@salesconnect.example'")["totalSize"] == 0

"""A custom field as an admin left it: deleted, hidden, not an External ID, not unique, read-only.

Describe answers what the integration user can see (a field without read access is not listed,
read-only shows ``createable``/``updateable`` false); queries, writes and upserts that name a
field the user cannot see fail as Salesforce fails them; a reset brings the shipped field back.
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sf_emulator.process import EmulatorProcess

EXT = "Sales_Connect_Id__c"


def _ext_field(sf: Salesforce) -> dict | None:
    return next((f for f in sf.Task.describe()["fields"] if f["name"] == EXT), None)


@pytest.mark.parametrize("change", [{"deleted": True}, {"visible": False}])
def test_a_deleted_or_hidden_field_is_not_described_queried_or_written(
    emu: EmulatorProcess, sf: Salesforce, change: dict
) -> None:
    emu.change_field(EXT, **change)
    assert _ext_field(sf) is None
    with pytest.raises(SalesforceMalformedRequest) as query:
        sf.query(f"SELECT Id, {EXT} FROM Task")
    assert query.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as write:
        sf.Task.create({"Subject": "x", EXT: "ns:1"})
    assert write.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceResourceNotFound) as upsert:
        sf.Task.upsert(f"{EXT}/ns:1", {"Subject": "x"})
    assert "Provided external ID field does not exist or is not accessible" in upsert.value.content[0]["message"]


def test_describe_reports_the_flags_an_admin_changed(emu: EmulatorProcess, sf: Salesforce) -> None:
    assert {k: _ext_field(sf)[k] for k in ("externalId", "unique", "createable", "updateable")} == dict.fromkeys(
        ("externalId", "unique", "createable", "updateable"), True)
    emu.change_field(EXT, external_id=False, unique=False, createable=False, updateable=False)
    assert {k: _ext_field(sf)[k] for k in ("externalId", "unique", "createable", "updateable", "idLookup")} == \
        dict.fromkeys(("externalId", "unique", "createable", "updateable", "idLookup"), False)
    emu.reset()
    assert _ext_field(sf)["externalId"] is True


def test_a_field_that_is_not_an_external_id_cannot_be_upserted_on(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.change_field(EXT, external_id=False)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Task.upsert(f"{EXT}/ns:1", {"Subject": "x"})


def test_a_read_only_field_refuses_writes_and_keeps_its_values(emu: EmulatorProcess, sf: Salesforce) -> None:
    task = sf.Task.create({"Subject": "kept", EXT: "ns:7"})["id"]
    emu.change_field(EXT, createable=False, updateable=False)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Task.create({"Subject": "x", EXT: "ns:8"})
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.query(f"SELECT {EXT} FROM Task WHERE Id = '{task}'")["records"][0][EXT] == "ns:7"


def test_without_unique_the_field_takes_duplicates(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.change_field(EXT, unique=False)
    sf.Task.create({"Subject": "one", EXT: "ns:1"})
    sf.Task.create({"Subject": "two", EXT: "ns:1"})
    assert sf.query(f"SELECT COUNT() FROM Task WHERE {EXT} = 'ns:1'")["totalSize"] == 2


def test_only_custom_fields_can_be_changed(emu: EmulatorProcess) -> None:
    with pytest.raises(Exception, match="standard field"):
        emu.change_field("Subject", deleted=True)

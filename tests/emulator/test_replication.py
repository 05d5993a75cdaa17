"""sobjects/Task/updated/ and deleted/: window rules, server clock, recycle-bin purge, archiving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_emulator.process import EmulatorProcess

T0 = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


def _history(emu: EmulatorProcess, sf: Salesforce) -> tuple[str, str, str]:
    """kept (created 12:00, edited 12:10), gone (created 12:05, deleted 12:15), untouched (created 11:00)."""
    emu.set_clock(T0 - timedelta(hours=1))
    untouched = sf.Task.create({"Subject": "untouched"})["id"]
    emu.set_clock(T0)
    kept = sf.Task.create({"Subject": "kept"})["id"]
    emu.set_clock(T0 + timedelta(minutes=5))
    gone = sf.Task.create({"Subject": "gone"})["id"]
    emu.set_clock(T0 + timedelta(minutes=10))
    sf.Task.update(kept, {"Subject": "kept, edited"})
    emu.set_clock(T0 + timedelta(minutes=15))
    sf.Task.delete(gone)
    emu.set_clock(T0 + timedelta(minutes=20, seconds=30))
    return kept, gone, untouched


def test_updated_lists_ids_by_system_modstamp(emu: EmulatorProcess, sf: Salesforce) -> None:
    kept, _gone, untouched = _history(emu, sf)
    result = sf.Task.updated(T0, T0 + timedelta(hours=1))
    assert result["ids"] == [kept]
    # end is capped at the server's now and truncated to the minute
    assert result["latestDateCovered"] == "2024-05-10T12:20:00.000+0000"
    earlier = sf.Task.updated(T0 - timedelta(hours=2), T0)
    assert earlier["ids"] == [untouched] and earlier["latestDateCovered"] == "2024-05-10T12:00:00.000+0000"


def test_updated_accepts_any_utc_offset(emu: EmulatorProcess, sf: Salesforce) -> None:
    kept, _, _ = _history(emu, sf)
    plus_two = timezone(timedelta(hours=2))
    result = sf.Task.updated(datetime(2024, 5, 10, 14, 9, tzinfo=plus_two), datetime(2024, 5, 10, 14, 11,
                                                                                    tzinfo=plus_two))
    assert result["ids"] == [kept]


def test_deleted_lists_recycle_bin_entries(emu: EmulatorProcess, sf: Salesforce) -> None:
    _, gone, _ = _history(emu, sf)
    result = sf.Task.deleted(T0, T0 + timedelta(minutes=20))
    assert [r["id"] for r in result["deletedRecords"]] == [gone]
    assert result["deletedRecords"][0]["deletedDate"].startswith("2024-05-10T12:15:00")
    assert result["latestDateCovered"] == "2024-05-10T12:20:00.000+0000"
    assert result["earliestDateAvailable"] == "2024-04-25T12:21:00.000+0000"  # the 15-day horizon, rounded up
    assert sf.Task.deleted(T0 + timedelta(minutes=16), T0 + timedelta(minutes=20))["deletedRecords"] == []


@pytest.mark.parametrize(
    ("resource", "start_offset", "end_offset", "message"),
    [
        ("updated", timedelta(0), timedelta(seconds=60), "more than one minute"),
        ("updated", timedelta(minutes=10), timedelta(0), "more than one minute"),
        ("updated", -timedelta(days=31), timedelta(0), "30 days"),
        ("deleted", -timedelta(days=16), timedelta(0), "15 days"),
    ],
)
def test_window_rules(emu: EmulatorProcess, sf: Salesforce, resource: str, start_offset: timedelta,
                      end_offset: timedelta, message: str) -> None:
    emu.set_clock(T0)
    call = sf.Task.updated if resource == "updated" else sf.Task.deleted
    with pytest.raises(SalesforceMalformedRequest) as info:
        call(T0 + start_offset, T0 + end_offset)
    error = info.value.content[0]
    assert error["errorCode"] == "INVALID_REPLICATION_DATE" and message in error["message"]


def test_naive_datetimes_make_a_malformed_request(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_clock(T0)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Task.updated(datetime(2024, 5, 10, 11, 0), datetime(2024, 5, 10, 12, 0))


def test_recycle_bin_is_purged_after_15_days(emu: EmulatorProcess, sf: Salesforce) -> None:
    _, gone, _ = _history(emu, sf)
    emu.set_clock(T0 + timedelta(days=14))
    assert [r["id"] for r in sf.Task.deleted(T0, T0 + timedelta(days=1))["deletedRecords"]] == [gone]
    emu.set_clock(T0 + timedelta(days=15, minutes=16, seconds=30))  # whole seconds, as Salesforce stamps
    assert gone not in {t["Id"] for t in emu.tasks()}
    assert gone not in {r["Id"] for r in sf.query_all("SELECT Id FROM Task", include_deleted=True)["records"]}
    result = sf.Task.deleted(T0 + timedelta(minutes=20), T0 + timedelta(days=15))
    assert result["deletedRecords"] == []
    assert result["earliestDateAvailable"] == "2024-05-10T12:17:00.000+0000"
    # Moving the clock back after a purge cannot bring purged deletions back into the window.
    emu.set_clock(T0 + timedelta(days=1))
    assert sf.Task.deleted(T0, T0 + timedelta(hours=1))["earliestDateAvailable"] == "2024-05-10T12:16:00.000+0000"


def test_emptying_the_recycle_bin_purges_it_and_moves_earliest_date_available(
    emu: EmulatorProcess, sf: Salesforce
) -> None:
    kept, gone, _ = _history(emu, sf)
    emu.set_clock(T0 + timedelta(minutes=30))
    sf.Task.delete(kept)  # deleted 12:30, after the cut-off below: stays in the bin
    emu.set_clock(T0 + timedelta(minutes=35))
    answer = emu.control("POST", "empty-recycle-bin", {"before": (T0 + timedelta(minutes=20)).isoformat()})
    assert answer == {"purged": 1, "earliest_date_available": "2024-05-10T12:15:01.000+0000"}
    assert gone not in {r["Id"] for r in sf.query_all("SELECT Id FROM Task", include_deleted=True)["records"]}
    result = sf.Task.deleted(T0, T0 + timedelta(hours=1))
    # Deletions up to the last one purged are gone for good; a replication client must resync.
    assert result["earliestDateAvailable"] == "2024-05-10T12:16:00.000+0000"
    assert [r["id"] for r in result["deletedRecords"]] == [kept]
    assert emu.empty_recycle_bin() == 1  # everything left in the bin
    assert sf.Task.deleted(T0, T0 + timedelta(hours=1))["earliestDateAvailable"] == "2024-05-10T12:31:00.000+0000"


@pytest.mark.parametrize("resource", ["updated", "deleted"])
def test_more_ids_than_the_replication_limit_is_exceeded_id_limit(
    emu: EmulatorProcess, sf: Salesforce, resource: str
) -> None:
    emu.set_clock(T0)
    ids = [sf.Task.create({"Subject": f"t{n}"})["id"] for n in range(3)]
    for task_id in ids if resource == "deleted" else ():
        sf.Task.delete(task_id)
    emu.set_clock(T0 + timedelta(minutes=5))
    call = sf.Task.updated if resource == "updated" else sf.Task.deleted
    assert emu.set_replication_id_limit(3)["replication_ids"] == 3
    assert len(call(T0, T0 + timedelta(minutes=5))[{"updated": "ids", "deleted": "deletedRecords"}[resource]]) == 3
    emu.set_replication_id_limit(2)
    with pytest.raises(SalesforceMalformedRequest) as info:
        call(T0, T0 + timedelta(minutes=5))
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    emu.reset()
    assert emu.control("GET", "limits")["replication_ids"] == 600_000


def test_archiver_hides_old_closed_tasks_from_query_only(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_clock(T0)
    old_closed = sf.Task.create({"Subject": "old", "Status": "Completed", "ActivityDate": "2023-05-01"})["id"]
    sf.Task.create({"Subject": "old but open", "ActivityDate": "2023-05-01"})
    sf.Task.create({"Subject": "recent closed", "Status": "Completed", "ActivityDate": "2024-05-01"})
    before = sf.Task.get(old_closed)["SystemModstamp"]
    assert emu.archive() == 1
    assert {r["Subject"] for r in sf.query_all("SELECT Subject FROM Task")["records"]} == {
        "old but open", "recent closed"}
    archived = sf.query_all(f"SELECT IsArchived, SystemModstamp FROM Task WHERE Id = '{old_closed}'",
                            include_deleted=True)["records"]
    assert archived[0]["IsArchived"] is True and archived[0]["SystemModstamp"] == before


def test_seeded_history_is_completed_consistently(emu: EmulatorProcess, sf: Salesforce) -> None:
    emu.set_clock(T0)
    created = "2024-05-09T08:00:00Z"
    task_id = emu.seed(tasks=[{"Subject": "yesterday's", "Status": "Completed", "CreatedDate": created}])["tasks"][0]
    task = sf.Task.get(task_id)
    assert task["CreatedDate"] == task["LastModifiedDate"] == task["SystemModstamp"] == task["CompletedDateTime"] \
        == "2024-05-09T08:00:00.000+0000"
    assert sf.Task.updated(T0 - timedelta(days=1, hours=5), T0 - timedelta(days=1, hours=3))["ids"] == [task_id]


def test_undelete_brings_a_recycle_bin_task_back_as_a_modification(emu: EmulatorProcess, sf: Salesforce) -> None:
    kept, gone, _ = _history(emu, sf)
    assert emu.control("POST", "undelete", {"ids": [gone, kept]}) == {"undeleted": [gone]}  # kept was never deleted
    restored = sf.Task.get(gone)
    assert restored["IsDeleted"] is False and restored["Subject"] == "gone"
    assert restored["SystemModstamp"].startswith("2024-05-10T12:20:30")
    emu.set_clock(T0 + timedelta(minutes=25))
    assert gone in sf.Task.updated(T0 + timedelta(minutes=19), T0 + timedelta(minutes=22))["ids"]
    emu.set_clock(T0 + timedelta(days=16))
    sf.Task.delete(gone)
    emu.set_clock(T0 + timedelta(days=32))
    assert emu.control("POST", "undelete", {"ids": [gone]}) == {"undeleted": []}  # purged after 15 days

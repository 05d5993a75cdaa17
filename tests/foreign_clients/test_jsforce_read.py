"""jsforce reads Task as it reads a real org: every API version, full reads across query locators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from foreign_harness import Driver, seed_tasks

from sf_emulator.process import EmulatorProcess


def test_jsforce_lists_api_versions_through_the_current_release_and_queries_the_latest(jsforce: Driver) -> None:
    seen = jsforce("versions")
    assert seen["versions"][0] == "31.0"
    assert seen["versions"][-1] == "68.0"
    assert len(seen["versions"]) == 68 - 31 + 1
    assert {"sobjects", "query", "queryAll", "composite", "search", "jobs"} <= set(seen["resources"])
    assert seen["count"] == 0


def test_jsforce_reads_every_task_past_the_first_locator_with_query_and_query_all(
        jsforce: Driver, emu: EmulatorProcess) -> None:
    seed_tasks(emu, 4100)
    deleted_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    emu.seed(tasks=[{"Subject": f"gone {i}", "OwnerId": emu.user_id, "IsDeleted": True, "DeletedDate": deleted_at}
                    for i in range(7)])
    seen = jsforce("read_all")
    assert seen == {"live": 4100, "all": 4107, "deleted": 7, "distinct": 4107}


def test_jsforce_sosl_search_finds_tasks_and_an_empty_term_is_malformed_search(
        jsforce: Driver, emu: EmulatorProcess) -> None:
    emu.seed(tasks=[{"Subject": s, "OwnerId": emu.user_id} for s in ("Call Acme", "Email acme team", "Lunch")])
    seen = jsforce("sosl", term="acme")
    assert seen["found"] == ["Call Acme", "Email acme team"]
    assert seen["refused"]["errorCode"] == "MALFORMED_SEARCH"

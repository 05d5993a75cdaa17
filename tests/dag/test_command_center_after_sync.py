"""SPEC §6: every synced task is stored whatever its due date; the Command Center shows a rep only
their open, not deleted tasks due today or tomorrow in the rep's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dag_harness import SyncHarness, now

FAR_EAST = "Pacific/Kiritimati"  # UTC+14: its "today" is UTC's tomorrow for ten hours of each UTC day
FAR_WEST = "Pacific/Pago_Pago"  # UTC-11


def test_command_center_lists_open_tasks_due_today_or_tomorrow_in_the_reps_time_zone(harness: SyncHarness) -> None:
    at = now()
    east = harness.rep(0, time_zone=FAR_EAST)
    west = harness.rep(1, time_zone=FAR_WEST)
    east_today = at.astimezone(ZoneInfo(FAR_EAST)).date()
    west_today = at.astimezone(ZoneInfo(FAR_WEST)).date()
    assert east_today > west_today  # 25 hours apart: never the same date

    def due(rep_today: dt.date, days: int) -> str:
        return (rep_today + dt.timedelta(days=days)).isoformat()

    for rep, today in ((east, east_today), (west, west_today)):
        for label, days in (("yesterday", -1), ("today", 0), ("tomorrow", 1), ("day after", 2)):
            harness.sf_create(rep.owner_id, f"{rep.login} due {label}", ActivityDate=due(today, days))
        harness.sf_create(rep.owner_id, f"{rep.login} done today", ActivityDate=due(today, 0), Status="Completed")
        harness.sf_create(rep.owner_id, f"{rep.login} no due date")
        harness.sc_create(rep, f"{rep.login} made here for tomorrow", due_date=today + dt.timedelta(days=1))
    doomed = harness.sf_create(east.owner_id, "east deleted today", ActivityDate=due(east_today, 0))
    harness.run()
    harness.sf_delete(doomed)
    harness.run()

    for rep in (east, west):
        stored = {t.subject for t in harness.sc_tasks(rep)}
        assert stored == {f"{rep.login} due yesterday", f"{rep.login} due today", f"{rep.login} due tomorrow",
                          f"{rep.login} due day after", f"{rep.login} done today", f"{rep.login} no due date",
                          f"{rep.login} made here for tomorrow"}
        shown = [t.subject for t in harness.command_center(rep, at)]
        assert sorted(shown) == sorted([f"{rep.login} due today", f"{rep.login} due tomorrow",
                                        f"{rep.login} made here for tomorrow"])
    assert harness.sc_by_subject(east, "east deleted today") is None
    assert any(t.subject == "east deleted today" for t in harness.sc_tasks(east, include_deleted=True))

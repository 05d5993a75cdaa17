"""SPEC §8: watermarks as XComs and in the durable ledger; runs of every kind interleaved skip no change.

What ``dag.test()`` can make: manual runs, with a logical date (the timetable gives them a real
data interval, like a scheduled run's) or without one (like a REST-triggered or asset-triggered
run: Airflow 3 gives both a null logical date, so their prior-XCom ranking is the same). What it
cannot make, the test drives through ``task_sync.pipeline`` with ``RunContext(run_type=...)``:
``asset_triggered`` (handed a deliberately wrong XCom, ahead of the truth, which only the ledger
can correct) and ``backfill`` (a replayed interval). Real REST-triggered, asset-triggered,
scheduled and backfill runs under a scheduler are in test_scheduler.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dag_harness import Rep, SyncHarness, now
from sqlalchemy import select

from task_sync import ledger, pipeline


def published_xcom(run_id: str) -> dict[str, Any]:
    """The ``publish_watermarks`` XCom of a DAG run, read from Airflow's metadata DB (what the UI shows)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(select(XComModel).where(
            XComModel.dag_id == "sales_connect_task_sync", XComModel.run_id == run_id,
            XComModel.task_id == "publish_watermarks", XComModel.key == "return_value",
        )).one()
        value = XComModel.deserialize_value(row)
    return json.loads(value) if isinstance(value, str) else value


def ledger_marks(harness: SyncHarness) -> dict[str, Any]:
    with harness.store.session() as s:
        return {key: mark.as_json() for key, mark in ledger.load_watermarks(s).items()}


def test_each_run_publishes_its_shard_watermarks_as_an_xcom_and_in_the_ledger(harness: SyncHarness) -> None:
    reps = [harness.rep(i) for i in range(3)]
    # Read each XCom at once: dag.test() with a null logical date deletes earlier null-date runs.
    marks = [published_xcom(harness.run().dag_run_id)]
    assert marks[0] == ledger_marks(harness)
    moved = harness.sc_create(reps[0], "moves the Sales Connect watermark")
    harness.sf_create(reps[2].owner_id, "moves the Salesforce watermark")
    marks.append(published_xcom(harness.run().dag_run_id))

    assert marks[1] == ledger_marks(harness)
    shard_keys = {"tasks-00-of-02", "tasks-01-of-02"}
    assert set(marks[0]) == set(marks[1]) == shard_keys | {pipeline.DELETIONS_KEY}
    for key in shard_keys:
        assert marks[1][key]["sf_modstamp"] > marks[0][key]["sf_modstamp"]
    assert sum(marks[1][k]["sc_seq"] for k in shard_keys) > sum(marks[0][k]["sc_seq"] for k in shard_keys)
    # The Sales Connect watermark is the newest change the run read (its own writes come after).
    assert max(marks[1][k]["sc_seq"] for k in shard_keys) == harness.sc_task(moved).change_seq


@dataclass
class World:
    """The changes made so far on each side, and what both sides must end up holding."""

    harness: SyncHarness
    reps: list[Rep]
    expected: dict[int, set[str]] = field(default_factory=dict)
    sc_made: dict[int, list[int]] = field(default_factory=dict)
    sf_made: dict[int, list[str]] = field(default_factory=dict)

    def change_both_sides(self, tag: str) -> None:
        """Per rep: a create on each side, an edit on each side, a delete on each side every other round."""
        h = self.harness
        for rep in self.reps:
            expected = self.expected.setdefault(rep.user_id, set())
            sc_made, sf_made = self.sc_made.setdefault(rep.user_id, []), self.sf_made.setdefault(rep.user_id, [])
            if sc_made:
                old = h.sc_task(sc_made[-1]).subject
                h.sc_update(rep, sc_made[-1], subject=f"{old} / edited in SC {tag}")
                expected.remove(old)
                expected.add(f"{old} / edited in SC {tag}")
            if sf_made:
                old = h.sf_task(sf_made[-1])["Subject"]
                h.sf_update(sf_made[-1], Subject=f"{old} / edited in SF {tag}")
                expected.remove(old)
                expected.add(f"{old} / edited in SF {tag}")
            if len(sc_made) >= 2 and len(sc_made) % 2 == 0:
                gone = sc_made.pop(0)
                expected.remove(h.sc_task(gone).subject)
                h.sc_delete(rep, gone)
            if len(sf_made) >= 2 and len(sf_made) % 2 == 0:
                gone_sf = sf_made.pop(0)
                expected.remove(h.sf_task(gone_sf)["Subject"])
                h.sf_delete(gone_sf)
            subject = f"{rep.login}: made in Sales Connect before the {tag} run"
            sc_made.append(h.sc_create(rep, subject))
            expected.add(subject)
            subject = f"{rep.login}: made in Salesforce before the {tag} run"
            sf_made.append(h.sf_create(rep.owner_id, subject))
            expected.add(subject)

    def sides(self, rep: Rep) -> tuple[Counter, Counter]:
        return (Counter(t.subject for t in self.harness.sc_tasks(rep)),
                Counter(t["Subject"] for t in self.harness.sf_tasks(rep.owner_id)))

    def assert_arrived(self, rep: Rep, when: str) -> None:
        sc, sf = self.sides(rep)
        want = Counter(self.expected[rep.user_id])
        assert sc == want and sf == want, (when, rep.login, sc - want, want - sc, sf - want, want - sf)

    def assert_no_duplicates(self, when: str) -> None:
        for rep in self.reps:
            sc, sf = self.sides(rep)
            assert max(sc.values(), default=1) == 1 and max(sf.values(), default=1) == 1, (when, sc, sf)


def test_scheduled_manual_asset_triggered_and_backfill_runs_interleaved_skip_no_change(
    harness: SyncHarness,
) -> None:
    ava, ben = harness.rep(0), harness.rep(1)
    world = World(harness, [ava, ben])
    harness.run()
    start = now()

    def dated(offset: dt.timedelta) -> Any:
        return lambda: harness.run(logical_date=start + offset)

    def asset_triggered() -> None:
        # Airflow would hand this null-dated run some prior XCom; give it one *ahead* of the truth
        # (a day later, far higher change numbers): only the durable ledger can keep it honest.
        ahead = {key: {**mark, "sc_seq": mark["sc_seq"] + 10_000,
                       "sf_modstamp": mark["sf_modstamp"] and (dt.datetime.fromisoformat(mark["sf_modstamp"])
                                                               + dt.timedelta(days=1)).isoformat()}
                 for key, mark in ledger_marks(harness).items()}
        result = pipeline.run_inline(harness.pipeline_run(f"asset_triggered__{tag}", "asset_triggered",
                                                          prior_watermarks=ahead))
        assert result["status"] == "success"

    def backfill() -> None:
        run = harness.pipeline_run(f"backfill__{tag}", "backfill", interval_start=now() - dt.timedelta(minutes=30),
                                   interval_end=now())
        assert pipeline.run_inline(run)["status"] == "success"

    # (kind, run, whose changes must have arrived right after it)
    steps: list[tuple[str, Any, list[Rep]]] = [
        ("dated-past", dated(-dt.timedelta(hours=2)), [ava, ben]),
        ("manual", lambda: harness.run(), [ava, ben]),
        ("dated-future", dated(dt.timedelta(days=1)), [ava, ben]),
        ("manual-after-future", lambda: harness.run(), [ava, ben]),
        ("asset-triggered", asset_triggered, [ava, ben]),
        ("dated-older", dated(-dt.timedelta(days=1)), [ava, ben]),
        ("backfill", backfill, []),
        ("subset", lambda: harness.run(user_ids=[ava.user_id]), [ava]),
        ("dry-run", lambda: harness.run(dry_run=True), []),
        ("dated-between", dated(-dt.timedelta(hours=1)), [ava, ben]),
        ("backfill-again", backfill, []),
        ("manual-last", lambda: harness.run(), [ava, ben]),
    ]
    for tag, run, arrived in steps:
        world.change_both_sides(tag)
        run()
        world.assert_no_duplicates(tag)
        for rep in arrived:
            world.assert_arrived(rep, tag)
    assert harness.conflicts() == []

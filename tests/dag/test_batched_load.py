"""Issue 10 #17: the Sales Connect load commits in bounded batches, and a load that dies between
two of them is finished by Airflow's retry without doing anything twice.

PostgreSQL only: a trigger makes the database refuse the fifth task insert it ever sees (a
sequence counts attempts outside any transaction, so the count survives the rollback), which is
how a real load dies half way: a deadlock, a failover, a DBA's constraint. With batches of two,
the first two batches are committed by then.
"""

from __future__ import annotations

import pytest
from dag_harness import SyncHarness
from sqlalchemy import text

FAIL_ON_INSERT = 5
TRIGGER = f"""
CREATE SEQUENCE task_insert_attempts;
CREATE FUNCTION refuse_one_task_insert() RETURNS trigger AS $$
BEGIN
    IF nextval('task_insert_attempts') = {FAIL_ON_INSERT} THEN
        RAISE EXCEPTION 'the database went away half way through the load';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_one_task_insert BEFORE INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION refuse_one_task_insert();
"""


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_load_that_dies_between_batches_is_finished_by_its_retry_and_counted_once(
    harness: SyncHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_CONNECT_SYNC_LOAD_BATCH", "2")
    rep = harness.rep(0)
    for n in range(7):
        harness.sf_create(rep.owner_id, f"first sync {n}")
    with harness.store.session() as session:
        session.connection().exec_driver_sql(TRIGGER)

    history = harness.run()  # the first try dies in its third batch; Airflow retries the load

    with harness.store.session() as session:
        attempts = session.execute(text("SELECT last_value FROM task_insert_attempts")).scalar_one()
    # 4 committed in two batches + the refused one + the 3 the retry still had to do. A load in one
    # transaction would have lost all 4 and inserted 7 again (12); a retry that ignored what the
    # first try committed would have tried 7 again too.
    assert attempts == 8
    subjects = sorted(t.subject for t in harness.sc_tasks(rep))
    assert subjects == sorted(f"first sync {n}" for n in range(7))
    assert history.status == "success"
    assert history.counts["sf_to_sc"] == {"create": 7, "update": 0, "complete": 0, "delete": 0}
    assert "went away" not in (history.message or "")

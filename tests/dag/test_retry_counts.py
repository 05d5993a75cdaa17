"""Issue 10 #16: a load Airflow retries reports each change once and every call it spent.

The first try of the load commits the Sales Connect side and the first collection call of
creates, then dies on Salesforce 500s; Airflow retries the task. The history must say what the
run moved (not what the retry found still to do), hold each conflict once, and count the calls of
the failed try too.
"""

from __future__ import annotations

from dag_harness import SyncHarness

FAULTED_ANSWERS = 4  # the 500s that outlast the gateway's own retries (the emulator charges none of them)


def test_a_retried_load_reports_each_change_once_and_every_call_it_spent(harness: SyncHarness) -> None:
    rep = harness.rep(0)
    edited_in_salesforce = [harness.sf_create(rep.owner_id, f"imported {n}") for n in range(3)]
    contested = harness.sf_create(rep.owner_id, "edited on both sides")
    harness.run()
    for sf_id in edited_in_salesforce:
        harness.sf_update(sf_id, Priority="High")
    harness.sc_update(rep, harness.sc_by_subject(rep, "edited on both sides").id, subject="contested (SC)")
    harness.sf_update(contested, Subject="contested (SF)")  # the later edit: Salesforce wins
    created = [harness.sc_create(rep, f"follow-up {n}") for n in range(250)]  # two collection calls
    harness.emu.add_fault("delay", count=1, path="/composite/sobjects", method="POST", delay_ms=1)
    harness.emu.add_fault("http_500", count=FAULTED_ANSWERS, path="/composite/sobjects", method="POST")
    harness.emu.reset_counters()

    history = harness.run()  # load's first try dies after 200 creates; Airflow retries it

    assert harness.armed_faults() == []
    assert all(harness.link_of(i) is not None for i in created)
    assert history.status == "success"
    assert history.counts["sc_to_sf"] == {"create": 250, "update": 0, "complete": 0, "delete": 0}
    assert history.counts["sf_to_sc"] == {"create": 0, "update": 4, "complete": 0, "delete": 0}
    assert (history.counts["deferred"], history.counts["conflicts"]) == (0, 1)
    assert [c.run_id for c in harness.conflicts()] == [history.id]
    assert history.api_calls == harness.emu.counters()["total"] + FAULTED_ANSWERS

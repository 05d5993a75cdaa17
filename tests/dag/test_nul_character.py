"""Issue 10 #15: a NUL character in a Salesforce text field (PostgreSQL refuses ``\\x00`` in text) is
quarantined on that record with its id and the reason; the rest of the shard moves, on PostgreSQL
and on SQLite alike."""

from __future__ import annotations

from dag_harness import SyncHarness

from task_sync.validation import SF_NUL_CHARACTER


def test_a_salesforce_task_with_a_nul_character_is_quarantined_by_id_and_the_rest_of_the_shard_moves(
    harness: SyncHarness,
) -> None:
    rep = harness.rep(0)
    # Data loaders and integrations can put a NUL into a text field; the REST API hands it on as \u0000.
    poisoned = harness.sf_seed(rep.owner_id, "Call back\x00 re: renewal", Description="notes\x00")
    harness.sf_create(rep.owner_id, "an ordinary Salesforce task")
    pushed = harness.sc_create(rep, "an ordinary Sales Connect task")

    history = harness.run(expect="partial")

    assert [t.subject for t in harness.sc_tasks(rep)] == ["an ordinary Sales Connect task",
                                                           "an ordinary Salesforce task"]
    assert harness.link_of(pushed) is not None
    assert history.counts["sf_to_sc"]["create"] == 1 and history.counts["sc_to_sf"]["create"] == 1
    assert history.counts["errors"] == 1 and "refused" in history.message
    [error] = harness.open_errors()
    assert (error.error_code, error.sf_id, error.user_id, error.direction) == (
        SF_NUL_CHARACTER, poisoned, rep.user_id, "sf_to_sc")
    assert poisoned in error.message and "Subject" in error.message and "Description" in error.message
    assert "\x00" not in error.message
    assert error.payload["Subject"] == "Call back\u2400 re: renewal"  # kept, with the NUL made visible

    harness.sf_update(poisoned, Subject="Call back re: renewal", Description="notes")
    cleaned = harness.run()

    assert cleaned.counts["sf_to_sc"]["create"] == 1 and harness.open_errors() == []
    assert harness.sc_by_subject(rep, "Call back re: renewal") is not None

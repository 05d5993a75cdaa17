"""Issue 10 #1: a rep whose Salesforce user id was typed in its 15-character form keeps their list.

The REST API answers 18-character ``OwnerId``s; the store keeps the 18-character form whatever
was typed, and the sync compares in that form.
"""

from __future__ import annotations

from dag_harness import Rep, SyncHarness

from sales_connect import repository as repo


def _rep_typed_as_15_characters(harness: SyncHarness) -> Rep:
    rep = harness.rep(0, enabled=False)
    with harness.store.session() as s:
        repo.update_user_settings(s, rep.user_id, sf_owner_id=rep.owner_id[:15])
    harness.enable(rep.user_id)
    return rep


def test_a_15_character_salesforce_user_id_keeps_the_reps_list_and_imports_new_tasks(harness: SyncHarness) -> None:
    rep = _rep_typed_as_15_characters(harness)
    pushed = harness.sc_create(rep, "made in Sales Connect")
    harness.run()
    assert harness.link_of(pushed) is not None
    harness.sf_create(rep.owner_id, "made in Salesforce")

    history = harness.run()

    subjects = sorted(t.subject for t in harness.sc_tasks(rep))
    assert subjects == ["made in Sales Connect", "made in Salesforce"], (subjects, history.counts)
    assert history.counts["sf_to_sc"]["create"] == 1
    assert harness.open_errors() == []
    assert harness.link_of(pushed) is not None

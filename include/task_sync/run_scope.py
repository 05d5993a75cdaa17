"""What a shard may act on: the reps it serves, nobody else (issue 10 #11).

A run asks ``getDeleted`` once, for everyone, so its list names tasks of every rep, and a
shard's ``queryAll`` returns a deleted record of its owners even when the task it was linked
to belongs to another rep (Salesforce moved it before the deletion). Applied as they come,
every shard, and every ``user_ids`` run (the settings page's enable trigger), would remove other
reps' tasks: reps that run did not read, in loads that race the owning shard's load. So each
shard keeps only the deletions of tasks linked to its own reps. Another rep's deletion waits for
that rep's shard; it is not lost, because the run-wide deletion cursor moves only when every
shard of a full run has loaded (``pipeline.publish_watermarks``), and ``user_ids`` runs never
move it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def own_deletions(
    deleted: pd.DataFrame, sf_changes: pd.DataFrame, links: pd.DataFrame, user_ids: Iterable[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``deleted`` (getDeleted, reconciliation) and ``sf_changes`` without the deletions of tasks
    linked to reps outside ``user_ids``; live records and unlinked ids are kept as they are."""
    served = {int(u) for u in user_ids}
    others = set(links.loc[~links["user_id"].astype(int).isin(served), "sf_id"]) if len(links) else set()
    if not others:
        return deleted, sf_changes
    theirs = sf_changes["Id"].isin(others) & sf_changes["IsDeleted"].fillna(False).astype(bool)
    return (deleted[~deleted["sf_id"].isin(others)].reset_index(drop=True),
            sf_changes[~theirs].reset_index(drop=True))

"""The write guard: Salesforce is read again just before the load updates or deletes records in it.

The diff plans from what the extract read. A write sent later would overwrite whatever Salesforce
took since -- an edit made while the load runs, or before Airflow retries the load (a retry sends
the whole plan again) -- and would put a rep's edit or deletion on a record Salesforce has since
given to another owner. So just before those writes the records they target are read again by id
(``queryAll``, so the recycle bin answers too), and a write goes out only if its record still has
the owner the rep maps to and the mapped content the diff planned against, or the content this
very write puts there (an earlier attempt of the load already sent it). A deletion whose record is
already gone goes out as it is: deleting twice is harmless.

Every other record is held and planned again *by the diff*, from the frames the extract read with
the held records' Salesforce rows replaced by the fresh ones and only this shard's reps served.
So the one rule decides (SPEC §7, ``precedence``): the latest change wins, a tie goes to
Salesforce, a deletion wins over an edit, and a new owner wins over the old owner's action -- and
the conflict is recorded with both versions like any other. The loader applies that plan at once.

Content, not ``SystemModstamp``, tells what changed: stamps are whole seconds, so a save in the
second the extract read carries the stamp it saw. Cost: one query per pack of ids (about 480: the
query goes out in a GET's URI, which Salesforce caps at 16,384 bytes), only when the plan updates
or deletes something; creates need none (they are upserts on this installation's external id).
Between the re-read and the write there remains one round trip in which Salesforce can still
change a record: sObject Collections take no version condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from task_sync import extract
from task_sync import fields as f
from task_sync import validation as v
from task_sync.diff import DirectionPlan, SyncInput, SyncPlan, build_plan
from task_sync.runfiles import read_frame
from task_sync.salesforce import SalesforceGateway


@dataclass(frozen=True)
class Checked:
    """The outcome of a check: the writes that may go out, and the held records planned again."""

    cleared: DirectionPlan
    replan: SyncPlan | None
    held: frozenset[str]


@dataclass(frozen=True)
class WriteGuard:
    """What one shard's diff planned from, to tell what Salesforce changed since."""

    seen: SyncInput
    served_user_ids: frozenset[int]

    @classmethod
    def of_shard(cls, extracted: Mapping[str, Any]) -> WriteGuard:
        """The guard of a shard, from the frames its extract step wrote."""
        seen = SyncInput(
            sf_changes=read_frame(extracted["sf_path"]), sc_changes=read_frame(extracted["sc_path"]),
            links=read_frame(extracted["links_path"]), users=read_frame(extracted["users_path"]),
        )
        return cls(seen, frozenset(int(u) for u in extracted["user_ids"]))

    def check(self, gateway: SalesforceGateway, direction: DirectionPlan) -> Checked:
        """Re-read the records ``direction`` updates or deletes; hold and re-plan those Salesforce changed."""
        edits = pd.concat([direction.updates, direction.completions], ignore_index=True)
        targets = [*edits["sf_id"], *direction.deletions["sf_id"]]
        if not targets:
            return Checked(direction, None, frozenset())
        fresh = extract.read_salesforce(gateway, [], retry_sf_ids=sorted({str(i) for i in targets}))
        now = _state(fresh)
        seen = {**_agreed_hashes(self.seen.links), **_state(self.seen.sf_changes)["content"]}
        owners = dict(zip(self.seen.users["user_id"].map(int), self.seen.users["sf_owner_id"], strict=True))

        def unchanged(row: Mapping[str, Any], deleting: bool) -> bool:
            sf_id = row["sf_id"]
            if sf_id not in now["owner"] or sf_id in now["deleted"]:
                return deleting
            if not _same_user(owners.get(int(row["user_id"])), now["owner"][sf_id]):
                return False
            return now["content"].get(sf_id) in {seen.get(sf_id), row.get("sf_hash")} - {None}

        held = frozenset(
            [r["sf_id"] for r in edits.to_dict("records") if not unchanged(r, deleting=False)]
            + [r["sf_id"] for r in direction.deletions.to_dict("records") if not unchanged(r, deleting=True)]
        )
        if not held:
            return Checked(direction, None, held)
        cleared = DirectionPlan(direction.creates, *(frame[~frame["sf_id"].isin(held)] for frame in (
            direction.updates, direction.completions, direction.deletions)))
        return Checked(cleared, self._replan(fresh, held), held)

    def _replan(self, fresh: pd.DataFrame, held: frozenset[str]) -> SyncPlan:
        """The held records through the diff again, with Salesforce as it is now."""
        links = self.seen.links[self.seen.links["sf_id"].isin(held)]
        task_ids = set(links["task_id"].map(int))
        users = self.seen.users.assign(
            sync_enabled=self.seen.users["sync_enabled"].astype(bool) & self.seen.users["user_id"].map(
                lambda u: int(u) in self.served_user_ids))
        gone = sorted(held - set(fresh["Id"]))  # purged from the recycle bin, or never there
        return build_plan(SyncInput(
            sf_changes=fresh[fresh["Id"].isin(held)],
            sc_changes=self.seen.sc_changes[self.seen.sc_changes["task_id"].map(int).isin(task_ids)],
            links=links, users=users, sf_deleted=extract.deleted_frame(dict.fromkeys(gone)),
        ))


def _state(raw: pd.DataFrame) -> dict[str, Any]:
    """Owner, deletion and content hash (of the mapped fields, as the diff hashes them) per Salesforce id."""
    rows, _bad = v.validate_sf_system(raw)
    live, _bad = v.validate_sf_content(rows[~rows["is_deleted"]])
    return {
        "owner": dict(zip(rows["sf_id"], rows["owner_id"], strict=True)),
        "deleted": set(rows.loc[rows["is_deleted"], "sf_id"]),
        "content": dict(zip(live["sf_id"], f.hash_frame(live), strict=True)),
    }


def _agreed_hashes(links: pd.DataFrame) -> dict[str, str]:
    """The Salesforce content each link last agreed on: what the diff assumed where it read no change."""
    return {sf_id: h for sf_id, h in zip(links["sf_id"], links["sf_hash"], strict=True) if sf_id and h}


def _same_user(mapped: str | None, owner: str | None) -> bool:
    """Salesforce ids compare on their case-sensitive 15-character part (the 18-character form adds a checksum)."""
    return bool(mapped and owner) and str(mapped)[:15] == str(owner)[:15]

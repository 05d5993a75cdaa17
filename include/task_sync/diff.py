"""The diff: what changed on each side since the last agreed state, and what to write where.

Pure pandas, no I/O. The extract step builds a ``SyncInput``; ``build_plan`` returns a
``SyncPlan`` the load step applies. All joins are vectorised merges; Python loops only build
the per-record write payloads of records that actually change.

Input frames (extra columns are ignored, missing optional ones are treated as empty):

``SyncInput.sf_changes`` -- raw Salesforce rows from the incremental ``queryAll`` (deleted ones
included), columns ``fields.SF_SELECT_FIELDS`` exactly as the REST API returns them (strings for
dates, JSON booleans); ``attributes`` may be present and is ignored.

``SyncInput.sf_deleted`` -- ``sf_id`` (str), ``deleted_at`` (datetime or ISO string, may be
None): ids from ``getDeleted`` and ids a reconciliation found missing.

``SyncInput.sc_changes`` -- Sales Connect tasks whose ``change_seq`` is past the watermark,
tombstones included: ``SC_COLUMNS`` (``task_id`` is ``tasks.id``; the rest as in the model).

``SyncInput.links`` -- ``TaskLink`` rows for every involved task/sf id: ``LINK_COLUMNS``
(``sf_values`` / ``sc_values`` are the JSON dicts as stored).

``SyncInput.users`` -- every Sales Connect user with a Salesforce owner id: ``USER_COLUMNS``.
A user whose sync is off gets no traffic in either direction. ``enabled_at`` is when the user
*first* switched sync on (``User.first_enabled_at``; ``task_sync.reenable`` says why). Unlinked
Salesforce records are imported only when changed at or after ``enabled_at - 24h``
(``windows.import_floor``). This one rule covers the first sync (SPEC §3: the last 24 hours),
steady state and a re-enable's catch-up (everything changed later is newer than the floor
anyway), so the diff needs no "first sync" flag.

Rules (SPEC §3, §4, §7):
- Version checks make replays harmless: a Salesforce row whose SystemModstamp is not newer than
  ``link.sf_modstamp``, or a Sales Connect row whose ``change_seq`` is not past ``link.sc_seq``,
  is ignored (``unchanged``, reason ``stale``); a Salesforce row at exactly ``link.sf_modstamp`` only if
  its content is the one agreed (Salesforce stamps whole seconds: a second save in that second
  carries the same stamp).
- Echo suppression has two independent guards: the content hash of a side equal to what we
  last agreed for that side (``content_hash``), and a Sales Connect change written by the sync
  itself (``changed_by == "sync"``) whose ``change_seq`` is the one recorded (``sync_change_seq``).
- Conflict (both sides changed a linked task): for edit against edit the later modification
  wins the *whole* record (Salesforce LastModifiedDate vs Sales Connect updated_at, compared to the
  second, the precision both share; a tie goes to Salesforce: ``precedence``) -- ``RULE_LATEST_WINS``.
  Edits that arrive at the same values are not a conflict.
- Delete against edit: the deletion wins -- ``RULE_DELETE_WINS``. A RevOps engineer expects a
  deleted task to stay deleted: resurrecting it is the classic "it keeps coming back" sync bug,
  and a Salesforce re-create would mint a new Id beside the one in the recycle bin (a duplicate
  if someone restores it). Nothing is lost: the conflict row keeps the edited version in full,
  and a Salesforce deletion stays restorable from the recycle bin for 15 days.
- A Salesforce record moved to another owner leaves the old user's list (deletion, reason
  ``owner_changed``) and is imported for the new owner if theirs is synced: a record never sits in
  another user's list. An edit or deletion the old owner made in Sales Connect meanwhile is never
  written to Salesforce: it is a conflict, ``RULE_OWNER_CHANGED``. An unlinked Salesforce record
  carrying ``Sales_Connect_Id__c`` in our namespace may be one we pushed whose link write was
  lost: it is offered as a create with ``sales_connect_id`` so the loader adopts that task instead
  of duplicating it if a create of that task is unsettled (``external_ids``) -- unless the same
  task is being pushed in this very plan, whose create settles it.

Output (``SyncPlan``): every frame has the documented columns even when empty (object dtype, None
for missing); dict columns hold JSON-safe dicts; timestamps are ISO 8601 strings; ids and
sequence numbers are ints.

- ``sf_to_sc.{creates,updates,completions,deletions}`` (``SF_TO_SC_COLUMNS``): ``sc_fields`` is the
  typed Sales Connect column dict to write (only changed columns; ``completed_at`` travels with
  ``status``). Creates have no ``task_id``; ``sales_connect_id`` set means "adopt that task (if it
  is this user's) instead of inserting". Write only if the task's ``change_seq`` is still
  ``expected_sc_seq``; mark the write ``changed_by="sync"``; then store ``sf_values``, ``sf_hash``,
  ``sf_modstamp``, ``sc_values``, ``sc_hash`` and the write's own new ``change_seq`` as ``sc_seq``
  in the link. Deletions: tombstone the task (and drop or mark the link).
- ``sc_to_sf.*`` (``SC_TO_SF_COLUMNS``): ``sf_fields`` is the Salesforce API body (only changed
  fields). Creates carry ``OwnerId`` and ``Sales_Connect_Id__c`` = ``<namespace>:<task id>``,
  inserted into that unique field, so a retry never duplicates (``external_ids``).
  ``expected_sf_modstamp`` is the SystemModstamp the diff saw (None if it never saw the record).
  After the write store ``sf_values``, ``sf_hash``, ``sc_values``, ``sc_hash``, ``sc_seq`` in the
  link; ``sf_modstamp`` stays as it was (Collections do not return it) and the read-back is
  recognised by ``sf_hash``.
- ``conflicts`` (``CONFLICT_COLUMNS``, the ``SyncConflict`` row); ``echoes_skipped``
  (``ECHO_COLUMNS``); ``skipped_preexisting`` (``PREEXISTING_COLUMNS``); ``quarantined``
  (``QUARANTINE_COLUMNS``: ``SyncError`` material, ``operation`` is create/update/read);
  ``unchanged`` (``UNCHANGED_COLUMNS``, ``reason`` one of stale, sync_disabled, deleted_unlinked,
  before_import_window, awaiting_sc_push, owner_changed, deleted_both_sides).
- ``link_refreshes`` (``LINK_REFRESH_COLUMNS``): link state to move forward without writing either
  side (echoes, Salesforce words Sales Connect cannot express, edits that converged); set each
  non-None column on the link of ``task_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from task_sync import fields as f
from task_sync import validation as v
from task_sync.external_ids import external_id, task_ids_of
from task_sync.precedence import salesforce_wins
from task_sync.windows import FIRST_SYNC_LOOKBACK

SC_COLUMNS: tuple[str, ...] = (
    "task_id", "user_id", "subject", "description", "due_date", "priority", "status", "task_type",
    "reminder_at", "completed_at", "created_at", "updated_at", "deleted_at", "version", "change_seq", "changed_by",
)  # fmt: skip
LINK_COLUMNS: tuple[str, ...] = (
    "task_id", "user_id", "sf_id", "origin", "sf_modstamp", "sf_values", "sf_hash", "sc_seq", "sc_values", "sc_hash",
)  # fmt: skip
USER_COLUMNS: tuple[str, ...] = ("user_id", "sf_owner_id", "sync_enabled", "enabled_at")
SF_DELETED_COLUMNS: tuple[str, ...] = ("sf_id", "deleted_at")

SF_TO_SC_COLUMNS: tuple[str, ...] = (
    "task_id", "user_id", "sf_id", "sales_connect_id", "expected_sc_seq", "sc_fields",
    "sc_values", "sc_hash", "sf_values", "sf_hash", "sf_modstamp", "reason",
)  # fmt: skip
SC_TO_SF_COLUMNS: tuple[str, ...] = (
    "task_id", "user_id", "sf_id", "owner_id", "expected_sf_modstamp", "sf_fields",
    "sc_values", "sc_hash", "sc_seq", "sf_values", "sf_hash", "reason",
)  # fmt: skip
CONFLICT_COLUMNS: tuple[str, ...] = (
    "task_id", "user_id", "sf_id", "sc_version", "sf_version", "sc_modified_at", "sf_modified_at", "winner", "rule",
)  # fmt: skip
ECHO_COLUMNS: tuple[str, ...] = ("side", "task_id", "sf_id", "guard")
LINK_REFRESH_COLUMNS: tuple[str, ...] = (
    "task_id", "sf_id", "sf_values", "sf_hash", "sf_modstamp", "sc_values", "sc_hash", "sc_seq", "reason",
)  # fmt: skip
PREEXISTING_COLUMNS: tuple[str, ...] = ("task_id", "user_id", "created_at", "enabled_at")
UNCHANGED_COLUMNS: tuple[str, ...] = ("side", "task_id", "sf_id", "reason")
QUARANTINE_COLUMNS: tuple[str, ...] = (*v.QUARANTINE_COLUMNS, "direction", "operation")

WINNER_SF, WINNER_SC = "salesforce", "sales_connect"
RULE_LATEST_WINS = (
    "latest-change-wins: both sides edited the task since the last sync; the later modification "
    "(Salesforce LastModifiedDate vs Sales Connect updated_at) wins the whole record, a tie goes to Salesforce"
)
RULE_DELETE_WINS = (
    "delete-wins: one side deleted the task while the other edited it; the deletion is applied and the "
    "edited version is kept in this conflict record"
)
RULE_OWNER_CHANGED = (
    "owner-changed: Salesforce gave the task to another owner before this rep's edit or deletion reached it; "
    "the task is no longer theirs, so the action is not written to Salesforce and is kept in this conflict record"
)
GUARD_HASH, GUARD_SEQ = "content_hash", "sync_change_seq"

# Ids and sequence numbers come out of outer merges as floats; the plan hands them back as ints.
_INTEGER_COLUMNS = frozenset({"task_id", "user_id", "expected_sc_seq", "sc_seq"})
_LINK_EVENT_COLUMNS = (*(f"link_{c}" for c in LINK_COLUMNS), "link_seen_sc_seq", "link_seen_sf_modstamp")
# Columns every linked change event carries (so empty or one-kind event frames still pair up).
SF_EVENT_COLUMNS = ("task_id", "kind", "sf_hash", "sf_modstamp", "sf_modified_at", "completed_at", "deleted_at",
                    *f.MAPPED_FIELDS, *_LINK_EVENT_COLUMNS)
SC_EVENT_COLUMNS = ("task_id", "kind", "sc_hash", "change_seq", "updated_at", "deleted_at",
                    *f.MAPPED_FIELDS, *_LINK_EVENT_COLUMNS)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _empty_deleted() -> pd.DataFrame:
    return _empty(SF_DELETED_COLUMNS)


@dataclass(frozen=True)
class SyncInput:
    """Everything the diff looks at; see the module docstring for each frame's columns."""

    sf_changes: pd.DataFrame
    sc_changes: pd.DataFrame
    links: pd.DataFrame
    users: pd.DataFrame
    sf_deleted: pd.DataFrame = field(default_factory=_empty_deleted)
    # This installation's namespace in Sales_Connect_Id__c (``external_ids``): creates carry
    # "<namespace>:<task id>", and only such a value marks an unlinked record as one we pushed.
    external_id_namespace: str | None = None


@dataclass(frozen=True)
class DirectionPlan:
    """Writes for one direction. ``completions`` are status changes to completed, counted apart
    from other edits; re-opening is an ordinary update."""

    creates: pd.DataFrame
    updates: pd.DataFrame
    completions: pd.DataFrame
    deletions: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "create": len(self.creates),
            "update": len(self.updates),
            "complete": len(self.completions),
            "delete": len(self.deletions),
        }


@dataclass(frozen=True)
class SyncPlan:
    sf_to_sc: DirectionPlan
    sc_to_sf: DirectionPlan
    conflicts: pd.DataFrame
    echoes_skipped: pd.DataFrame
    skipped_preexisting: pd.DataFrame
    quarantined: pd.DataFrame
    unchanged: pd.DataFrame
    link_refreshes: pd.DataFrame

    def counts(self) -> dict[str, Any]:
        """The shape ``SyncRun.counts`` stores."""
        return {
            "sf_to_sc": self.sf_to_sc.counts(),
            "sc_to_sf": self.sc_to_sf.counts(),
            "conflicts": len(self.conflicts),
            "echoes_skipped": len(self.echoes_skipped),
            "skipped_preexisting": len(self.skipped_preexisting),
            "quarantined": len(self.quarantined),
            "unchanged": len(self.unchanged),
        }


class _Parts:
    """Collects output fragments per output name, then assembles frames with fixed columns."""

    def __init__(self) -> None:
        self.parts: dict[str, list[pd.DataFrame]] = {}

    def add(self, name: str, frame: pd.DataFrame) -> None:
        if len(frame):
            self.parts.setdefault(name, []).append(frame.reset_index(drop=True))

    def get(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        frames = self.parts.get(name)
        if not frames:
            return _empty(columns)
        out = pd.concat([fr.reindex(columns=list(columns)) for fr in frames], ignore_index=True)
        out = out.astype(object).where(out.notna(), None)
        for column in _INTEGER_COLUMNS.intersection(columns):
            out[column] = pd.Series([None if x is None else int(x) for x in out[column]], index=out.index, dtype=object)
        return out


def _rows(frame: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    """A fragment with the given columns (Series aligned on ``frame``'s index, or scalars)."""
    return pd.DataFrame({k: (col if isinstance(col, pd.Series | list) else [col] * len(frame))
                         for k, col in columns.items()}, index=frame.index)


def _expand(dicts: pd.Series) -> pd.DataFrame:
    """A dict column (link sf_values/sc_values) as canonical columns; missing dicts/keys -> None."""
    rows = [d if isinstance(d, dict) else {} for d in dicts]
    out = pd.DataFrame(rows, index=dicts.index).reindex(columns=list(f.MAPPED_FIELDS))
    return out.astype(object).where(out.notna(), None)


def _eq(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Null-safe element-wise equality of two canonical frames."""
    a, b = a[list(f.MAPPED_FIELDS)], b[list(f.MAPPED_FIELDS)]
    return (a.eq(b) | (a.isna() & b.isna())).astype(bool)


def _dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [f.na_to_none(frame[c]).tolist() for c in f.MAPPED_FIELDS]
    return [dict(zip(f.MAPPED_FIELDS, row, strict=True)) for row in zip(*cols, strict=True)]


def _iso(series: pd.Series) -> pd.Series:
    return f.na_to_none(pd.to_datetime(series, utc=True).map(lambda t: t.isoformat() if pd.notna(t) else None))


def _events(events: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Change events with every pairing column present and integer task ids on both sides."""
    events = v.ensure_columns(events, columns)
    events["task_id"] = pd.to_numeric(events["task_id"]).astype("Int64")
    return events


def _prefixed_links(links: pd.DataFrame) -> pd.DataFrame:
    frame = v.ensure_columns(links, LINK_COLUMNS)[list(LINK_COLUMNS)].copy()
    frame["sf_modstamp"] = v.parse_utc(frame["sf_modstamp"])
    frame["sc_seq"] = pd.to_numeric(frame["sc_seq"]).fillna(0)
    return frame.add_prefix("link_")


def _with_seen_versions(links: pd.DataFrame, inp: SyncInput) -> pd.DataFrame:
    """Add the newest version of each linked task the extract saw on each side, echoes and stale rows
    included (``link_seen_sc_seq``, ``link_seen_sf_modstamp``). Writes are conditioned on it: the loader
    must refuse to overwrite a version the diff did not look at, and must not refuse one it did (an
    echo read in this run moved ``change_seq`` on without being a change)."""
    sc = v.ensure_columns(inp.sc_changes, ("task_id", "change_seq"))
    sc_seen = pd.DataFrame({"link_task_id": sc["task_id"], "seen_seq": pd.to_numeric(sc["change_seq"])})
    sf = v.ensure_columns(inp.sf_changes, ("Id", "SystemModstamp"))
    sf_seen = pd.DataFrame({"link_sf_id": f.na_to_none(sf["Id"]), "seen_stamp": v.parse_utc(sf["SystemModstamp"])})
    links = links.merge(sc_seen.groupby("link_task_id", as_index=False)["seen_seq"].max(), how="left",
                        on="link_task_id")
    links = links.merge(sf_seen.groupby("link_sf_id", as_index=False)["seen_stamp"].max(), how="left",
                        on="link_sf_id")
    seen_seq, seen_stamp = pd.to_numeric(links.pop("seen_seq")), v.parse_utc(links.pop("seen_stamp"))
    links["link_seen_sc_seq"] = links["link_sc_seq"].where(seen_seq.isna() | (links["link_sc_seq"] >= seen_seq),
                                                           seen_seq)
    stamp = links["link_sf_modstamp"]
    links["link_seen_sf_modstamp"] = stamp.where(seen_stamp.isna() | (stamp >= seen_stamp), seen_stamp)
    return links


def _prepare_users(users: pd.DataFrame) -> pd.DataFrame:
    frame = v.ensure_columns(users, USER_COLUMNS)[list(USER_COLUMNS)].copy()
    frame["sync_enabled"] = frame["sync_enabled"].fillna(False).astype(bool)
    frame["enabled_at"] = v.parse_utc(frame["enabled_at"])
    frame["import_from"] = frame["enabled_at"] - FIRST_SYNC_LOOKBACK
    return frame


def build_plan(inp: SyncInput) -> SyncPlan:
    """Decide every write of one run. Never raises on bad records: they land in ``quarantined``."""
    out = _Parts()
    users = _prepare_users(inp.users)
    links = _with_seen_versions(_prefixed_links(inp.links), inp)
    sc_events, sc_push_ids = _sales_connect_side(inp.sc_changes, users, links, inp.external_id_namespace, out)
    sf_events, moved = _salesforce_side(inp, users, links, sc_push_ids, out)
    stale_moved = sc_events["task_id"].isin(set(moved["link_task_id"]))
    out.add("unchanged", _rows(sc_events[stale_moved], side=v.SIDE_SC, task_id=sc_events["task_id"],
                               sf_id=sc_events["link_sf_id"], reason="owner_changed"))
    _owner_changed_conflicts(sc_events[stale_moved], moved, out)
    _resolve(sf_events, sc_events[~stale_moved], out)

    def direction(prefix: str, columns: tuple[str, ...]) -> DirectionPlan:
        return DirectionPlan(*(out.get(f"{prefix}.{k}", columns) for k in ("creates", "updates", "completions",
                                                                           "deletions")))

    return SyncPlan(
        sf_to_sc=direction("sf_to_sc", SF_TO_SC_COLUMNS),
        sc_to_sf=direction("sc_to_sf", SC_TO_SF_COLUMNS),
        conflicts=out.get("conflicts", CONFLICT_COLUMNS),
        echoes_skipped=out.get("echoes", ECHO_COLUMNS),
        skipped_preexisting=out.get("preexisting", PREEXISTING_COLUMNS),
        quarantined=out.get("quarantined", QUARANTINE_COLUMNS),
        unchanged=out.get("unchanged", UNCHANGED_COLUMNS),
        link_refreshes=out.get("link_refreshes", LINK_REFRESH_COLUMNS),
    )


def _quarantine(out: _Parts, frame: pd.DataFrame, direction: str, operation: str) -> None:
    """Record refused rows; ids the row only knew through its link are taken from the payload."""
    if len(frame):
        payload = frame["payload"]
        task_id = frame["task_id"].where(frame["task_id"].notna(), payload.map(lambda p: p.get("link_task_id")))
        sf_id = frame["sf_id"].where(frame["sf_id"].notna(), payload.map(lambda p: p.get("link_sf_id")))
        out.add("quarantined", frame.assign(task_id=task_id, sf_id=sf_id, direction=direction, operation=operation))


# --------------------------------------------------------------------------- Sales Connect side


def _sales_connect_side(
    changes: pd.DataFrame, users: pd.DataFrame, links: pd.DataFrame, namespace: str | None, out: _Parts
) -> tuple[pd.DataFrame, set[Any]]:
    """Classify Sales Connect changes; emit creates/skips/echoes. Returns the linked change events
    (``kind`` "edit" or "delete") and the ids of tasks pushed as creates in this plan."""
    sc = v.ensure_columns(changes, SC_COLUMNS)
    sc["change_seq"] = pd.to_numeric(sc["change_seq"]).fillna(0)
    sc = sc.sort_values("change_seq").drop_duplicates("task_id", keep="last")
    for column in ("created_at", "updated_at", "deleted_at"):
        sc[column] = v.parse_utc(sc[column])
    sc = sc.merge(users, on="user_id", how="left", validate="many_to_one")
    sc = sc.merge(links, left_on="task_id", right_on="link_task_id", how="left", validate="many_to_one")

    enabled = sc["sync_enabled"].fillna(False).astype(bool)
    out.add("unchanged", _rows(sc[~enabled], side=v.SIDE_SC, task_id=sc["task_id"], sf_id=sc["link_sf_id"],
                               reason="sync_disabled"))
    sc, bad = v.validate_sc_owners(sc[enabled])
    _quarantine(out, bad, "sc_to_sf", "read")
    linked = sc["link_sf_id"].notna()

    unlinked = sc[~linked]
    out.add("unchanged", _rows(unlinked[unlinked["deleted_at"].notna()], side=v.SIDE_SC,
                               task_id=unlinked["task_id"], sf_id=None, reason="deleted_unlinked"))
    alive = unlinked[unlinked["deleted_at"].isna()]
    new = alive["created_at"] > alive["enabled_at"]
    pre = alive[~new]
    out.add("preexisting", _rows(pre, task_id=pre["task_id"], user_id=pre["user_id"],
                                 created_at=_iso(pre["created_at"]), enabled_at=_iso(pre["enabled_at"])))
    creates, bad = v.validate_sc_content(alive[new])
    _quarantine(out, bad, "sc_to_sf", "create")
    _sc_creates(creates, namespace, out)

    mine = sc[linked]
    seq_echo = (mine["changed_by"] == "sync") & (mine["change_seq"] == mine["link_sc_seq"])
    out.add("echoes", _rows(mine[seq_echo], side=v.SIDE_SC, task_id=mine["task_id"], sf_id=mine["link_sf_id"],
                            guard=GUARD_SEQ))
    mine = mine[~seq_echo]
    stale = mine["change_seq"] <= mine["link_sc_seq"]
    out.add("unchanged", _rows(mine[stale], side=v.SIDE_SC, task_id=mine["task_id"], sf_id=mine["link_sf_id"],
                               reason="stale"))
    mine = mine[~stale]
    removed = mine[mine["deleted_at"].notna()].assign(kind="delete")
    edited, bad = v.validate_sc_content(mine[mine["deleted_at"].isna()])
    _quarantine(out, bad, "sc_to_sf", "update")
    edited = edited.assign(sc_hash=f.hash_frame(edited), kind="edit")
    hash_echo = edited["sc_hash"] == edited["link_sc_hash"]
    echoes = edited[hash_echo]
    out.add("echoes", _rows(echoes, side=v.SIDE_SC, task_id=echoes["task_id"], sf_id=echoes["link_sf_id"],
                            guard=GUARD_HASH))
    out.add("link_refreshes", _rows(echoes, task_id=echoes["task_id"], sf_id=echoes["link_sf_id"],
                                    sc_seq=echoes["change_seq"], reason="echo"))
    events = pd.concat([removed, edited[~hash_echo]], ignore_index=True)
    return _events(events, SC_EVENT_COLUMNS), set(creates["task_id"])


def _sc_creates(rows: pd.DataFrame, namespace: str | None, out: _Parts) -> None:
    if rows.empty:
        return
    if not namespace:
        raise ValueError("Sales Connect tasks cannot be created in Salesforce without the external-id namespace")
    sf_new = f.sc_to_sf_frame(rows, pd.Series(None, index=rows.index, dtype=object))
    sf_values = _dicts(sf_new)
    ext_ids = [external_id(namespace, t) for t in rows["task_id"]]
    sf_fields = [
        {**f.sf_payload(values, f.MAPPED_FIELDS), "OwnerId": owner, f.EXTERNAL_ID_FIELD: ext}
        for values, owner, ext in zip(sf_values, rows["sf_owner_id"], ext_ids, strict=True)
    ]
    out.add("sc_to_sf.creates", _rows(
        rows, task_id=rows["task_id"], user_id=rows["user_id"], owner_id=rows["sf_owner_id"], sf_fields=sf_fields,
        sc_values=_dicts(rows), sc_hash=f.hash_frame(rows), sc_seq=rows["change_seq"],
        sf_values=[f.link_sf_values(s, None) for s in sf_values], sf_hash=f.hash_frame(sf_new), reason="new",
    ))


# --------------------------------------------------------------------------- Salesforce side


def _salesforce_side(
    inp: SyncInput, users: pd.DataFrame, links: pd.DataFrame, sc_push_ids: set[Any], out: _Parts
) -> tuple[pd.DataFrame, set[Any]]:
    """Classify Salesforce changes; emit imports/skips/echoes. Returns linked change events
    (``kind`` "edit" or "delete") and the linked records that left their user because the owner changed."""
    good, bad = v.validate_sf_system(inp.sf_changes)
    _quarantine(out, bad, "sf_to_sc", "read")
    good["sales_connect_id"] = task_ids_of(good["sales_connect_id"], inp.external_id_namespace)

    deleted = v.ensure_columns(inp.sf_deleted, SF_DELETED_COLUMNS)[list(SF_DELETED_COLUMNS)]
    deleted = pd.concat([
        deleted.assign(deleted_at=v.parse_utc(deleted["deleted_at"])),
        good.loc[good["is_deleted"], ["sf_id", "sf_modstamp"]].rename(columns={"sf_modstamp": "deleted_at"}),
    ], ignore_index=True).sort_values("deleted_at").drop_duplicates("sf_id", keep="last")
    # A record restored from the recycle bin comes back live with a newer stamp than its deletion.
    live_stamps = good.loc[~good["is_deleted"], ["sf_id", "sf_modstamp"]].rename(columns={"sf_modstamp": "live_at"})
    deleted = deleted.merge(live_stamps, on="sf_id", how="left")
    live_at, deleted_at = v.parse_utc(deleted.pop("live_at")), v.parse_utc(deleted["deleted_at"])
    deleted = deleted[~(live_at.notna() & (deleted_at.isna() | (live_at > deleted_at)))]
    removals = _sf_removals(deleted, users, links, out)

    live = good[~good["is_deleted"] & ~good["sf_id"].isin(deleted["sf_id"])]
    handed_away = _handed_away(live, users, links, out)
    live, bad = v.validate_sf_owners(live[~live["sf_id"].isin(handed_away["sf_id"])], users)
    _quarantine(out, bad, "sf_to_sc", "read")
    enabled = live["sync_enabled"].fillna(False).astype(bool)
    out.add("unchanged", _rows(live[~enabled], side=v.SIDE_SF, task_id=None, sf_id=live["sf_id"],
                               reason="sync_disabled"))
    live = live[enabled].merge(links, left_on="sf_id", right_on="link_sf_id", how="left",
                                            validate="one_to_one")

    moved = live["link_task_id"].notna() & (live["link_user_id"] != live["user_id"])
    gone = live[moved]
    out.add("sf_to_sc.deletions", _rows(gone, task_id=gone["link_task_id"], user_id=gone["link_user_id"],
                                        sf_id=gone["sf_id"], expected_sc_seq=gone["link_seen_sc_seq"],
                                        reason="owner_changed"))
    link_cols = [c for c in live.columns if c.startswith("link_")]
    live.loc[moved, link_cols] = None

    _sf_imports(live[live["link_task_id"].isna()], sc_push_ids, out)
    events = pd.concat([removals, _sf_linked_edits(live[live["link_task_id"].notna()], out)], ignore_index=True)
    return _events(events, SF_EVENT_COLUMNS), pd.concat([gone, handed_away], ignore_index=True)


def _owner_changed_conflicts(sc_moved: pd.DataFrame, sf_moved: pd.DataFrame, out: _Parts) -> None:
    """A rep's edit or deletion of a task Salesforce has meanwhile given to another owner is not theirs to
    write any more: it is recorded as a conflict (Salesforce's owner wins), with both versions."""
    if sc_moved.empty:
        return
    sf_rows, _bad = v.validate_sf_content(sf_moved)  # a refused value is the new owner's shard's to report
    sf_rows = sf_rows.assign(task_id=pd.to_numeric(sf_rows["link_task_id"]).astype("Int64"), kind="edit",
                             deleted_at=None)
    sc_part = sc_moved.add_suffix("_sc").rename(columns={"task_id_sc": "task_id"})
    _conflicts(sf_rows.drop_duplicates("task_id").merge(sc_part, on="task_id"), WINNER_SF, RULE_OWNER_CHANGED, out)


def _handed_away(live: pd.DataFrame, users: pd.DataFrame, links: pd.DataFrame, out: _Parts) -> pd.DataFrame:
    """Linked records Salesforce now files under an owner the sync does not serve (no Sales Connect
    user, or one whose sync is off): they leave the linked user's list like any owner change, and are
    neither imported nor quarantined -- nobody here owns them any more. Returns those rows."""
    synced_owners = users.loc[users["sync_enabled"], "sf_owner_id"].dropna()
    away = live[~live["owner_id"].isin(synced_owners)].merge(links, left_on="sf_id", right_on="link_sf_id",
                                                            how="inner")
    served = away["link_user_id"].isin(users.loc[users["sync_enabled"], "user_id"])
    away = away[served]
    out.add("sf_to_sc.deletions", _rows(away, task_id=away["link_task_id"], user_id=away["link_user_id"],
                                        sf_id=away["sf_id"], expected_sc_seq=away["link_seen_sc_seq"],
                                        reason="owner_changed"))
    return away


def _sf_removals(deleted: pd.DataFrame, users: pd.DataFrame, links: pd.DataFrame, out: _Parts) -> pd.DataFrame:
    """Deleted Salesforce ids that are linked to a synced user's task -> delete events."""
    rows = deleted.merge(links, left_on="sf_id", right_on="link_sf_id", how="inner")
    rows = rows.merge(users[["user_id", "sync_enabled"]], left_on="link_user_id", right_on="user_id", how="left")
    enabled = rows["sync_enabled"].fillna(False).astype(bool)
    out.add("unchanged", _rows(rows[~enabled], side=v.SIDE_SF, task_id=rows["link_task_id"], sf_id=rows["sf_id"],
                               reason="sync_disabled"))
    rows = rows[enabled]
    return rows.assign(kind="delete", task_id=rows["link_task_id"], sf_modified_at=rows["deleted_at"])


def _sf_imports(rows: pd.DataFrame, sc_push_ids: set[Any], out: _Parts) -> None:
    """Unlinked Salesforce records -> Sales Connect creates (within the import floor)."""
    ours = rows["sales_connect_id"].notna()
    pending = ours & rows["sales_connect_id"].isin([str(t) for t in sc_push_ids])
    out.add("unchanged", _rows(rows[pending], side=v.SIDE_SF, task_id=None, sf_id=rows["sf_id"],
                               reason="awaiting_sc_push"))
    recent = rows["sf_modified_at"] >= rows["import_from"]
    old = rows[~ours & ~recent]
    out.add("unchanged", _rows(old, side=v.SIDE_SF, task_id=None, sf_id=old["sf_id"],
                               reason="before_import_window"))
    candidates, bad = v.validate_sf_content(rows[(ours & ~pending) | (~ours & recent)])
    _quarantine(out, bad, "sf_to_sc", "create")
    if candidates.empty:
        return
    sc_new = f.sf_to_sc_frame(candidates)
    sc_values = _dicts(sc_new)
    completed = candidates["completed_at"].where(candidates["completed_at"].notna(), candidates["sf_modified_at"])
    out.add("sf_to_sc.creates", _rows(
        candidates, user_id=candidates["user_id"], sf_id=candidates["sf_id"],
        sales_connect_id=candidates["sales_connect_id"],
        sc_fields=[f.sc_payload(s, f.MAPPED_FIELDS, c.to_pydatetime())
                   for s, c in zip(sc_values, completed, strict=True)],
        sc_values=sc_values, sc_hash=f.hash_frame(sc_new),
        sf_values=[f.link_sf_values(s, None) for s in _dicts(candidates)], sf_hash=f.hash_frame(candidates),
        sf_modstamp=_iso(candidates["sf_modstamp"]), reason="new",
    ))


def _sf_linked_edits(rows: pd.DataFrame, out: _Parts) -> pd.DataFrame:
    """Linked live Salesforce records: drop stale and echoed versions; the rest are edit events.

    Salesforce stamps whole seconds, so a save in the second already synced carries the synced
    stamp: a row at that stamp is stale only if its content is the version agreed."""
    older = rows["sf_modstamp"] < rows["link_sf_modstamp"]
    edits, bad = v.validate_sf_content(rows[~older])
    _quarantine(out, bad, "sf_to_sc", "update")
    edits = edits.assign(sf_hash=f.hash_frame(edits), kind="edit", task_id=edits["link_task_id"])
    same = (edits["sf_modstamp"] == edits["link_sf_modstamp"]) & (edits["sf_hash"] == edits["link_sf_hash"])
    stale = pd.concat([rows[older], edits[same]])
    out.add("unchanged", _rows(stale, side=v.SIDE_SF, task_id=stale["link_task_id"], sf_id=stale["sf_id"],
                               reason="stale"))
    edits = edits[~same]
    echo = edits["sf_hash"] == edits["link_sf_hash"]
    echoes = edits[echo]
    out.add("echoes", _rows(echoes, side=v.SIDE_SF, task_id=echoes["task_id"], sf_id=echoes["sf_id"],
                            guard=GUARD_HASH))
    out.add("link_refreshes", _rows(echoes, task_id=echoes["task_id"], sf_id=echoes["sf_id"],
                                    sf_modstamp=_iso(echoes["sf_modstamp"]), reason="echo"))
    return edits[~echo]


# --------------------------------------------------------------------------- both sides


def _resolve(sf: pd.DataFrame, sc: pd.DataFrame, out: _Parts) -> None:
    """Pair the linked events by task: one side changed -> propagate; both -> conflict rules."""
    both_ids = set(sf["task_id"]) & set(sc["task_id"])
    sf_only, sc_only = sf[~sf["task_id"].isin(both_ids)], sc[~sc["task_id"].isin(both_ids)]

    _sf_deletions(sf_only[sf_only["kind"] == "delete"], sf_only["link_seen_sc_seq"], out)
    _sc_deletions(sc_only[sc_only["kind"] == "delete"], out)
    sf_edit, sc_edit = sf_only[sf_only["kind"] == "edit"], sc_only[sc_only["kind"] == "edit"]
    _sf_to_sc_updates(sf_edit, sc_base=_expand(sf_edit["link_sc_values"]), sf_base=_expand(sf_edit["link_sf_values"]),
                      expected_sc_seq=sf_edit["link_seen_sc_seq"], reason="edited", out=out)
    _sc_to_sf_updates(sc_edit, sf_base=_expand(sc_edit["link_sf_values"]), sc_base=_expand(sc_edit["link_sc_values"]),
                      open_words=sc_edit["link_sf_values"].map(f.open_status_of),
                      expected_sf_modstamp=sc_edit["link_seen_sf_modstamp"], reason="edited", out=out)

    sc_part = sc[sc["task_id"].isin(both_ids)].add_suffix("_sc").rename(columns={"task_id_sc": "task_id"})
    pair = sf[sf["task_id"].isin(both_ids)].merge(sc_part, on="task_id", validate="one_to_one")
    if pair.empty:
        return
    sf_del, sc_del = pair["kind"] == "delete", pair["kind_sc"] == "delete"
    gone = pair[sf_del & sc_del]
    out.add("unchanged", _rows(gone, side=v.SIDE_SF, task_id=gone["task_id"], sf_id=gone["link_sf_id"],
                               reason="deleted_both_sides"))

    sf_won_delete = pair[sf_del & ~sc_del]
    _conflicts(sf_won_delete, WINNER_SF, RULE_DELETE_WINS, out)
    _sf_deletions(sf_won_delete, sf_won_delete["change_seq_sc"], out)
    sc_won_delete = pair[sc_del & ~sf_del]
    _conflicts(sc_won_delete, WINNER_SC, RULE_DELETE_WINS, out)
    _sc_deletions(sc_won_delete.assign(change_seq=sc_won_delete["change_seq_sc"]), out)

    edits = pair[~sf_del & ~sc_del]
    sf_now = edits[list(f.MAPPED_FIELDS)]
    sc_now = _sc_values_of(edits)
    agree = _eq(f.sf_to_sc_frame(sf_now), sc_now).all(axis=1)
    same = edits[agree]
    out.add("link_refreshes", _rows(
        same, task_id=same["task_id"], sf_id=same["link_sf_id"],
        sf_values=[f.link_sf_values(s, p) for s, p in zip(_dicts(sf_now[agree]), same["link_sf_values"], strict=True)],
        sf_hash=same["sf_hash"], sf_modstamp=_iso(same["sf_modstamp"]), sc_values=_dicts(sc_now[agree]),
        sc_hash=same["sc_hash_sc"], sc_seq=same["change_seq_sc"], reason="converged",
    ))
    edits = edits[~agree]
    sf_wins = salesforce_wins(edits["sf_modified_at"], edits["updated_at_sc"])
    _conflicts(edits[sf_wins], WINNER_SF, RULE_LATEST_WINS, out)
    _conflicts(edits[~sf_wins], WINNER_SC, RULE_LATEST_WINS, out)
    won = edits[sf_wins]
    _sf_to_sc_updates(won, sc_base=_sc_values_of(won), sf_base=None, expected_sc_seq=won["change_seq_sc"],
                      reason="conflict_won", out=out)
    lost = edits[~sf_wins]
    sf_current = lost[list(f.MAPPED_FIELDS)]
    open_words = [f.open_status_of(cur) or f.open_status_of(prev)
                  for cur, prev in zip(_dicts(sf_current), lost["link_sf_values"], strict=True)]
    sc_side = _sc_values_of(lost).assign(
        task_id=lost["task_id"], link_user_id=lost["link_user_id"], link_sf_id=lost["link_sf_id"],
        link_sf_values=lost["link_sf_values"], sc_hash=lost["sc_hash_sc"], change_seq=lost["change_seq_sc"],
    )
    _sc_to_sf_updates(sc_side, sf_base=sf_current, sc_base=None,
                      open_words=pd.Series(open_words, index=lost.index, dtype=object),
                      expected_sf_modstamp=lost["sf_modstamp"], reason="conflict_won", out=out)


def _sc_values_of(pair: pd.DataFrame) -> pd.DataFrame:
    """The Sales Connect canonical columns of a paired frame, under their plain names."""
    return pair[[c + "_sc" for c in f.MAPPED_FIELDS]].set_axis(list(f.MAPPED_FIELDS), axis=1)


def _version(frame: pd.DataFrame, suffix: str, deleted_at: pd.Series) -> list[dict[str, Any]]:
    values = _dicts(frame[[c + suffix for c in f.MAPPED_FIELDS]].set_axis(list(f.MAPPED_FIELDS), axis=1))
    return [
        {"deleted_at": d} if d is not None else val for val, d in zip(values, _iso(deleted_at), strict=True)
    ]


def _conflicts(pair: pd.DataFrame, winner: str, rule: str, out: _Parts) -> None:
    if pair.empty:
        return
    sf_deleted_at = pair["deleted_at"].where(pair["kind"] == "delete", None)
    sc_deleted_at = pair["deleted_at_sc"].where(pair["kind_sc"] == "delete", None)
    sc_time = pair["deleted_at_sc"].where(pair["kind_sc"] == "delete", pair["updated_at_sc"])
    out.add("conflicts", _rows(
        pair, task_id=pair["task_id"], user_id=pair["link_user_id"], sf_id=pair["link_sf_id"],
        sc_version=_version(pair, "_sc", sc_deleted_at), sf_version=_version(pair, "", sf_deleted_at),
        sc_modified_at=_iso(sc_time), sf_modified_at=_iso(pair["sf_modified_at"]), winner=winner, rule=rule,
    ))


def _sf_deletions(rows: pd.DataFrame, expected_sc_seq: pd.Series, out: _Parts) -> None:
    out.add("sf_to_sc.deletions", _rows(rows, task_id=rows["task_id"], user_id=rows["link_user_id"],
                                        sf_id=rows["link_sf_id"], expected_sc_seq=expected_sc_seq.reindex(rows.index),
                                        reason="deleted"))


def _sc_deletions(rows: pd.DataFrame, out: _Parts) -> None:
    out.add("sc_to_sf.deletions", _rows(
        rows, task_id=rows["task_id"], user_id=rows["link_user_id"], sf_id=rows["link_sf_id"],
        expected_sf_modstamp=_iso(rows["link_seen_sf_modstamp"]), sc_seq=rows["change_seq"], reason="deleted",
    ))


def _write_mask(new: pd.DataFrame, target_base: pd.DataFrame, source_new: pd.DataFrame,
                source_base: pd.DataFrame | None) -> pd.DataFrame:
    """Fields to write: changed on the source since the agreed state (all, when a conflict is won)
    and different from what the target has."""
    differs = ~_eq(new, target_base)
    if source_base is None:
        return differs
    return differs & ~_eq(source_new, source_base)


def _split_writes(mask: pd.DataFrame, completed: pd.Series, direction: str,
                  fragment: pd.DataFrame, out: _Parts) -> pd.Series:
    """Route rows to updates/completions; rows with nothing to write return False for a link refresh."""
    writes = mask.any(axis=1)
    is_completion = writes & mask["status"] & completed
    out.add(f"{direction}.completions", fragment[is_completion])
    out.add(f"{direction}.updates", fragment[writes & ~is_completion])
    return writes


def _sf_to_sc_updates(rows: pd.DataFrame, sc_base: pd.DataFrame, sf_base: pd.DataFrame | None,
                      expected_sc_seq: pd.Series, reason: str, out: _Parts) -> None:
    if rows.empty:
        return
    sf_new = rows[list(f.MAPPED_FIELDS)]
    sc_new = f.sf_to_sc_frame(sf_new)
    mask = _write_mask(sc_new, sc_base, sf_new, sf_base)
    sc_after = sc_base.where(~mask, sc_new)
    sc_after_dicts = _dicts(sc_after)
    completed_at = rows["completed_at"].where(rows["completed_at"].notna(), rows["sf_modified_at"])
    sc_fields = [
        f.sc_payload(values, [c for c in f.MAPPED_FIELDS if m[c]], when.to_pydatetime())
        for values, m, when in zip(sc_after_dicts, mask.to_dict("records"), completed_at, strict=True)
    ]
    sf_values = [f.link_sf_values(s, p) for s, p in zip(_dicts(sf_new), rows["link_sf_values"], strict=True)]
    fragment = _rows(rows, task_id=rows["task_id"], user_id=rows["link_user_id"], sf_id=rows["link_sf_id"],
                     expected_sc_seq=expected_sc_seq, sc_fields=sc_fields, sc_values=sc_after_dicts,
                     sc_hash=f.hash_frame(sc_after), sf_values=sf_values, sf_hash=rows["sf_hash"],
                     sf_modstamp=_iso(rows["sf_modstamp"]), reason=reason)
    writes = _split_writes(mask, sc_new["status"] == f.SC_COMPLETED, "sf_to_sc", fragment, out)
    out.add("link_refreshes", fragment[~writes].assign(reason="no_mapped_change", sc_values=None, sc_hash=None))


def _sc_to_sf_updates(rows: pd.DataFrame, sf_base: pd.DataFrame, sc_base: pd.DataFrame | None,
                      open_words: pd.Series, expected_sf_modstamp: pd.Series, reason: str, out: _Parts) -> None:
    if rows.empty:
        return
    sc_new = rows[list(f.MAPPED_FIELDS)]
    sf_new = f.sc_to_sf_frame(sc_new, open_words)
    mask = _write_mask(sf_new, sf_base, sc_new, sc_base)
    sf_after = sf_base.where(~mask, sf_new)
    sf_after_dicts = _dicts(sf_after)
    sf_fields = [
        f.sf_payload(values, [c for c in f.MAPPED_FIELDS if m[c]])
        for values, m in zip(sf_after_dicts, mask.to_dict("records"), strict=True)
    ]
    sf_values = [f.link_sf_values(s, p) for s, p in zip(sf_after_dicts, rows["link_sf_values"], strict=True)]
    fragment = _rows(rows, task_id=rows["task_id"], user_id=rows["link_user_id"], sf_id=rows["link_sf_id"],
                     expected_sf_modstamp=_iso(expected_sf_modstamp), sf_fields=sf_fields, sc_values=_dicts(sc_new),
                     sc_hash=rows["sc_hash"], sc_seq=rows["change_seq"], sf_values=sf_values,
                     sf_hash=f.hash_frame(sf_after), reason=reason)
    writes = _split_writes(mask, sf_new["status"] == f.SF_COMPLETED, "sc_to_sf", fragment, out)
    out.add("link_refreshes", fragment[~writes].assign(reason="no_mapped_change", sf_values=None, sf_hash=None))

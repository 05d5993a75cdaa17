"""Sales Connect <-> Salesforce task sync.

Keeps each rep's Sales Connect tasks and their Salesforce `Task` records in
step, both ways: creates, edits, completions and deletions (SPEC.md).

**Steps** (one run):

1. **plan** — takes the run lock (`run_lock`: one run at a time, backfills
   included; a run that finds it held waits); a new connection's first run checks Salesforce is
   set up (`Sales_Connect_Id__c` on Task: Text, External ID, Unique, editable; one describe,
   remembered per connection); the enabled users (or the `user_ids` param), spread over shards;
   each shard's read windows from the *safe* (earlier) of its XCom
   and durable ledger watermarks; one `getDeleted` call for the run.
   Nobody enabled: nothing to do, no API call.
2. **extract** (mapped per shard) — Salesforce changes by SystemModstamp over
   `queryAll` for all the shard's owners at once; Sales Connect changes by
   its change sequence. Frames go to Parquet files in the run folder.
3. **diff** (mapped) — creates / edits / completions / deletions each way,
   conflicts, echoes, pre-existing tasks left alone, quarantined records.
4. **load** (mapped) — Sales Connect in one transaction with version
   checks; Salesforce in collections of 200 (creates are inserts carrying
   `Sales_Connect_Id__c` = `<namespace>:<task id>`; a value another record
   holds is never written over). A refused record is recorded and retried later.
5. **publish_watermarks** — only shards whose load succeeded advance; the
   watermarks are this task's XCom and are kept durably in the ledger.
6. **report** — counts per kind and direction, API calls, conflicts and
   errors into the sync history and the task log; gives the run lock back.

**Params**: `dry_run` (plan only, write nothing), `user_ids` (a subset),
`full_reconcile` (check every linked id still exists), `preview_enable`
(with `dry_run`: as if the given users switched sync on now).

**Connections**: `salesforce_default`, `sales_connect_db` (see README).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect import sf_ids
from sales_connect.db import Store, migrate
from sales_connect.models import SyncRun, User
from task_sync import (
    backfill,
    deletion_gap,
    external_ids,
    extract,
    ledger,
    load,
    preflight,
    reenable,
    retries,
    run_lock,
    soql,
    step_calls,
    watermark_clamp,
)
from task_sync.connections import open_gateway
from task_sync.diff import SyncInput, SyncPlan, build_plan
from task_sync.ledger import ShardWatermark
from task_sync.outcomes import RunOutcomes
from task_sync.run_scope import own_deletions
from task_sync.runfiles import read_frame, remove_run_folder, run_folder, write_frame
from task_sync.salesforce import ApiLimitExceeded, SalesforceGateway
from task_sync.settings import SyncSettings
from task_sync.shards import assign_shards
from task_sync.windows import (
    backfill_windows,
    deleted_window,
    import_floor,
    read_window,
    updated_window,
)
from task_sync.write_guard import WriteGuard

log = logging.getLogger(__name__)

DELETIONS_KEY = "deletions"  # the run-wide getDeleted cursor in the ledger
PREVIEW_LIMIT = 200


class RunIncomplete(RuntimeError):
    """A shard did not finish; what it did is recorded and the next run picks up the rest."""


@dataclass(frozen=True)
class RunContext:
    """What a task needs to know about its DAG run; built from Airflow's context or by tests."""

    dag_run_id: str
    run_type: str
    interval_start: dt.datetime | None = None
    interval_end: dt.datetime | None = None
    dry_run: bool = False
    user_ids: tuple[int, ...] = ()
    full_reconcile: bool = False
    preview_enable: bool = False
    prior_watermarks: Mapping[str, Any] | None = None
    settings: SyncSettings = field(default_factory=SyncSettings.from_env)
    store_url: str | None = None
    gateway_factory: Callable[[], SalesforceGateway] | None = None
    # Whether another DAG run is still alive (the run lock's stale rule); None outside Airflow.
    holder_is_running: Callable[[str], bool] | None = None

    @classmethod
    def from_airflow(cls, context: Mapping[str, Any]) -> RunContext:
        dag_run = context["dag_run"]
        params = context.get("params") or {}
        settings = SyncSettings.from_env()
        prior = None
        if context["ti"].task_id == "plan":
            prior = context["ti"].xcom_pull(
                task_ids="publish_watermarks", include_prior_dates=True, map_indexes=-1
            )
        return cls(
            dag_run_id=dag_run.run_id,
            run_type=str(getattr(dag_run.run_type, "value", dag_run.run_type)),
            interval_start=dag_run.data_interval_start,
            interval_end=dag_run.data_interval_end,
            dry_run=bool(params.get("dry_run")),
            user_ids=tuple(int(u) for u in params.get("user_ids") or ()),
            full_reconcile=bool(params.get("full_reconcile")),
            preview_enable=bool(params.get("preview_enable")),
            prior_watermarks=prior if isinstance(prior, Mapping) else None,
            settings=settings,
            gateway_factory=lambda: open_gateway(settings.salesforce_conn_id, bulk_wait=settings.bulk_poll_seconds),
            holder_is_running=run_lock.airflow_run_probe(context["ti"], dag_run.dag_id),
        )

    @property
    def is_backfill(self) -> bool:
        return self.run_type == "backfill"

    @property
    def advances_watermarks(self) -> bool:
        """Only a full incremental run moves watermarks: not a backfill, a subset or a dry run."""
        return not (self.is_backfill or self.user_ids or self.dry_run)

    def store(self) -> Store:
        return Store(self.store_url)

    def gateway(self) -> SalesforceGateway:
        if self.gateway_factory is not None:
            return self.gateway_factory()
        return open_gateway(self.settings.salesforce_conn_id, bulk_wait=self.settings.bulk_poll_seconds)

    def folder(self) -> Path:
        return run_folder(self.settings.work_dir, self.dag_run_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- plan ---------------------------------------------------------------------------------------


def plan_run(run: RunContext) -> dict[str, Any]:
    """Decide who is synced, in which shards, over which windows; one getDeleted for the run."""
    store = run.store()
    migrate(store.url)
    with store.session() as session:
        run_lock.acquire(session, dag_run_id=run.dag_run_id, run_type=run.run_type, now=_now(),
                         retry_after=run.settings.lock_retry, holder_is_running=run.holder_is_running)
    with store.session() as session:
        users = _users_to_sync(session, run)
        run_id = ledger.start_run(
            session, dag_run_id=run.dag_run_id, run_type=run.run_type, dry_run=run.dry_run,
            user_ids=[u.id for u in users], now=_now(),
        )
        watermarks = ledger.load_watermarks(session)
    with _step(run, run_id, "plan") as metered:
        if run.is_backfill:
            backfill.refuse_unanswerable(run.interval_start, run.interval_end, metered.gateway())
        if not users:
            log.info("nobody has sync switched on%s: nothing to do",
                     " among the requested users" * bool(run.user_ids))
            return {"run_id": run_id, "shards": [], "server_now": None}
        return _plan_shards(metered, run_id, users, watermarks)


@contextmanager
def _step(run: RunContext, run_id: int, step: str) -> Iterator[RunContext]:
    """One try of one step: yields the run with a metered gateway; keeps why the try failed on the
    run's history row (the report says it) and what it spent in any case (``step_calls``)."""
    meter = step_calls.CallMeter(run.gateway)
    failed = True
    try:
        yield replace(run, gateway_factory=meter.open)
        failed = False
    except Exception as exc:
        with run.store().session() as session:
            ledger.note_failure(session, run_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        step_calls.record(run.store(), run_id, step, meter, failed=failed)


def _plan_shards(
    run: RunContext, run_id: int, users: list[User], watermarks: Mapping[str, ShardWatermark]
) -> dict[str, Any]:
    gateway = run.gateway()
    with run.store().session() as session:
        namespace = external_ids.pinned_namespace(session, gateway.connection.namespace, _now())
        preflight.ensure_ready(gateway, session, _now())
    server_now = gateway.server_time()
    with run.store().session() as session:  # watermarks never pass Salesforce's time (watermark_clamp)
        watermarks, prior, _ = watermark_clamp.clamp_to_server_time(
            session, run_id=run_id, watermarks=watermarks, prior_xcom=run.prior_watermarks, server_now=server_now,
            persist=not run.dry_run)
    run = replace(run, prior_watermarks=prior)
    folder = run.folder()
    overrides = {u.id: server_now for u in users} if run.preview_enable else {}
    shards, starts = _shard_windows(run, users, watermarks, server_now, overrides)

    removed = gateway.deleted(starts["deleted"], starts["deleted_end"]) if starts["deleted"] else None
    shards, reconciliation = deletion_gap.reconcile_lost_deletions(shards, removed)
    with run.store().session() as session:  # once for the run, not once per shard; a backfill retries nothing
        due = retries.read_due(session, gateway, now=_now(), user_ids=[] if run.is_backfill else [u.id for u in users],
                               settle=not run.dry_run)
    retry_paths = [write_frame(folder / s["shard_key"] / "sf_retry.parquet", part)
                   for s, part in zip(shards, retries.split_by_owner(due, [s["owner_ids"] for s in shards]),
                                      strict=True)]
    deleted_path = write_frame(folder / "deleted.parquet", extract.deleted_frame(removed.deleted if removed else {}))
    # Shards read by owner, so a linked task handed to someone the sync does not serve never comes
    # back from their queries: one getUpdated for the run names every changed id, whoever owns it.
    # A re-enabled rep's catch-up counts: a task handed away while they were off is found too.
    touched = updated_window(min([dt.datetime.fromisoformat(s["sf_start"]) for s in shards] + starts["caught_up"]),
                             dt.datetime.fromisoformat(shards[0]["sf_end"]) if run.is_backfill else server_now)
    updated_path = write_frame(folder / "updated.parquet",
                               pd.DataFrame({"sf_id": gateway.updated(touched.start, touched.end)}, dtype=object))
    log.info(
        "plan: %d user(s) in %d shard(s); Salesforce time %s; %d deletion(s) reported since %s",
        len(users), len(shards), server_now.isoformat(), len(removed.deleted) if removed else 0, starts["deleted"],
    )
    return {
        "run_id": run_id,
        "server_now": server_now.isoformat(),
        "deleted_path": deleted_path,
        "deleted_until": (removed.latest_covered or server_now).isoformat() if removed else None,
        "reconciliation": reconciliation,
        "shards": [{**s, "run_id": run_id, "server_now": server_now.isoformat(), "deleted_path": deleted_path,
                    "updated_path": updated_path, "retry_path": retry, "external_id_namespace": namespace}
                   for s, retry in zip(shards, retry_paths, strict=True)],
    }


def _users_to_sync(session: Session, run: RunContext) -> list[User]:
    query = select(User).where(User.sf_owner_id.is_not(None)).order_by(User.id)
    if run.user_ids:
        query = query.where(User.id.in_(run.user_ids))
    if not run.preview_enable:
        query = query.where(User.sync_enabled.is_(True))
    return list(session.scalars(query))


def _shard_windows(
    run: RunContext,
    users: list[User],
    watermarks: Mapping[str, ShardWatermark],
    server_now: dt.datetime,
    overrides: Mapping[int, dt.datetime],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each shard's read plan; also the run's getDeleted window (``deleted`` to ``deleted_end``: a
    backfill's ends with its interval) and where re-enabled reps' catch-ups start (``caught_up``,
    for the getUpdated window)."""
    by_id = {u.id: u for u in users}
    shards = assign_shards([(u.id, u.sf_owner_id) for u in users], run.settings.shard_count)
    prior = run.prior_watermarks or {}
    deleted_start: list[dt.datetime] = []
    caught_up: list[dt.datetime] = []
    deleted_end = server_now
    planned: list[dict[str, Any]] = []
    for shard in shards:
        own_deleted_from = len(deleted_start)  # this shard's deletion window starts follow
        members = [by_id[i] for i in shard.user_ids]
        fresh = [u for u in members if u.initial_sync_done_at is None or u.id in overrides]
        # Where each starting rep's Salesforce read begins (SPEC §3: first enable; §5: switched back on).
        begins = {u.id: reenable.sync_start(u, server_now, run.settings.overlap)
                  for u in fresh if u.id not in overrides}
        fresh_floor = {u.id: import_floor(overrides[u.id]) if u.id in overrides else begins[u.id].sf_start
                       for u in fresh}
        reconcile = run.full_reconcile
        if run.is_backfill:
            window, deleted = backfill_windows(*backfill.interval(run.interval_start, run.interval_end), server_now,
                                               run.settings.overlap)
            start, end, sc_after, fresh = window.start, window.end, 0, []  # backfill.py: the window only
            reconcile = reconcile or deleted.needs_reconciliation
            deleted_end = deleted.window.end if deleted.window else server_now
        else:
            end = None
            ledger_mark = watermarks.get(shard.key)
            xcom_mark = ShardWatermark.from_json(shard.key, prior[shard.key]) if shard.key in prior else None
            enabled = [overrides.get(u.id) or reenable.first_enabled(u) for u in members]
            initial = min(import_floor(e) for e in enabled if e is not None)
            window = read_window(
                xcom_mark.sf_modstamp if xcom_mark else None, ledger_mark.sf_modstamp if ledger_mark else None,
                server_now, initial, run.settings.overlap,
            )
            start = window.start
            sc_after = min(m.sc_seq for m in (ledger_mark, xcom_mark) if m is not None) if (
                ledger_mark or xcom_mark) else 0
            global_mark = watermarks.get(DELETIONS_KEY)
            deleted = deleted_window(global_mark.sf_deleted_until if global_mark else None, server_now,
                                     run.settings.overlap)
            for begin in begins.values():
                if begin.deleted is not None:  # switched back on: only their owner reads from the catch-up
                    caught_up.append(begin.sf_start)
                    reconcile = reconcile or begin.deleted.needs_reconciliation
                    if begin.deleted.window:
                        deleted_start.append(begin.deleted.window.start)
            reconcile = reconcile or (deleted.needs_reconciliation and global_mark is not None)
        if deleted.window:
            deleted_start.append(deleted.window.start)
        planned.append({
            "shard_key": shard.key,
            "user_ids": list(shard.user_ids),
            "owner_ids": list(shard.owner_ids),
            "fresh_user_ids": [u.id for u in fresh],
            "fresh_floor": min(fresh_floor.values()).isoformat() if fresh else None,
            "sf_start": start.isoformat(),
            "sf_end": end.isoformat() if end else None,
            "sc_after": sc_after,
            "reconcile": reconcile,
            "deleted_from": min(deleted_start[own_deleted_from:]).isoformat()
            if deleted_start[own_deleted_from:] else None,
            "preview": run.preview_enable,
            "enabled_overrides": {str(k): v.isoformat() for k, v in overrides.items() if k in shard.user_ids},
        })
    return planned, {"deleted": min(deleted_start) if deleted_start else None, "deleted_end": deleted_end,
                     "caught_up": caught_up}


# -- extract ------------------------------------------------------------------------------------


def extract_shard(run: RunContext, shard: Mapping[str, Any]) -> dict[str, Any]:
    with _step(run, int(shard["run_id"]), f"extract {shard['shard_key']}") as metered:
        return _extract_shard(metered, shard)


def _extract_shard(run: RunContext, shard: Mapping[str, Any]) -> dict[str, Any]:
    start = dt.datetime.fromisoformat(shard["sf_start"])
    store = run.store()
    end = dt.datetime.fromisoformat(shard["sf_end"]) if shard.get("sf_end") else None
    with store.session() as session:
        if end is not None:  # a backfill replays its window on both sides (backfill.py)
            retry_tasks: list[int] = []
            sc = backfill.read_sales_connect(session, user_ids=shard["user_ids"], start=start, end=end)
        else:
            retry_tasks = load.open_retry_ids(session, _now())
            sc = extract.read_sales_connect(
                session, user_ids=shard["user_ids"], after_seq=int(shard["sc_after"]),
                fresh_user_ids=shard["fresh_user_ids"], retry_task_ids=retry_tasks,
            )
        linked_ids = extract.linked_sf_ids(session, shard["user_ids"]) if shard["reconcile"] else []
    gateway = run.gateway()
    # An incremental read is open-ended: the Date header that set server_now has whole seconds, so
    # a change stamped in the second before the run would otherwise wait a run. The watermark
    # stays server_now, so anything read beyond it is read again next run (harmless: versions).
    # A backfill replays exactly its window (``end``).
    queries = soql.incremental_queries(shard["owner_ids"], start, end)
    if shard["fresh_floor"] and dt.datetime.fromisoformat(shard["fresh_floor"]) < start:
        fresh_owners = _owners_of(store, shard["fresh_user_ids"])
        queries += soql.incremental_queries(fresh_owners, dt.datetime.fromisoformat(shard["fresh_floor"]), end)
    sf = extract.read_salesforce(gateway, queries, also=read_frame(shard["retry_path"]))
    with store.session() as session:
        touched = extract.linked_among(session, shard["user_ids"], list(read_frame(shard["updated_path"])["sf_id"]))
        everyone = extract.users_frame(session)
    handed_away = sorted(set(touched) - set(sf["Id"]))
    if handed_away:
        extra = extract.read_salesforce(gateway, [], retry_sf_ids=handed_away)
        # A new owner who is synced is read (and imported) by their own shard; keep the rest.
        served = everyone.loc[everyone["sync_enabled"], "sf_owner_id"]
        extra = extra[~extra["OwnerId"].map(sf_ids.comparable).isin(served)]
        log.info("%d linked task(s) now owned by someone the sync does not serve", len(extra))
        sf = pd.concat([sf, extra], ignore_index=True)
    older = 0
    if shard.get("preview") and shard["fresh_floor"]:
        floor = dt.datetime.fromisoformat(shard["fresh_floor"])
        older = sum(gateway.count(q) for q in soql.older_count_queries(_owners_of(store, shard["fresh_user_ids"]),
                                                                        floor))
    deleted = read_frame(shard["deleted_path"])
    if linked_ids:
        missing = extract.missing_ids(gateway, linked_ids)
        log.info("reconciliation: %d linked id(s) checked, %d no longer in Salesforce", len(linked_ids), len(missing))
        deleted = extract.deleted_frame({**dict(zip(deleted["sf_id"], deleted["deleted_at"], strict=True)),
                                         **missing})
    with store.session() as session:
        involved_sf = list(sf["Id"]) + list(deleted["sf_id"])
        links = extract.links_frame(session, task_ids=list(sc.changes["task_id"]), sf_ids=involved_sf)
        users = extract.users_frame(session, {int(k): dt.datetime.fromisoformat(v)
                                              for k, v in shard["enabled_overrides"].items()})
    deleted, sf = own_deletions(deleted, sf, links, shard["user_ids"])
    folder = run.folder() / shard["shard_key"]
    log.info("extract %s: %d Salesforce change(s), %d Sales Connect change(s), %d link(s)",
             shard["shard_key"], len(sf), len(sc.changes), len(links))
    return {
        **shard,
        "sf_path": write_frame(folder / "sf_changes.parquet", sf),
        "sc_path": write_frame(folder / "sc_changes.parquet", sc.changes),
        "links_path": write_frame(folder / "links.parquet", links),
        "users_path": write_frame(folder / "users.parquet", users),
        "shard_deleted_path": write_frame(folder / "sf_deleted.parquet", deleted),
        "sc_high_seq": sc.high_seq,
        "older_than_floor": older,
        "extracted": {"salesforce": len(sf), "sales_connect": len(sc.changes)},
    }


def _owners_of(store: Store, user_ids: list[int]) -> list[str]:
    with store.session() as session:
        return [o for o in session.scalars(select(User.sf_owner_id).where(User.id.in_(user_ids))) if o]


# -- diff ---------------------------------------------------------------------------------------


_PLAN_FRAMES = (
    "sf_to_sc.creates", "sf_to_sc.updates", "sf_to_sc.completions", "sf_to_sc.deletions",
    "sc_to_sf.creates", "sc_to_sf.updates", "sc_to_sf.completions", "sc_to_sf.deletions",
    "conflicts", "echoes_skipped", "skipped_preexisting", "quarantined", "unchanged", "link_refreshes",
)


def _plan_frame(plan: SyncPlan, name: str) -> Any:
    obj: Any = plan
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def diff_shard(run: RunContext, extracted: Mapping[str, Any]) -> dict[str, Any]:
    inp = SyncInput(
        sf_changes=read_frame(extracted["sf_path"]),
        sc_changes=read_frame(extracted["sc_path"]),
        links=read_frame(extracted["links_path"]),
        users=read_frame(extracted["users_path"]),
        sf_deleted=read_frame(extracted["shard_deleted_path"]),
        external_id_namespace=extracted["external_id_namespace"],
    )
    plan = build_plan(inp)
    folder = run.folder() / extracted["shard_key"] / "plan"
    paths = {name: write_frame(folder / f"{name}.parquet", _plan_frame(plan, name)) for name in _PLAN_FRAMES}
    counts = plan.counts()
    log.info("diff %s: %s", extracted["shard_key"], counts)
    if run.dry_run:
        _log_dry_run(extracted["shard_key"], plan)
    return {**extracted, "plan_paths": paths, "planned": counts,
            "preview": _preview(plan, inp, int(extracted.get("older_than_floor") or 0))
            if extracted.get("preview") else None}


def _log_dry_run(shard_key: str, plan: SyncPlan) -> None:
    for name in _PLAN_FRAMES:
        frame = _plan_frame(plan, name)
        for row in frame.head(PREVIEW_LIMIT).to_dict(orient="records"):
            log.info("dry run %s %s: %s", shard_key, name, {k: v for k, v in row.items() if v is not None})


def _preview(plan: SyncPlan, inp: SyncInput, older: int) -> dict[str, Any]:
    """What the first sync would import, how many older tasks it would not (``older``, counted in
    Salesforce: they are never read), and what it leaves alone (the settings page shows it)."""
    imports = plan.sf_to_sc.creates
    left = plan.skipped_preexisting
    subjects = {int(t): s for t, s in zip(inp.sc_changes["task_id"], inp.sc_changes["subject"], strict=True)}
    return {
        "import": [
            {"sf_id": r["sf_id"], "subject": (r["sc_values"] or {}).get("subject"),
             "due_date": (r["sc_values"] or {}).get("due_date"), "last_modified": r["sf_modstamp"]}
            for r in imports.head(PREVIEW_LIMIT).to_dict(orient="records")
        ],
        "not_imported_older": older,
        "left_alone_sc": [{"task_id": int(r["task_id"]), "subject": subjects.get(int(r["task_id"]))}
                          for r in left.head(PREVIEW_LIMIT).to_dict(orient="records")],
        "truncated": len(imports) > PREVIEW_LIMIT or len(left) > PREVIEW_LIMIT,
    }


# -- load ---------------------------------------------------------------------------------------


def load_shard(run: RunContext, diffed: Mapping[str, Any]) -> dict[str, Any]:
    with _step(run, int(diffed["run_id"]), f"load {diffed['shard_key']}") as metered:
        return _load_shard(metered, diffed)


def _load_shard(run: RunContext, diffed: Mapping[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in diffed.items() if k not in ("plan_paths",)}
    if run.dry_run:
        log.info("dry run: nothing written for %s", diffed["shard_key"])
        return {**result, "status": "dry_run", "written": None}
    plan = _read_plan(diffed["plan_paths"])
    store = run.store()
    now = _now()
    run_id = int(diffed["run_id"])
    with store.session() as session:
        outcomes = RunOutcomes.load(session, run_id, diffed["shard_key"])
    plan = load.apply_to_sales_connect(lambda: store.session(changed_by="sync"), plan, run_id=run_id, now=now,
                                       outcomes=outcomes, batch_size=run.settings.load_batch)
    with store.session(changed_by="sync") as session:
        load.resolved_imports(session, plan, now)
        retries.close_settled(session, plan, now=now, deleted_sf_ids=retries.deleted_ids(
            read_frame(diffed["sf_path"]), read_frame(diffed["shard_deleted_path"])))
    gateway = run.gateway()
    status, message = "success", None
    try:
        load.apply_to_salesforce(
            gateway, lambda: store.session(changed_by="sync"), plan, run_id=run_id, now=now, outcomes=outcomes,
            bulk_threshold=run.settings.bulk_threshold, guard=WriteGuard.of_shard(diffed),
            sent_at=dt.datetime.fromisoformat(diffed["server_now"]), sc_batch_size=run.settings.load_batch,
        )
    except ApiLimitExceeded as exc:
        status, message = "stopped", f"Salesforce API allowance exhausted: {exc}; the rest waits for the next run"
        log.error("%s: %s", diffed["shard_key"], message)
    if status == "success" and not run.is_backfill:  # a replayed window is nobody's (first) sync
        _finish_users(store, diffed, now, dt.datetime.fromisoformat(diffed["server_now"]))
    with store.session() as session:
        counts = outcomes.counts(session)  # every try's writes, not only this one's
    log.info("load %s: %s", diffed["shard_key"], counts.as_json())
    return {**result, "status": status, "message": message, "written": counts.as_json()}


def _read_plan(paths: Mapping[str, str]) -> SyncPlan:
    from task_sync.diff import DirectionPlan

    frames = {name: read_frame(path) for name, path in paths.items()}

    def direction(prefix: str) -> DirectionPlan:
        return DirectionPlan(*(frames[f"{prefix}.{k}"] for k in ("creates", "updates", "completions", "deletions")))

    return SyncPlan(
        sf_to_sc=direction("sf_to_sc"), sc_to_sf=direction("sc_to_sf"), conflicts=frames["conflicts"],
        echoes_skipped=frames["echoes_skipped"], skipped_preexisting=frames["skipped_preexisting"],
        quarantined=frames["quarantined"], unchanged=frames["unchanged"], link_refreshes=frames["link_refreshes"],
    )


def _finish_users(store: Store, shard: Mapping[str, Any], now: dt.datetime, read_until: dt.datetime | None) -> None:
    """Stamp the reps this load synced; ``read_until`` is the plan's Salesforce time (None: a backfill,
    which replays an old window). A rep switched off since the extract is not stamped (``reenable``)."""
    served = reenable.served_user_ids(read_frame(shard["users_path"]))
    with store.session() as session:
        for user in session.scalars(select(User).where(User.id.in_(shard["user_ids"]))):
            if not (user.sync_enabled and user.id in served):
                continue
            if user.id in shard["fresh_user_ids"] and not shard.get("preview"):
                user.initial_sync_done_at = now
            user.last_synced_at = now
            if read_until is not None:
                user.sf_read_until = read_until


# -- publish and report -------------------------------------------------------------------------


def publish_watermarks(
    run: RunContext, run_plan: Mapping[str, Any], loaded: list[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Advance the watermark of every shard whose load succeeded; the return value is the XCom."""
    if not run_plan:
        log.info("the plan step did not finish: no watermark moves")
        return None
    if not run.advances_watermarks or not run_plan.get("server_now"):
        log.info("this run (%s) does not move watermarks", run.run_type if run.is_backfill else "subset/dry run")
        return dict(run.prior_watermarks or {}) or None
    server_now = dt.datetime.fromisoformat(run_plan["server_now"])
    store = run.store()
    published: dict[str, Any] = {}
    now = _now()
    with store.session() as session:
        current = ledger.load_watermarks(session)
        succeeded = [s for s in loaded if s and s.get("status") == "success"]
        for shard in succeeded:
            mark = ShardWatermark(shard["shard_key"], server_now, int(shard["sc_high_seq"]), None)
            ledger.save_watermark(session, mark, run.dag_run_id, now)
        all_planned = {s["shard_key"] for s in run_plan["shards"]}
        if run_plan.get("deleted_until") and {s["shard_key"] for s in succeeded} == all_planned:
            ledger.save_watermark(
                session, ShardWatermark(DELETIONS_KEY, None, 0, dt.datetime.fromisoformat(run_plan["deleted_until"])),
                run.dag_run_id, now,
            )
        session.flush()
        for key, mark in {**current, **ledger.load_watermarks(session)}.items():
            published[key] = mark.as_json()
    log.info("watermarks published for %d shard(s)", len(published))
    return published


def report(
    run: RunContext, run_plan: Mapping[str, Any], loaded: list[Mapping[str, Any]], published: Mapping | None
) -> dict[str, Any]:
    """Write the run's totals to the sync history; fail the run if any shard did not finish."""
    if not run_plan:
        return _report_failed_plan(run)
    shards = [s for s in loaded if s]
    totals: dict[str, Any] = {
        "sf_to_sc": {"create": 0, "update": 0, "complete": 0, "delete": 0},
        "sc_to_sf": {"create": 0, "update": 0, "complete": 0, "delete": 0},
        "skipped_preexisting": 0, "conflicts": 0, "errors": 0, "echoes_skipped": 0, "deferred": 0,
    }
    previews = [s["preview"] for s in shards if s.get("preview")]
    for shard in shards:
        planned = shard.get("planned") or {}
        source = (shard.get("written") or {}).get("written") if not run.dry_run else planned
        for direction in ("sf_to_sc", "sc_to_sf"):
            for kind, value in (source or {}).get(direction, {}).items():
                totals[direction][kind] += int(value)
        totals["skipped_preexisting"] += int(planned.get("skipped_preexisting", 0))
        totals["echoes_skipped"] += int(planned.get("echoes_skipped", 0))
        written = shard.get("written") or {}
        totals["conflicts"] += int(written.get("conflicts", planned.get("conflicts", 0)))
        totals["errors"] += int(written.get("errors", planned.get("quarantined", 0)))
        totals["deferred"] += int(written.get("deferred", 0))
    if previews:
        totals["preview"] = _merge_previews(previews)
    if run_plan.get("reconciliation"):
        totals["reconciliation"] = run_plan["reconciliation"]
    expected = len(run_plan.get("shards", []))
    failed = [s for s in shards if s.get("status") not in ("success", "dry_run")]
    missing = expected - len(shards)
    status = "success"
    message = None
    if failed or missing:
        status = "failed"
        message = "; ".join(filter(None, [s.get("message") for s in failed])) or (
            f"{missing + len(failed)} of {expected} shard(s) did not finish ({_noted_failure(run, run_plan)}); "
            "their changes are retried next run")
    elif totals["errors"]:
        status = "partial"
        message = f"{totals['errors']} record(s) refused; see sync errors (retried with back-off)"
    store = run.store()
    with store.session() as session:
        api_calls = step_calls.total(session, int(run_plan["run_id"]))
        ledger.finish_run(session, int(run_plan["run_id"]), status=status, counts=totals, api_calls=api_calls,
                          now=_now(), message=message)
        run_lock.release(session, run.dag_run_id)
    log.info("sync run %s: %s; API calls %d; %s", run.dag_run_id, status, api_calls, totals)
    if not run.dry_run:
        remove_run_folder(run.settings.work_dir, run.dag_run_id)
    if status == "failed":
        raise RunIncomplete(f"sync run {run.dag_run_id} did not finish: {message}")
    return {"status": status, "api_calls": api_calls, "counts": totals}


def _noted_failure(run: RunContext, run_plan: Mapping[str, Any]) -> str:
    """What a failed extract or load noted on the history row (see the task log for the rest)."""
    with run.store().session() as session:
        history = session.get(SyncRun, int(run_plan["run_id"]))
        return (history.message if history is not None else None) or "see the task log"


def _report_failed_plan(run: RunContext) -> dict[str, Any]:
    """The plan step failed: close the run's history row as failed with the plan's error."""
    with run.store().session() as session:
        history = ledger.open_run(session, run.dag_run_id)
        message = (history.message if history is not None else None) or "the plan step did not finish"
        if history is not None:
            ledger.finish_run(session, history.id, status="failed", counts=history.counts or {},
                              api_calls=step_calls.total(session, history.id), now=_now(), message=message)
        run_lock.release(session, run.dag_run_id)
    remove_run_folder(run.settings.work_dir, run.dag_run_id)
    raise RunIncomplete(f"sync run {run.dag_run_id} did not finish: {message}")


def _merge_previews(previews: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "import": [i for p in previews for i in p["import"]][:PREVIEW_LIMIT],
        "not_imported_older": sum(p["not_imported_older"] for p in previews),
        "left_alone_sc": [i for p in previews for i in p["left_alone_sc"]][:PREVIEW_LIMIT],
        "truncated": any(p["truncated"] for p in previews),
    }


def run_inline(run: RunContext) -> dict[str, Any]:
    """All steps in one process, in order (tests of the logic without Airflow, the benchmark)."""
    run_plan = plan_run(run)
    loaded = [load_shard(run, diff_shard(run, extract_shard(run, s))) for s in run_plan["shards"]]
    published = publish_watermarks(run, run_plan, loaded)
    return report(run, run_plan, loaded, published)


def with_prior(run: RunContext, published: Mapping[str, Any] | None) -> RunContext:
    """The next run's context as Airflow would build it from this run's XCom."""
    return replace(run, prior_watermarks=published)


"""Apply a ``diff.SyncPlan`` to both sides.

Sales Connect first, in one transaction: imports, edits, completions and
removals from Salesforce, each written only if the task still has the
change_seq the diff saw (a rep's edit made during the run is never
overwritten; it is picked up next run), plus echo refreshes, conflicts and
quarantined records. Then Salesforce, in collections of 200 with
``allOrNone=false``; after every call the links of the records that went
through are committed at once, so a crash half-way loses nothing and a
retry re-sends only what is not linked yet (creates are upserts on our
external id, so even that never duplicates). Updates and deletions pass
``write_guard`` first: a record Salesforce changed since the diff read it
(or gave to another owner) is planned again instead of overwritten.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sales_connect.models import CHANGED_BY_SYNC, Task, TaskLink
from task_sync import external_ids, ledger
from task_sync.diff import SC_TO_SF_COLUMNS, DirectionPlan, SyncPlan
from task_sync.fields import EXTERNAL_ID_FIELD
from task_sync.outcomes import CONFLICT, DEFERRED, ERROR, SC_TO_SF, SF_TO_SC, WRITTEN, RunOutcomes
from task_sync.restores import Adoption, adopt, redelete, refused_conflict
from task_sync.runfiles import records
from task_sync.salesforce import RecordResult, SalesforceGateway
from task_sync.sc_batches import DEFAULT_BATCH, sales_connect_parts
from task_sync.write_guard import WriteGuard

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
_CHUNK = 900  # ids per IN (...): under every backend's bound-parameter limit


# -- Sales Connect ------------------------------------------------------------------------------


def apply_to_sales_connect(
    session_factory: SessionFactory, plan: SyncPlan, *, run_id: int, now: dt.datetime, outcomes: RunOutcomes,
    batch_size: int = DEFAULT_BATCH,
) -> SyncPlan:
    """Write the Salesforce side's changes, the echo refreshes, conflicts and quarantined records,
    in transactions of at most ``batch_size`` records (``sc_batches``: a rep's save waits for one
    of them at most, never for the whole load).

    Returns the plan for Salesforce: ``plan`` plus the deletion of every restored record whose
    Sales Connect row the rep had deleted (``restores``: their deletion wins).

    Each change notes its outcome in its own transaction (``outcomes``): a retried load skips what
    an earlier try committed, and records each conflict and error once.
    """
    redeletions: list[dict[str, Any]] = []
    for part in sales_connect_parts(plan, batch_size):
        with session_factory() as session:
            redeletions += _apply_part(session, part, run_id=run_id, now=now, outcomes=outcomes)
    return _with_redeletions(plan, redeletions)


def _apply_part(
    session: Session, plan: SyncPlan, *, run_id: int, now: dt.datetime, outcomes: RunOutcomes
) -> list[dict[str, Any]]:
    """One part of the Sales Connect side, in ``session``'s transaction. Works in bulk: the tasks and
    links it touches are read with one query per chunk and written with one flush, so the change
    counter is drawn once per part, not once per task. Returns the restored records to delete again."""
    direction = plan.sf_to_sc
    for task_id in _remove_tasks(session, records(direction.deletions), now):
        outcomes.note(session, SF_TO_SC, task_id, WRITTEN, "delete")
    imported, revived, refused = _import_tasks(session, records(direction.creates), now)
    for row in imported:
        if _int(row.get("sales_connect_id")) in revived and outcomes.withdraw(
                session, SF_TO_SC, row["sales_connect_id"], WRITTEN):
            # Deleted and restored in Salesforce within one run's window: the rep's row was removed
            # and revived by this run, one change to it (an update), not a deletion and an import.
            outcomes.note(session, SF_TO_SC, row["sf_id"], WRITTEN, "update")
        else:
            outcomes.note(session, SF_TO_SC, row["sf_id"], WRITTEN, "create")
    for row, task in refused:
        if outcomes.note(session, SF_TO_SC, row["sf_id"], CONFLICT):
            ledger.record_conflict(session, run_id=run_id, now=now,
                                   **refused_conflict(row, task, when=_when(row.get("sf_modstamp"))))
    for kind, frame in (("update", direction.updates), ("complete", direction.completions)):
        rows = outcomes.unsettled(SF_TO_SC, records(frame), "task_id")
        edited = {id(row) for row in _edit_tasks(session, rows, now)}
        for row in rows:
            outcomes.note(session, SF_TO_SC, row["task_id"], WRITTEN if id(row) in edited else DEFERRED, kind)
    refreshes = records(plan.link_refreshes)
    links = _links(session, [r["task_id"] for r in refreshes])
    for row in refreshes:
        if (link := links.get(_int(row["task_id"]))) is not None:
            _refresh_link(link, row, now)
    for row in records(plan.conflicts):
        if not outcomes.note(session, SF_TO_SC, _record_key(row), CONFLICT):
            continue
        ledger.record_conflict(
            session, run_id=run_id, user_id=int(row["user_id"]), task_id=_int(row["task_id"]), sf_id=row["sf_id"],
            sc_version=row["sc_version"] or {}, sf_version=row["sf_version"] or {},
            sc_modified_at=_when(row["sc_modified_at"]), sf_modified_at=_when(row["sf_modified_at"]),
            winner=row["winner"], rule=row["rule"], now=now,
        )
    for row in records(plan.quarantined):
        if not outcomes.note(session, row["direction"], _record_key(row), ERROR, row["operation"]):
            continue
        ledger.record_error(
            session, run_id=run_id, user_id=_int(row.get("user_id")), direction=row["direction"],
            operation=row["operation"], error_code=row["error_code"], message=row["message"], now=now,
            task_id=_int(row.get("task_id")), sf_id=row.get("sf_id"), payload=row.get("payload") or {},
        )
    session.flush()
    return [redelete(row, task) for row, task in refused]


def _with_redeletions(plan: SyncPlan, rows: list[dict[str, Any]]) -> SyncPlan:
    if not rows:
        return plan
    out = plan.sc_to_sf
    extra = pd.DataFrame(rows).reindex(columns=list(SC_TO_SF_COLUMNS)).astype(object)
    deletions = pd.concat([out.deletions, extra], ignore_index=True) if len(out.deletions) else extra
    return replace(plan, sc_to_sf=DirectionPlan(out.creates, out.updates, out.completions, deletions))


def _by_key(session: Session, column: Any, keys: list[Any]) -> dict[int, Any]:
    """Rows whose integer ``column`` is in ``keys``, read in chunks, keyed by that column."""
    wanted = sorted({int(k) for k in keys if k is not None})
    entity = column.class_
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.scalars(select(entity).where(column.in_(wanted[start : start + _CHUNK])))
        found.update((getattr(row, column.key), row) for row in rows)
    return found


def _tasks(session: Session, ids: list[Any]) -> dict[int, Task]:
    return _by_key(session, Task.id, ids)


def _links(session: Session, task_ids: list[Any]) -> dict[int, TaskLink]:
    return _by_key(session, TaskLink.task_id, task_ids)


def _linked_sf_ids(session: Session, sf_ids: list[Any]) -> set[str]:
    """Which of ``sf_ids`` already have a link (read in chunks)."""
    wanted = sorted({str(i) for i in sf_ids if i})
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(session.scalars(select(TaskLink.sf_id).where(TaskLink.sf_id.in_(wanted[start : start + _CHUNK]))))
    return found


def _remove_tasks(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> list[int]:
    """Tombstone tasks Salesforce deleted (or moved to another owner) and drop their links.

    A task the rep deleted while Salesforce moved it away becomes the sync's tombstone: their
    deletion lost to the owner change, so the task is theirs again if the record comes back. Taking
    the tombstone over is the sync's removal of that task, so it is returned (and counted) too."""
    ids = [r["task_id"] for r in rows]
    moved_away = {_int(r["task_id"]) for r in rows if r.get("reason") == "owner_changed"}
    tasks, links = _tasks(session, ids), _links(session, ids)
    for link in links.values():
        session.delete(link)
    session.flush()  # a Salesforce id may be linked afresh (new owner) in this transaction
    removed: list[int] = []
    for task_id in {_int(i) for i in ids}:
        task = tasks.get(task_id)
        if task is None:
            continue
        if task.deleted_at is None:
            task.deleted_at = now
            task.changed_by = CHANGED_BY_SYNC
            removed.append(task.id)
        elif task_id in moved_away and task.changed_by != CHANGED_BY_SYNC:
            task.changed_by = CHANGED_BY_SYNC
            removed.append(task.id)
    session.flush()
    return removed


def _import_tasks(
    session: Session, rows: list[dict[str, Any]], now: dt.datetime
) -> tuple[list[dict[str, Any]], set[int], list[tuple[dict[str, Any], Task]]]:
    """Salesforce tasks new to Sales Connect, or ones we pushed (adopted by their row: the link write
    was lost -- only with an unsettled create of ours, see ``external_ids`` --, or the record came
    back to a deleted row, see ``restores``). Returns the rows placed, the ids of the rows revived
    that way, and the restored records refused because the rep had deleted their row.

    A Salesforce id linked since the diff was made was imported by an earlier attempt of this
    load that committed its Sales Connect side and then died (a lost worker; Airflow retries the
    task, maybe elsewhere): it is skipped, never imported twice.
    """
    linked = _linked_sf_ids(session, [r["sf_id"] for r in rows])
    if linked:
        log.info("%d Salesforce task(s) already imported by an earlier attempt of this load", len(linked))
    rows = [r for r in rows if r["sf_id"] not in linked]
    # Only a task whose create of ours is unsettled, or a deleted row the record came back to,
    # can be the one such a record was made for.
    named = [int(r["sales_connect_id"]) for r in rows if _is_int(r.get("sales_connect_id"))]
    claimed = external_ids.unsettled(session, named)
    adoptable = {i: t for i, t in _tasks(session, named).items() if i in claimed or t.deleted_at is not None}
    external_ids.settled(session, list(claimed))
    placed: list[tuple[dict[str, Any], Task]] = []
    revived: set[int] = set()
    refused: list[tuple[dict[str, Any], Task]] = []
    for row in rows:
        task = adoptable.get(int(row["sales_connect_id"])) if _is_int(row.get("sales_connect_id")) else None
        if task is None or task.user_id != int(row["user_id"]):
            task = Task(user_id=int(row["user_id"]), created_at=now)
            session.add(task)
        elif (adoption := adopt(task)) is Adoption.REFUSED:
            refused.append((row, task))
            continue
        elif adoption is Adoption.REVIVED:
            revived.add(task.id)
        _assign(task, row["sc_fields"])
        task.changed_by = CHANGED_BY_SYNC
        placed.append((row, task))
    session.flush()
    links = _links(session, [task.id for _row, task in placed])
    for row, task in placed:
        link = links.get(task.id)
        if link is None:
            link = TaskLink(task_id=task.id, user_id=task.user_id, origin="salesforce")
            session.add(link)
        _store_agreement(link, row, sc_seq=task.change_seq, now=now)
    session.flush()
    return [row for row, _task in placed], revived, refused


def _edit_tasks(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """Apply Salesforce edits to tasks still at the version the diff saw (returns those rows); the
    rest wait a run."""
    tasks = _tasks(session, [r["task_id"] for r in rows])
    edited: list[tuple[dict[str, Any], Task]] = []
    for row in rows:
        task = tasks.get(_int(row["task_id"]))
        if task is None or task.deleted_at is not None:
            continue
        if row["expected_sc_seq"] is not None and task.change_seq != int(row["expected_sc_seq"]):
            log.info("task %s changed in Sales Connect during the run; its Salesforce edit waits for the next run",
                     task.id)
            continue
        _assign(task, row["sc_fields"])
        task.changed_by = CHANGED_BY_SYNC
        edited.append((row, task))
    session.flush()
    links = _links(session, [task.id for _row, task in edited])
    for row, task in edited:
        if (link := links.get(task.id)) is not None:
            _store_agreement(link, row, sc_seq=task.change_seq, now=now)
    return [row for row, _task in edited]


def _refresh_link(link: TaskLink, row: dict[str, Any], now: dt.datetime) -> None:
    """An echo: remember the newer stamp/seq so it is not looked at again."""
    for column in ("sf_values", "sf_hash", "sc_values", "sc_hash"):
        if row.get(column) is not None:
            setattr(link, column, row[column])
    if row.get("sf_modstamp") is not None:
        link.sf_modstamp = _when(row["sf_modstamp"])
    if row.get("sc_seq") is not None:
        link.sc_seq = max(link.sc_seq or 0, int(row["sc_seq"]))
    link.last_synced_at = now


def _store_agreement(link: TaskLink, row: dict[str, Any], *, sc_seq: int | None, now: dt.datetime) -> None:
    """Both sides now agree on this task: remember each side's values, hash and version."""
    link.sf_id = row["sf_id"] or link.sf_id
    link.sf_values = row.get("sf_values") or link.sf_values or {}
    link.sf_hash = row.get("sf_hash") or link.sf_hash
    link.sc_values = row.get("sc_values") or link.sc_values or {}
    link.sc_hash = row.get("sc_hash") or link.sc_hash
    if row.get("sf_modstamp") is not None:
        link.sf_modstamp = _when(row["sf_modstamp"])
    if sc_seq is not None:
        link.sc_seq = sc_seq
    link.last_synced_at = now
    link.sync_state = "synced"


_DATE_COLUMNS = frozenset({"due_date"})
_DATETIME_COLUMNS = frozenset({"reminder_at", "completed_at"})


def _assign(task: Task, values: dict[str, Any]) -> None:
    """Set Sales Connect columns from a payload that crossed a file as JSON (dates came back as text)."""
    for column, value in values.items():
        if column in _DATE_COLUMNS and isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        elif column in _DATETIME_COLUMNS and isinstance(value, str):
            value = _when(value)
        setattr(task, column, value)


# -- Salesforce -----------------------------------------------------------------------------------


def apply_to_salesforce(
    gateway: SalesforceGateway,
    session_factory: SessionFactory,
    plan: SyncPlan,
    *,
    run_id: int,
    now: dt.datetime,
    outcomes: RunOutcomes,
    bulk_threshold: int = 10_000,
    guard: WriteGuard | None = None,
    sent_at: dt.datetime | None = None,
    sc_batch_size: int = DEFAULT_BATCH,
) -> None:
    """Push Sales Connect's changes. Raises ``ApiLimitExceeded`` untouched (the caller stops the run).

    Up to ``bulk_threshold`` records of one kind go in sObject Collections of 200, each call's links
    committed before the next call; more go in one Bulk API 2.0 job (a handful of calls whatever the
    volume), settled 200 at a time afterwards. Creates are inserts into our unique external id, each
    announced as unsettled before it goes out (``sent_at``: Salesforce's clock then, see
    ``external_ids``), so a value already taken is judged ours or foreign, never written over. With a
    ``guard``, updates and deletions go out only to records Salesforce did not change since the diff
    read them; the others are planned again (``write_guard``) and that plan is applied on both sides
    at once. Records an earlier try of this load settled (``outcomes``) are not sent again.
    """
    direction = _unsettled(plan.sc_to_sf, outcomes)
    sent_at = sent_at or now

    def announced(send: Send) -> Send:
        def send_announced(rows: list[dict[str, Any]]) -> list[RecordResult]:
            with session_factory() as session:
                external_ids.mark_sent(session, rows, sent_at)
            return send(rows)
        return send_announced

    # Linked since the diff: an earlier attempt of this load created them (Airflow retried it).
    unlinked = _unlinked(session_factory, records(direction.creates))
    creates = _sent(unlinked, bulk_threshold,
                    announced(lambda rows: gateway.insert([r["sf_fields"] for r in rows])),
                    announced(lambda rows: gateway.bulk_write("insert", [r["sf_fields"] for r in rows],
                                                              key=EXTERNAL_ID_FIELD)))
    for batch, results in creates:
        with session_factory() as session:
            results = external_ids.judge_duplicates(gateway, session, batch, results)
            external_ids.settled(session, [row["task_id"] for row, result in zip(batch, results, strict=True)
                                           if result.ok or result.error_code == external_ids.FOREIGN_EXTERNAL_ID])
            links = _links(session, [r["task_id"] for r in batch])
            for row, result in _settle(session, batch, results, "create", run_id, now, outcomes):
                link = links.get(int(row["task_id"]))
                if link is None:
                    link = TaskLink(task_id=int(row["task_id"]), user_id=int(row["user_id"]), origin="sales_connect")
                    session.add(link)
                _store_agreement(link, {**row, "sf_id": result.sf_id}, sc_seq=_int(row["sc_seq"]), now=now)
                outcomes.note(session, SC_TO_SF, row["task_id"], WRITTEN, "create")
    checked = guard.check(gateway, direction) if guard is not None else None
    _push_changes(gateway, session_factory, checked.cleared if checked else direction, run_id=run_id, now=now,
                  outcomes=outcomes, bulk_threshold=bulk_threshold)
    if checked is not None and checked.replan is not None:
        log.info("%d record(s) changed in Salesforce since the diff read them: planned again", len(checked.held))
        replan = apply_to_sales_connect(session_factory, checked.replan, run_id=run_id, now=now, outcomes=outcomes,
                                        batch_size=sc_batch_size)
        _push_changes(gateway, session_factory, _unsettled(replan.sc_to_sf, outcomes), run_id=run_id, now=now,
                      outcomes=outcomes, bulk_threshold=bulk_threshold)


def _unsettled(direction: DirectionPlan, outcomes: RunOutcomes) -> DirectionPlan:
    """The part of a push an earlier try of this load did not settle (write or refusal)."""

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if not len(frame) or "task_id" not in frame:
            return frame
        return frame[[not outcomes.settled(SC_TO_SF, _int(t)) for t in frame["task_id"]]]

    return DirectionPlan(keep(direction.creates), keep(direction.updates), keep(direction.completions),
                         keep(direction.deletions))


def _push_changes(
    gateway: SalesforceGateway, session_factory: SessionFactory, direction: DirectionPlan, *, run_id: int | None,
    now: dt.datetime, outcomes: RunOutcomes, bulk_threshold: int,
) -> None:
    """Send one direction's updates, completions and deletions, each call's links committed before the next."""
    for kind, frame in (("update", direction.updates), ("complete", direction.completions)):
        updates = _sent(records(frame), bulk_threshold,
                        lambda rows: gateway.update([{"Id": r["sf_id"], **r["sf_fields"]} for r in rows]),
                        lambda rows: gateway.bulk_write("update", [{"Id": r["sf_id"], **r["sf_fields"]} for r in rows],
                                                        key="Id"))
        for batch, results in updates:
            with session_factory() as session:
                links = _links(session, [r["task_id"] for r in batch])
                for row, _result in _settle(session, batch, results, "update", run_id, now, outcomes):
                    if (link := links.get(int(row["task_id"]))) is not None:
                        _store_agreement(link, row, sc_seq=_int(row["sc_seq"]), now=now)
                    outcomes.note(session, SC_TO_SF, row["task_id"], WRITTEN, kind)
    deletions = _sent(records(direction.deletions), bulk_threshold,
                      lambda rows: gateway.delete([r["sf_id"] for r in rows]),
                      lambda rows: gateway.bulk_write("delete", [{"Id": r["sf_id"]} for r in rows], key="Id"))
    for batch, results in deletions:
        with session_factory() as session:
            links = _links(session, [r["task_id"] for r in batch])
            for row, _result in _settle(session, batch, results, "delete", run_id, now, outcomes):
                if (link := links.get(int(row["task_id"]))) is not None:
                    session.delete(link)
                outcomes.note(session, SC_TO_SF, row["task_id"], WRITTEN, "delete")


Send = Callable[[list[dict[str, Any]]], list[RecordResult]]


def _unlinked(session_factory: SessionFactory, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The creates whose task no earlier attempt of this load has linked yet."""
    with session_factory() as session:
        linked = set(_links(session, [r["task_id"] for r in rows]))
    return [r for r in rows if int(r["task_id"]) not in linked]


def _sent(
    rows: list[dict[str, Any]], bulk_threshold: int, by_collection: Send, by_bulk: Send, size: int = 200
) -> Iterator[tuple[list[dict[str, Any]], list[RecordResult]]]:
    """Send ``rows`` and yield them with their results, 200 at a time, so each slice is settled
    (links committed) before the next collection call goes out."""
    if len(rows) > bulk_threshold:
        results = by_bulk(rows)
        for start in range(0, len(rows), size):
            yield rows[start : start + size], results[start : start + size]
        return
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        yield batch, by_collection(batch)


def _settle(
    session: Session,
    batch: list[dict[str, Any]],
    results: list[RecordResult],
    operation: str,
    run_id: int,
    now: dt.datetime,
    outcomes: RunOutcomes,
) -> list[tuple[dict[str, Any], RecordResult]]:
    """Record one collection call's outcomes: close the open errors of the records that went through
    (one query), open or extend an error for each refused one. Returns the records that went through."""
    if len(results) != len(batch):
        raise RuntimeError(f"Salesforce answered {len(results)} results for {len(batch)} records")
    went_through = [(row, result) for row, result in zip(batch, results, strict=True) if result.ok]
    ledger.resolve_errors(session, direction=SC_TO_SF, now=now,
                          task_ids=[int(row["task_id"]) for row, _ in went_through if row.get("task_id") is not None])
    refused = [(row, result) for row, result in zip(batch, results, strict=True) if not result.ok]
    links = _links(session, [row.get("task_id") for row, _ in refused])
    for row, result in refused:
        task_id = _int(row.get("task_id"))
        if not outcomes.note(session, SC_TO_SF, _record_key(row), ERROR, operation):
            continue
        ledger.record_error(
            session, run_id=run_id, user_id=_int(row.get("user_id")), direction=SC_TO_SF, operation=operation,
            error_code=result.error_code or "UNKNOWN_ERROR", message=result.message or "", now=now,
            task_id=task_id, sf_id=row.get("sf_id"),
            payload={"fields": list(result.fields), "sent": row.get("sf_fields")},
        )
        if task_id is not None and (link := links.get(task_id)) is not None:
            link.sync_state = "error"
    return went_through


def resolved_imports(session: Session, plan: SyncPlan, now: dt.datetime) -> None:
    """Close open Salesforce-side errors of records that went through this run."""
    sf_ids = [r["sf_id"] for frame in (plan.sf_to_sc.creates, plan.sf_to_sc.updates, plan.sf_to_sc.completions)
              for r in records(frame) if r.get("sf_id")]
    ledger.resolve_errors(session, direction=SF_TO_SC, now=now, sf_ids=sf_ids)


def open_retry_ids(session: Session, now: dt.datetime) -> list[int]:
    """Tasks whose open push error is due for another try (the Salesforce records due for one are
    read once per run by the plan step: ``retries.read_due``)."""
    from sales_connect.models import SyncError

    return list(session.scalars(
        select(SyncError.task_id).where(
            SyncError.resolved_at.is_(None), SyncError.direction == SC_TO_SF, SyncError.task_id.is_not(None),
            SyncError.next_retry_at <= now,
        )
    ))


def _record_key(row: dict[str, Any]) -> Any:
    """The id an outcome is noted under: the task's where the row has one, else the Salesforce record's."""
    task_id = _int(row.get("task_id"))
    return task_id if task_id is not None else row.get("sf_id")


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else int(value)


def _is_int(value: Any) -> bool:
    try:
        int(str(value))
    except (TypeError, ValueError):
        return False
    return True


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value).replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # Salesforce's +0000
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

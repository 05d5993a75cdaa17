"""Change capture: every committed write of a ``Task`` gets a fresh ``change_seq``.

All of it happens in one ``before_flush`` hook on ``StoreSession``, the
session class ``Store`` hands out, so the app, the UI and the sync cannot
write a task without being captured.

Why a counter row and not a clock or a sequence: the hook draws numbers with
``UPDATE change_counter SET value = value + n ... RETURNING value``. That row
lock is held until the writing transaction ends, so a second writer gets its
numbers only after the first has committed (or rolled back, which also rolls
the counter back: no gap). Hence a reader that has seen seq N committed has
seen everything below N, and "change_seq > watermark" never skips a late
commit -- which ``updated_at > watermark`` does.

The counter is drawn at flush time, as late as the ORM allows while still
letting the writer read ``task.change_seq`` before commit (the sync records
it in ``TaskLink.sc_seq``). The lock is therefore held from a transaction's
first task flush to its commit: keep task-writing transactions short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import MANYTOONE, ORMExecuteState, Session, UOWTransaction

from sales_connect.models import CHANGED_BY_SYNC, CHANGED_BY_USER, ChangeCounter, Task, utcnow

CHANGE_COUNTER_ID = 1
_ACTORS = (CHANGED_BY_USER, CHANGED_BY_SYNC)
_ACTOR_KEY = "sales_connect.changed_by"
_STAMPED_KEY = "sales_connect.stamped_tasks"


class ChangeCaptureError(RuntimeError):
    """A write that would escape change capture (hard delete, bulk DML, missing counter)."""


class StoreSession(Session):
    """A Session whose task writes are stamped by change capture."""

    def set_changed_by(self, changed_by: str) -> None:
        """Who the task writes of this session belong to, unless a task says otherwise."""
        _check_actor(changed_by)
        self.info[_ACTOR_KEY] = changed_by


def _check_actor(changed_by: str) -> None:
    if changed_by not in _ACTORS:
        raise ValueError(f"changed_by must be one of {_ACTORS}, got {changed_by!r}")


def _draw(session: Session, count: int) -> range:
    """Reserve ``count`` consecutive change sequence numbers; locks the counter row."""
    last = session.connection().execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == CHANGE_COUNTER_ID)
        .values(value=ChangeCounter.value + count)
        .returning(ChangeCounter.value)
    ).scalar_one_or_none()
    if last is None:
        raise ChangeCaptureError("the change_counter row is missing: run `python -m sales_connect migrate`")
    return range(last - count + 1, last + 1)


def _row_changes(task: Task) -> bool:
    """Whether flushing ``task`` will change its own row.

    Columns, plus many-to-one relationships (``task.user = ...`` becomes a
    ``user_id`` change only during the flush). Attaching a ``TaskLink`` writes
    the link's row, not the task's, so it is not a task change: the sync can
    link a task without re-stamping it.
    """
    state = inspect(task)
    keys = [prop.key for prop in state.mapper.column_attrs]
    keys += [rel.key for rel in state.mapper.relationships if rel.direction is MANYTOONE]
    return any(state.attrs[key].history.has_changes() for key in keys)


@event.listens_for(StoreSession, "before_flush")
def _stamp_task_changes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    hard_deleted = [obj for obj in session.deleted if isinstance(obj, Task)]
    if hard_deleted:
        raise ChangeCaptureError("tasks are deleted by tombstone (deleted_at), never removed; the sync would miss it")
    inserted = {obj for obj in session.new if isinstance(obj, Task)}  # session.new is rebuilt per access
    changed = list(inserted)
    changed += [obj for obj in session.dirty if isinstance(obj, Task) and _row_changes(obj)]
    if not changed:
        return
    now = utcnow()
    actor = session.info.get(_ACTOR_KEY, CHANGED_BY_USER)
    # A task written twice in one transaction keeps one seq and one version
    # bump: the transaction is the unit a reader can observe.
    stamped: set[Task] = session.info.setdefault(_STAMPED_KEY, set())
    fresh = [obj for obj in changed if obj not in stamped]
    for obj in changed:
        obj.updated_at = now
        # Assigned since the last flush, even to its current value, means the
        # writer chose it; history alone would miss a same-value assignment.
        if "changed_by" not in inspect(obj).committed_state:
            obj.changed_by = actor
        _check_actor(obj.changed_by)
    if not fresh:
        return
    for obj, seq in zip(fresh, _draw(session, len(fresh)), strict=True):
        obj.change_seq = seq
        obj.version = 1 if obj in inserted else obj.version + 1
        stamped.add(obj)


@event.listens_for(StoreSession, "after_commit")
@event.listens_for(StoreSession, "after_soft_rollback")
def _forget_stamped(session: Session, *_args: Any) -> None:
    # After a rollback (even of a savepoint) a task must be stamped again.
    session.info.pop(_STAMPED_KEY, None)


@event.listens_for(StoreSession, "do_orm_execute")
def _refuse_bulk_task_dml(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is inspect(Task):
        raise ChangeCaptureError("bulk INSERT/UPDATE/DELETE of tasks bypasses change capture; write Task objects")


def changes_since(
    session: Session, after_seq: int, user_ids: Sequence[int] | None = None, limit: int | None = None
) -> list[Task]:
    """Tasks (tombstones included) changed after ``after_seq``, oldest change first.

    Page with ``after_seq = result[-1].change_seq``: seqs are unique, so no
    row is skipped or repeated at a page edge. Sync echoes are included
    (``changed_by == "sync"``); the caller decides what to ignore.
    """
    stmt = select(Task).where(Task.change_seq > after_seq).order_by(Task.change_seq)
    if user_ids is not None:
        stmt = stmt.where(Task.user_id.in_(list(user_ids)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def max_change_seq(session: Session) -> int:
    """The highest change seq any committed transaction has taken (0 on an empty store).

    Read from the counter, so it is exact even when the task holding that
    seq has since been changed again.
    """
    value = session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == CHANGE_COUNTER_ID))
    if value is None:
        raise ChangeCaptureError("the change_counter row is missing: run `python -m sales_connect migrate`")
    return int(value)


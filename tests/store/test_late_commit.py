"""A reader advancing a watermark never skips a change that commits late (PostgreSQL).

Shape of every test: writer T1 changes task A and stays open; writer T2
changes task B from another connection; a reader scans while T1 is open, and
again after everything has settled, each time moving its watermark to the
highest value it saw. The reader must end up having seen every committed
change. The naive ``updated_at`` scan run through the same shape loses A,
which is what makes the change_seq result meaningful.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sales_connect import repository as repo
from sales_connect.changes import changes_since
from sales_connect.db import Store
from sales_connect.models import Task

pytestmark = pytest.mark.postgres
LOCK_WAIT_TIMEOUT_S = 20


@dataclass
class SeqReader:
    """The sync's reading pattern: everything after the watermark, then advance it."""

    store: Store
    watermark: int = 0
    seen: dict[int, int] = field(default_factory=dict)  # task id -> change_seq seen

    def scan(self) -> list[int]:
        with self.store.session() as session:
            rows = changes_since(session, self.watermark)
        for task in rows:
            self.seen[task.id] = task.change_seq
        if rows:
            self.watermark = max(t.change_seq for t in rows)
        return [t.id for t in rows]


@pytest.fixture
def rep(pg_store: Store) -> int:
    with pg_store.session() as session:
        return repo.create_user(session, email="rep@example.com", name="Rep", time_zone="UTC").id


def _backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _wait_until_lock_waiting(store: Store, pid: int) -> None:
    """Block until the backend ``pid`` is waiting on a lock, proving T2 is held back by T1."""
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_S
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            wait = conn.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
        if wait == "Lock":
            return
        time.sleep(0.02)
    pytest.fail(f"T2 (backend {pid}) never waited for T1's counter lock")


class Writer(threading.Thread):
    """T2: creates task B in its own session and commits; reports its backend pid first."""

    def __init__(self, store: Store, user_id: int) -> None:
        super().__init__(daemon=True)
        self.store, self.user_id = store, user_id
        self.pid: queue.Queue[int] = queue.Queue()
        self.task_id: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.store.session() as session:
                self.pid.put(_backend_pid(session))
                self.task_id = repo.create_task(session, self.user_id, subject="B").id
        except BaseException as exc:  # surfaced by the test thread
            self.error = exc


def _start_t2_and_see_it_blocked(store: Store, user_id: int) -> Writer:
    t2 = Writer(store, user_id)
    t2.start()
    _wait_until_lock_waiting(store, t2.pid.get(timeout=LOCK_WAIT_TIMEOUT_S))
    return t2


def _finish(t2: Writer) -> int:
    t2.join(LOCK_WAIT_TIMEOUT_S)
    assert not t2.is_alive(), "T2 is still blocked after T1 ended"
    if t2.error is not None:
        raise t2.error
    assert t2.task_id is not None
    return t2.task_id


def _t1_create(session: Session, user_id: int, _existing: int) -> int:
    return repo.create_task(session, user_id, subject="A").id


def _t1_edit(session: Session, user_id: int, existing: int) -> int:
    return repo.update_task(session, user_id, existing, expected_version=1, subject="A edited").id


def _t1_tombstone(session: Session, user_id: int, existing: int) -> int:
    return repo.delete_task(session, user_id, existing, expected_version=1).id


@pytest.mark.parametrize("t1_write", [_t1_create, _t1_edit, _t1_tombstone], ids=["insert", "update", "tombstone"])
def test_seq_reader_sees_a_late_commit(
    pg_store: Store, rep: int, t1_write: Callable[[Session, int, int], int]
) -> None:
    with pg_store.session() as session:
        existing = repo.create_task(session, rep, subject="A").id
    reader = SeqReader(pg_store)
    assert reader.scan() == [existing]

    t1 = pg_store.sessionmaker()
    a = t1_write(t1, rep, existing)  # flushed: A holds its seq and the counter lock
    t2 = _start_t2_and_see_it_blocked(pg_store, rep)
    assert reader.scan() == [], "nothing is committed yet, so nothing may be read"

    t1.commit()
    t1.close()
    reader.scan()  # may catch A alone, or A and B: either way the watermark stays safe
    b = _finish(t2)
    reader.scan()

    assert a in reader.seen and b in reader.seen
    assert reader.seen[a] < reader.seen[b], "the row lock orders seqs by commit"
    assert reader.watermark == reader.seen[b]


def test_rolled_back_writer_leaves_no_gap(pg_store: Store, rep: int) -> None:
    reader = SeqReader(pg_store)
    t1 = pg_store.sessionmaker()
    repo.create_task(t1, rep, subject="A, rolled back")
    t2 = _start_t2_and_see_it_blocked(pg_store, rep)
    assert reader.scan() == []

    t1.rollback()
    t1.close()
    b = _finish(t2)
    assert reader.scan() == [b]
    assert reader.seen[b] == 1, "the rolled-back seq is handed out again, not skipped"
    with pg_store.session() as session:
        assert session.scalars(select(Task.subject)).all() == ["B"]


def test_naive_updated_at_scan_misses_the_late_commit(pg_store: Store, rep: int) -> None:
    """Same shape without change capture (plain sessions, ``updated_at`` watermark): A is lost."""
    watermark = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    seen: set[int] = set()

    def naive_scan() -> None:
        nonlocal watermark
        with Session(pg_store.engine) as session:
            rows = session.scalars(select(Task).where(Task.updated_at > watermark)).all()
        seen.update(t.id for t in rows)
        if rows:
            watermark = max(t.updated_at for t in rows)

    t1 = Session(pg_store.engine)
    a = repo.create_task(t1, rep, subject="A").id  # stamped with the clock now, committed later
    with Session(pg_store.engine) as t2:  # not held back: nothing orders the writers
        b = repo.create_task(t2, rep, subject="B").id
        t2.commit()
    naive_scan()
    t1.commit()
    t1.close()
    naive_scan()

    assert b in seen
    assert a not in seen, "the naive scan should have skipped A; if not, this test proves nothing"
    with Session(pg_store.engine) as session:
        assert session.get(Task, a) is not None, "A is committed, yet the naive reader never saw it"

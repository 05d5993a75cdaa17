"""Change capture: every task write is stamped once per transaction, in one place."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, insert, update

from sales_connect import repository as repo
from sales_connect.changes import ChangeCaptureError, changes_since, max_change_seq
from sales_connect.db import Store
from sales_connect.errors import StaleVersionError
from sales_connect.models import CHANGED_BY_SYNC, CHANGED_BY_USER, Task, TaskLink

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def _new_task(store: Store, user_id: int, subject: str = "Call Acme") -> Task:
    with store.session() as session:
        return repo.create_task(session, user_id, subject=subject)


def test_each_write_gets_a_new_seq_and_version(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    assert (task.version, task.change_seq, task.changed_by) == (1, 1, CHANGED_BY_USER)
    created_at, first_updated = task.created_at, task.updated_at

    with store.session() as session:
        edited = repo.update_task(session, ada, task.id, expected_version=1, subject="Call Acme back")
    assert (edited.version, edited.change_seq) == (2, 2)
    assert edited.updated_at > first_updated and edited.created_at == created_at

    with store.session() as session:
        gone = repo.delete_task(session, ada, task.id, expected_version=2, now=T0)
    assert (gone.version, gone.change_seq, gone.deleted_at) == (3, 3, T0)

    with store.session() as session:
        seen = changes_since(session, 0)
        assert [(t.id, t.change_seq, t.version, t.subject) for t in seen] == [(task.id, 3, 3, "Call Acme back")]
        assert seen[0].deleted_at == T0, "a tombstone is a change the sync must see"
        assert max_change_seq(session) == 3


def test_one_transaction_is_one_change(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with store.session() as session:
        repo.update_task(session, ada, task.id, expected_version=1, subject="first")
        again = repo.update_task(session, ada, task.id, expected_version=2, description="second flush")
        assert (again.version, again.change_seq) == (2, 2)
    with store.session() as session:
        assert max_change_seq(session) == 2


def test_unchanged_task_is_not_restamped(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with store.session() as session:
        loaded = repo.get_task(session, ada, task.id)
        loaded.subject = loaded.subject  # a no-op assignment is not a change
    with store.session() as session:
        assert repo.get_task(session, ada, task.id).change_seq == 1
        assert max_change_seq(session) == 1


def test_sync_writes_are_marked_and_user_writes_reset_the_mark(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session(changed_by=CHANGED_BY_SYNC) as session:
        imported = repo.create_task(session, ada, subject="From Salesforce")
    assert imported.changed_by == CHANGED_BY_SYNC

    with store.session() as session:
        task = repo.get_task(session, ada, imported.id)
        task.changed_by = CHANGED_BY_SYNC  # explicit per-task mark wins over the session's
        task.subject = "sync again"
    with store.session() as session:
        edited = repo.update_task(session, ada, imported.id, expected_version=2, subject="the rep edits it")
    assert edited.changed_by == CHANGED_BY_USER, "a user's edit of a synced task must not look like an echo"
    with store.session() as session:
        assert [(t.change_seq, t.changed_by) for t in changes_since(session, 0)] == [(3, CHANGED_BY_USER)]


def test_explicit_sync_mark_survives_when_it_equals_the_old_one(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session(changed_by=CHANGED_BY_SYNC) as session:
        tid = repo.create_task(session, ada, subject="From Salesforce").id
    with store.session() as session:  # a user-default session; the sync marks the task itself
        task = repo.get_task(session, ada, tid)
        task.changed_by = CHANGED_BY_SYNC
        task.subject = "Salesforce edited it"
    with store.session() as session:
        assert repo.get_task(session, ada, tid).changed_by == CHANGED_BY_SYNC


def test_unknown_actor_is_refused(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with pytest.raises(ValueError, match="changed_by"), store.session(changed_by="robot"):
        pass
    with pytest.raises(ValueError, match="changed_by"), store.session() as session:
        session.add(Task(user_id=ada, subject="x", changed_by="robot"))


def test_writes_that_would_escape_capture_are_refused(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with pytest.raises(ChangeCaptureError, match="tombstone"), store.session() as session:
        session.delete(repo.get_task(session, ada, task.id))
    with pytest.raises(ChangeCaptureError, match="bulk"), store.session() as session:
        session.execute(update(Task).where(Task.id == task.id).values(subject="sneaky"))
    with pytest.raises(ChangeCaptureError, match="bulk"), store.session() as session:
        session.execute(delete(Task).where(Task.id == task.id))
    with pytest.raises(ChangeCaptureError, match="bulk"), store.session() as session:
        session.execute(insert(Task), [{"user_id": ada, "subject": "bulk"}])
    with store.session() as session:
        kept = repo.get_task(session, ada, task.id)
        assert (kept.subject, kept.change_seq) == ("Call Acme", 1)


def test_rollback_returns_the_seq(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with pytest.raises(RuntimeError), store.session() as session:
        repo.create_task(session, ada, subject="never committed")
        raise RuntimeError("abort")
    task = _new_task(store, ada)
    assert task.change_seq == 1, "a rolled-back write must not leave a hole in the sequence"


def test_savepoint_rollback_does_not_skip_the_stamp(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with store.session() as session:
        loaded = repo.get_task(session, ada, task.id)
        savepoint = session.begin_nested()
        loaded.subject = "inside a savepoint"
        session.flush()
        savepoint.rollback()
        loaded = repo.get_task(session, ada, task.id)
        loaded.subject = "after the savepoint"
    with store.session() as session:
        seen = changes_since(session, 1)
        assert [(t.subject, t.version) for t in seen] == [("after the savepoint", 2)]


def test_changes_since_filters_and_pages(store: Store, two_users: tuple[int, int]) -> None:
    ada, bob = two_users
    for n in range(5):
        _new_task(store, ada if n % 2 == 0 else bob, subject=f"t{n}")
    with store.session() as session:
        assert [t.subject for t in changes_since(session, 0, user_ids=[ada])] == ["t0", "t2", "t4"]
        assert [t.subject for t in changes_since(session, 0, user_ids=[])] == []
        pages, watermark = [], 0
        while page := changes_since(session, watermark, limit=2):
            pages.append([t.subject for t in page])
            watermark = page[-1].change_seq
        assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]
        assert watermark == max_change_seq(session) == 5


def test_concurrent_writers_on_one_task_cannot_both_win(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with store.session() as first, store.sessionmaker() as second:
        slow = repo.get_task(second, ada, task.id)  # reads version 1
        repo.update_task(first, ada, task.id, expected_version=1, subject="first writer")
        first.commit()
        # The second writer passed its in-memory check (it still sees version 1);
        # the database's "WHERE version = 1" is what stops it.
        with pytest.raises(StaleVersionError):
            repo.update_task(second, ada, slow.id, expected_version=1, subject="second writer")
        second.rollback()
    with store.session() as session:
        final = repo.get_task(session, ada, task.id)
        assert (final.subject, final.version) == ("first writer", 2)


def test_linking_a_task_is_not_a_task_change(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    task = _new_task(store, ada)
    with store.session(changed_by=CHANGED_BY_SYNC) as session:
        loaded = repo.get_task(session, ada, task.id)
        loaded.link = TaskLink(user_id=ada, sf_id="00T000000000001AAA", origin="sales_connect", sc_seq=1)
    with store.session() as session:
        linked = repo.get_task(session, ada, task.id)
        assert linked.link is not None and linked.link.sf_id == "00T000000000001AAA"
        assert (linked.version, linked.change_seq, linked.changed_by) == (1, 1, CHANGED_BY_USER)


def test_moving_a_task_through_the_relationship_is_captured(store: Store, two_users: tuple[int, int]) -> None:
    ada, bob = two_users
    task = _new_task(store, ada)
    with store.session() as session:
        loaded = repo.get_task(session, ada, task.id)
        loaded.user = repo.get_user(session, bob)
    with store.session() as session:
        moved = repo.get_task(session, bob, task.id)
        assert (moved.version, moved.change_seq) == (2, 2)


def test_parallel_writers_wait_their_turn(store: Store, two_users: tuple[int, int]) -> None:
    """Writers in several threads neither fail with "database is locked" nor share a seq."""
    ada, bob = two_users
    per_thread, threads = 8, 4
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                with store.session() as session:
                    repo.create_task(session, ada if n % 2 else bob, subject=f"w{n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with store.session() as session:
        seqs = [t.change_seq for t in changes_since(session, 0)]
        assert seqs == list(range(1, per_thread * threads + 1))

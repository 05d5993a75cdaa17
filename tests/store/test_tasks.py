"""Tasks: CRUD, validation, optimistic concurrency and isolation between users."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sales_connect import repository as repo
from sales_connect.changes import max_change_seq
from sales_connect.db import Store
from sales_connect.errors import NotFoundError, StaleVersionError, ValidationError

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)
REMIND = dt.datetime(2026, 5, 5, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_create_read_update_complete_reopen_delete(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        task = repo.create_task(session, ada, subject="Call Acme", due_date=dt.date(2026, 5, 5), task_type="call",
                                reminder_at=REMIND, now=NOW)
        tid = task.id
    with store.session() as session:
        task = repo.get_task(session, ada, tid)
        assert (task.subject, task.priority, task.status, task.task_type) == ("Call Acme", "normal", "open", "call")
        assert task.reminder_at == REMIND and task.reminder_at.tzinfo == dt.UTC
        assert (task.created_at, task.completed_at, task.version) == (NOW, None, 1)

        task = repo.update_task(session, ada, tid, expected_version=1, subject="Call Acme CFO", priority="high",
                                description="budget", due_date=dt.date(2026, 5, 6), reminder_at=None)
    assert (task.subject, task.priority, task.description, task.due_date, task.reminder_at, task.version) == (
        "Call Acme CFO", "high", "budget", dt.date(2026, 5, 6), None, 2)

    with store.session() as session:
        task = repo.complete_task(session, ada, tid, expected_version=2, now=LATER)
        assert (task.status, task.completed_at) == ("completed", LATER)
    with store.session() as session:
        assert [t.id for t in repo.list_tasks(session, ada, include_completed=False)] == []
        task = repo.reopen_task(session, ada, tid, expected_version=3, now=LATER)
        assert (task.status, task.completed_at, task.version) == ("open", None, 4)
    with store.session() as session:
        repo.delete_task(session, ada, tid, expected_version=4, now=LATER)
    with store.session() as session:
        with pytest.raises(NotFoundError):
            repo.get_task(session, ada, tid)
        assert repo.get_task(session, ada, tid, include_deleted=True).deleted_at == LATER
        assert repo.list_tasks(session, ada) == []
        with pytest.raises(NotFoundError):
            repo.delete_task(session, ada, tid, expected_version=5)


def test_status_through_update_sets_completion(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        task = repo.create_task(session, ada, subject="Done already", status="completed", now=NOW)
        assert (task.status, task.completed_at) == ("completed", NOW)
    with store.session() as session:
        task = repo.update_task(session, ada, task.id, expected_version=1, status="completed", now=LATER)
        assert task.completed_at == NOW, "completing a completed task keeps when it was done"


def test_list_tasks_order(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        for subject, due in (("undated", None), ("late", dt.date(2026, 6, 2)), ("soon", dt.date(2026, 6, 1))):
            repo.create_task(session, ada, subject=subject, due_date=due)
        assert [t.subject for t in repo.list_tasks(session, ada)] == ["soon", "late", "undated"]


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"subject": ""}, "subject"),
    ({"subject": "   "}, "subject"),
    ({"subject": None}, "subject"),
    ({"subject": "x" * 256}, "subject"),
    ({"priority": "urgent"}, "priority"),
    ({"priority": "High"}, "priority"),  # Salesforce's word, not ours
    ({"status": "In Progress"}, "status"),
    ({"task_type": "fax"}, "task_type"),
    ({"due_date": "2026-05-05"}, "due_date"),
    ({"due_date": NOW}, "due_date"),
    ({"reminder_at": dt.datetime(2026, 5, 5, 8, 30)}, "reminder_at"),
    ({"description": 42}, "description"),
    ({"owner": "someone else"}, "owner"),
    ({"version": 7}, "version"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_FIELDS)
def test_create_rejects_bad_input(store: Store, two_users: tuple[int, int], bad: dict, field: str) -> None:
    ada, _ = two_users
    values = {"subject": "ok", **bad}
    with store.session() as session:
        with pytest.raises(ValidationError) as caught:
            repo.create_task(session, ada, **values)
        assert caught.value.field == field
        assert repo.list_tasks(session, ada) == []


@pytest.mark.parametrize(("bad", "field"), BAD_FIELDS)
def test_update_rejects_bad_input_and_changes_nothing(
    store: Store, two_users: tuple[int, int], bad: dict, field: str
) -> None:
    ada, _ = two_users
    with store.session() as session:
        tid = repo.create_task(session, ada, subject="ok").id
    with store.session() as session:
        with pytest.raises(ValidationError) as caught:
            repo.update_task(session, ada, tid, expected_version=1, **{"priority": "high", **bad})
        assert caught.value.field == field
    with store.session() as session:
        task = repo.get_task(session, ada, tid)
        assert (task.priority, task.version) == ("normal", 1), "a valid field next to a bad one must not be saved"


def test_subject_of_exactly_255_is_accepted(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        assert len(repo.create_task(session, ada, subject="x" * 255).subject) == 255


@pytest.mark.parametrize("operation", ["update", "complete", "reopen", "delete"])
def test_stale_version_changes_nothing(store: Store, two_users: tuple[int, int], operation: str) -> None:
    ada, _ = two_users
    with store.session() as session:
        tid = repo.create_task(session, ada, subject="v1").id
    with store.session() as session:
        repo.update_task(session, ada, tid, expected_version=1, subject="v2")
    calls = {
        "update": lambda s: repo.update_task(s, ada, tid, expected_version=1, subject="from a stale form"),
        "complete": lambda s: repo.complete_task(s, ada, tid, expected_version=1),
        "reopen": lambda s: repo.reopen_task(s, ada, tid, expected_version=1),
        "delete": lambda s: repo.delete_task(s, ada, tid, expected_version=1),
    }
    with store.session() as session:
        seq_before = max_change_seq(session)
        with pytest.raises(StaleVersionError) as caught:
            calls[operation](session)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
    with store.session() as session:
        task = repo.get_task(session, ada, tid)
        assert (task.subject, task.status, task.version, task.deleted_at) == ("v2", "open", 2, None)
        assert max_change_seq(session) == seq_before


def test_users_cannot_see_or_touch_each_others_tasks(store: Store, two_users: tuple[int, int]) -> None:
    ada, bob = two_users
    with store.session() as session:
        secret = repo.create_task(session, ada, subject="Ada's deal", due_date=dt.date(2026, 5, 4)).id
        repo.create_task(session, bob, subject="Bob's deal", due_date=dt.date(2026, 5, 4))
    intrusions = [
        lambda s: repo.get_task(s, bob, secret),
        lambda s: repo.update_task(s, bob, secret, expected_version=1, subject="mine now"),
        lambda s: repo.complete_task(s, bob, secret, expected_version=1),
        lambda s: repo.reopen_task(s, bob, secret, expected_version=1),
        lambda s: repo.delete_task(s, bob, secret, expected_version=1),
    ]
    for intrude in intrusions:
        with store.session() as session:
            with pytest.raises(NotFoundError) as caught:
                intrude(session)
            assert "Ada" not in str(caught.value)
    with store.session() as session:
        assert [t.subject for t in repo.list_tasks(session, bob)] == ["Bob's deal"]
        assert [t.subject for t in repo.command_center(session, bob, NOW)] == ["Bob's deal"]
        task = repo.get_task(session, ada, secret)
        assert (task.subject, task.version, task.status) == ("Ada's deal", 1, "open")


def test_task_for_unknown_user_is_refused(store: Store) -> None:
    with store.session() as session, pytest.raises(NotFoundError):
        repo.create_task(session, 12345, subject="nobody's")


def test_create_takes_priority_and_status_from_the_caller(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        task = repo.create_task(session, ada, subject="Escalation", priority="high", status="completed", now=NOW)
    assert (task.priority, task.status, task.completed_at) == ("high", "completed", NOW)

"""The Sales Connect API: what the app, the UI and the tests read and write.

Plain functions taking a ``Session`` from ``Store.session()``; they flush but
never commit, so a caller can group several calls in one transaction. Every
task function takes the acting ``user_id`` and treats another user's task
exactly like a missing one (``NotFoundError``), so ids reveal nothing.
Writes go through the ORM, where change capture (``sales_connect.changes``)
stamps them; ``now`` is injectable for tests and defaults to the UTC clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sales_connect import validation as check
from sales_connect.errors import NotFoundError, StaleVersionError, ValidationError
from sales_connect.models import SyncConflict, SyncError, SyncRun, Task, User, utcnow


class _Unset:
    """Marks a keyword the caller did not pass (``None`` is a real value, e.g. clearing an id)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

# Field -> validator for the task fields a user may edit.
_TASK_FIELDS: Final = {
    "subject": check.subject,
    "description": check.description,
    "due_date": check.due_date,
    "priority": check.priority,
    "status": check.status,
    "task_type": check.task_type,
    "reminder_at": lambda value: check.aware_datetime("reminder_at", value),
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return utcnow() if now is None else check.aware_datetime("now", now, optional=False)  # type: ignore[return-value]


def _flush(session: Session, task: Task, expected_version: int) -> None:
    """Flush, turning a lost race (the row's version moved under us) into ``StaleVersionError``.

    The session must be rolled back afterwards (``Store.session()`` does).
    """
    task_id = task.id  # read before flushing: a failed flush leaves the object unreadable
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersionError("task", task_id, expected_version, None) from None


# --- users -----------------------------------------------------------------


def _ensure_unique(session: Session, column: Any, value: Any, field: str, user_id: int | None = None) -> None:
    if value is None:
        return
    other = session.scalar(select(User.id).where(column == value))
    if other is not None and other != user_id:
        raise ValidationError(field, f"{value!r} already belongs to another user")


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    sf_owner_id: str | None = None,
    time_zone: str = "UTC",
    login: str | None = None,
) -> User:
    """Create a Sales Connect user; sync starts OFF."""
    user = User(
        email=check.email(email),
        name=check.name(name),
        sf_owner_id=check.sf_owner_id(sf_owner_id),
        time_zone=check.time_zone(time_zone),
        login=login,
        sync_enabled=False,
    )
    _ensure_unique(session, User.email, user.email, "email")
    _ensure_unique(session, User.sf_owner_id, user.sf_owner_id, "sf_owner_id")
    _ensure_unique(session, User.login, user.login, "login")
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    return user


def lock_user(session: Session, user_id: int) -> User:
    """The user, with their row locked until the transaction ends (``SELECT ... FOR UPDATE``).

    Serialises one rep's check-then-act steps across api-server workers (e.g. "Sync now": look
    for a run to join, else start one), so two clicks at once cannot both start a run. SQLite
    has no row locks; its single writer serialises writers only.
    """
    user = session.scalars(select(User).where(User.id == user_id).with_for_update()).one_or_none()
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user with email {email!r}")
    return user


def get_user_by_login(session: Session, login: str) -> User:
    """The user an Airflow login is mapped to (the UI's sign-in mapping)."""
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFoundError(f"no Sales Connect user for login {login!r}")
    return user


def list_users(session: Session, *, sync_enabled: bool | None = None) -> list[User]:
    """All users by id, or only those with sync on (``True``) / off (``False``)."""
    stmt = select(User).order_by(User.id)
    if sync_enabled is not None:
        stmt = stmt.where(User.sync_enabled.is_(sync_enabled))
    return list(session.scalars(stmt))


def update_user_settings(
    session: Session,
    user_id: int,
    *,
    name: str | _Unset = UNSET,
    time_zone: str | _Unset = UNSET,
    sf_owner_id: str | _Unset | None = UNSET,
) -> User:
    """Change profile settings; only the keywords passed are touched.

    The Salesforce user id cannot change while sync is on: the linked tasks
    belong to the old owner, and moving them silently would mix two reps' lists.
    """
    user = get_user(session, user_id)
    if not isinstance(name, _Unset):
        user.name = check.name(name)
    if not isinstance(time_zone, _Unset):
        user.time_zone = check.time_zone(time_zone)
    if not isinstance(sf_owner_id, _Unset):
        new_owner = check.sf_owner_id(sf_owner_id)
        if new_owner != user.sf_owner_id:
            if user.sync_enabled:
                raise ValidationError("sf_owner_id", "switch sync off before changing the Salesforce user id")
            _ensure_unique(session, User.sf_owner_id, new_owner, "sf_owner_id", user.id)
            user.sf_owner_id = new_owner
    session.flush()
    return user


def set_sync_enabled(session: Session, user_id: int, enabled: bool, now: dt.datetime | None = None) -> bool:
    """Save the "sync tasks with Salesforce" checkbox (SPEC §2); True if this was a new enable.

    ON (from OFF) records ``enabled_at``, the first ever ``first_enabled_at``,
    and resets ``initial_sync_done_at`` so the next run does the enable-time
    import. OFF records ``disabled_at`` and touches no task. Saving the
    current state again changes nothing, so re-saving the settings page never
    restarts the first-sync window.
    """
    user = get_user(session, user_id)
    if enabled == user.sync_enabled:
        return False
    at = _now(now)
    if enabled:
        if user.sf_owner_id is None:
            raise ValidationError("sf_owner_id", "set your Salesforce user id before switching sync on")
        user.sync_enabled = True
        user.enabled_at = at
        if user.first_enabled_at is None:
            user.first_enabled_at = at
        user.initial_sync_done_at = None
        user.disabled_at = None
    else:
        user.sync_enabled = False
        user.disabled_at = at
    session.flush()
    return enabled


def link_login(session: Session, user_id: int, login: str) -> User:
    """Map an Airflow login to this rep: signing in with it shows their tasks (one rep per login)."""
    if not isinstance(login, str) or not login.strip() or len(login) > 256:
        raise ValidationError("login", "an Airflow login is 1 to 256 characters")
    user = get_user(session, user_id)
    _ensure_unique(session, User.login, login.strip(), "login", user.id)
    user.login = login.strip()
    session.flush()
    return user


def disable_user(session: Session, user_id: int, now: dt.datetime | None = None) -> User:
    """A departed rep: sync off (recorded as a switch-off, as the settings page would) and their
    Airflow login unlinked, so nobody signs in as them. Nothing is deleted: their tasks, links and
    history stay, and linking a login and switching sync on again resumes them (``reenable``)."""
    user = get_user(session, user_id)
    set_sync_enabled(session, user.id, False, now)
    user.login = None
    session.flush()
    return user


# --- tasks -----------------------------------------------------------------


def get_task(session: Session, user_id: int, task_id: int, *, include_deleted: bool = False) -> Task:
    """One of the user's tasks; another user's task or a tombstone is "not found"."""
    task = session.get(Task, task_id)
    if task is None or task.user_id != user_id or (task.deleted_at is not None and not include_deleted):
        raise NotFoundError(f"no task {task_id}")
    return task


def list_tasks(session: Session, user_id: int, *, include_completed: bool = True) -> list[Task]:
    """The user's live tasks: dated ones by due date, undated last, then by id."""
    stmt = select(Task).where(Task.user_id == user_id, Task.deleted_at.is_(None))
    if not include_completed:
        stmt = stmt.where(Task.status == "open")
    stmt = stmt.order_by(Task.due_date.is_(None), Task.due_date, Task.id)
    return list(session.scalars(stmt))


def _set_status(task: Task, status: str, at: dt.datetime) -> None:
    if status == task.status:
        return
    task.status = status
    task.completed_at = at if status == "completed" else None


def create_task(
    session: Session,
    user_id: int,
    *,
    subject: str,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Task:
    """Create a task for the user; other fields as in ``update_task`` (defaults: normal, open)."""
    get_user(session, user_id)
    values = _validated({"subject": subject, **fields})
    at = _now(now)
    status = values.pop("status", "open")
    values.setdefault("priority", "normal")
    task = Task(user_id=user_id, status="open", created_at=at, **values)
    _set_status(task, status, at)
    session.add(task)
    session.flush()
    return task


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(_TASK_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "is not a task field a user can set")
    return {field: _TASK_FIELDS[field](value) for field, value in fields.items()}


def _editable(session: Session, user_id: int, task_id: int, expected_version: int) -> Task:
    task = get_task(session, user_id, task_id)
    if task.version != expected_version:
        raise StaleVersionError("task", task.id, expected_version, task.version)
    return task


def update_task(
    session: Session,
    user_id: int,
    task_id: int,
    *,
    expected_version: int,
    now: dt.datetime | None = None,
    **changes: Any,
) -> Task:
    """Edit fields (subject, description, due_date, priority, status, task_type, reminder_at).

    Everything is validated before anything changes; a version mismatch
    (checked again by the database at flush) raises ``StaleVersionError``.
    Setting status completes or re-opens the task like the dedicated calls.
    """
    values = _validated(changes)
    task = _editable(session, user_id, task_id, expected_version)
    status = values.pop("status", None)
    for field, value in values.items():
        setattr(task, field, value)
    if status is not None:
        _set_status(task, status, _now(now))
    _flush(session, task, expected_version)
    return task


def complete_task(
    session: Session, user_id: int, task_id: int, *, expected_version: int, now: dt.datetime | None = None
) -> Task:
    """Mark done: status completed, ``completed_at`` = now."""
    return update_task(session, user_id, task_id, expected_version=expected_version, now=now, status="completed")


def reopen_task(
    session: Session, user_id: int, task_id: int, *, expected_version: int, now: dt.datetime | None = None
) -> Task:
    """Undo a completion: status open, ``completed_at`` cleared (an edit that syncs too)."""
    return update_task(session, user_id, task_id, expected_version=expected_version, now=now, status="open")


def delete_task(
    session: Session, user_id: int, task_id: int, *, expected_version: int, now: dt.datetime | None = None
) -> Task:
    """Tombstone the task (``deleted_at``); it leaves every list but change capture sees it."""
    task = _editable(session, user_id, task_id, expected_version)
    task.deleted_at = _now(now)
    _flush(session, task, expected_version)
    return task


def command_center(session: Session, user_id: int, now: dt.datetime) -> list[Task]:
    """The Command Center (SPEC §6): open, live tasks due today or tomorrow in the user's zone."""
    user = get_user(session, user_id)
    at = check.aware_datetime("now", now, optional=False)
    today = at.astimezone(ZoneInfo(user.time_zone)).date()  # type: ignore[union-attr]
    stmt = (
        select(Task)
        .where(
            Task.user_id == user_id,
            Task.deleted_at.is_(None),
            Task.status == "open",
            Task.due_date.in_([today, today + dt.timedelta(days=1)]),
        )
        .order_by(Task.due_date, Task.id)
    )
    return list(session.scalars(stmt))


# --- sync history (read by the UI) ------------------------------------------


def recent_runs(session: Session, limit: int = 20) -> list[SyncRun]:
    """The latest sync runs, newest first."""
    return list(session.scalars(select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit)))


def open_errors(session: Session, user_id: int, limit: int = 100) -> list[SyncError]:
    """The user's unresolved per-record sync errors, most recently seen first."""
    stmt = (
        select(SyncError)
        .where(SyncError.user_id == user_id, SyncError.resolved_at.is_(None))
        .order_by(SyncError.last_seen_at.desc(), SyncError.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def list_conflicts(session: Session, user_id: int, limit: int = 100) -> list[SyncConflict]:
    """The user's recorded conflicts (both versions kept), newest first."""
    stmt = (
        select(SyncConflict)
        .where(SyncConflict.user_id == user_id)
        .order_by(SyncConflict.detected_at.desc(), SyncConflict.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def request_retry(session: Session, error_id: int, user_id: int, now: dt.datetime | None = None) -> SyncError:
    """Ask the next run to retry this error now instead of waiting for its back-off."""
    error = session.get(SyncError, error_id)
    if error is None or error.user_id != user_id or error.resolved_at is not None:
        raise NotFoundError(f"no open sync error {error_id}")
    error.next_retry_at = _now(now)
    session.flush()
    return error


__all__: Sequence[str] = [
    "UNSET",
    "command_center",
    "complete_task",
    "create_task",
    "create_user",
    "delete_task",
    "get_task",
    "get_user",
    "get_user_by_email",
    "get_user_by_login",
    "list_conflicts",
    "list_tasks",
    "list_users",
    "open_errors",
    "recent_runs",
    "reopen_task",
    "request_retry",
    "set_sync_enabled",
    "update_task",
    "update_user_settings",
]

"""The Sales Connect database: SQLAlchemy 2 models.

This schema is the contract between the Sales Connect app (the Command
Center, settings pages), the sync and the tests. Alembic migrations in
``sales_connect/migrations`` create it; never call ``create_all`` in
production code.

Design notes
- All timestamps are timezone-aware UTC (``UTCDateTime`` refuses naive
  values, so a worker's local clock can never leak in).
- ``Task.change_seq`` is the change-capture cursor. It is drawn from the
  single-row ``change_counter`` table inside the writing transaction, so
  the row lock orders writers by commit: a reader that sees seq N
  committed knows every seq below N is committed too. That is what makes
  "changed since watermark" scans immune to late commits.
- Deletions are tombstones (``deleted_at``) so change capture sees them.
- ``Task.version`` is the optimistic-concurrency counter: the sync only
  writes a task if its version is still the one it read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Sales Connect stores timezone-aware UTC only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite hands back naive values; they were written as UTC
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


# Sales Connect's own vocabularies. Salesforce has more words (e.g. status
# "In Progress", priority "Low"); the sync keeps those in TaskLink so they
# survive a round trip.
TASK_STATUSES = ("open", "completed")
TASK_PRIORITIES = ("high", "normal", "low")
TASK_TYPES = ("call", "email", "meeting", "todo", "other")

# Who made a change: the sync marks its own writes so they are never read
# back as user changes (one of two independent echo guards; the other is
# the content hash kept in TaskLink).
CHANGED_BY_USER = "user"
CHANGED_BY_SYNC = "sync"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # The Airflow login this rep signs in with; the plugin's pages show a
    # signed-in person only the Sales Connect user with this login.
    login: Mapped[str | None] = mapped_column(String(256), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The Salesforce User id (OwnerId) this rep's tasks belong to.
    sf_owner_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    sync_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The latest moment sync was switched on (shown on the settings page).
    enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The first time sync was ever switched on (None: never enabled); the 24-hour
    # import and the "pre-existing tasks are never pushed" rule are measured from
    # it, so a re-enable never turns an unpushed task into a pre-existing one.
    first_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the initial import for the current enable finished (None: pending
    # or interrupted; the next run resumes it).
    initial_sync_done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The worker's time of the last load that synced this rep (for people to read).
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Salesforce's server time of the last read the sync applied for this rep
    # (None: never); switching sync back on catches up from here (task_sync.reenable).
    sf_read_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    tasks: Mapped[list[Task]] = relationship(back_populates="user")


class ChangeCounter(Base):
    """One row; its value is the last change sequence handed out."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_due", "user_id", "due_date"),
        Index("ix_tasks_change_seq", "change_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Text, not String(255): Sales Connect accepts what Salesforce may refuse;
    # the sync quarantines an over-long subject rather than truncating it.
    subject: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="open")
    task_type: Mapped[str | None] = mapped_column(String(20))
    reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_by: Mapped[str] = mapped_column(String(10), default=CHANGED_BY_USER)

    # Every UPDATE carries "WHERE version = <the version read>", so two
    # writers racing on one task cannot both win; change capture
    # (sales_connect.changes) sets the new value.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    user: Mapped[User] = relationship(back_populates="tasks")
    link: Mapped[TaskLink | None] = relationship(back_populates="task", uselist=False)


class TaskLink(Base):
    """The pairing of a Sales Connect task with a Salesforce Task, and what
    each side last looked like when the sync last agreed on it."""

    __tablename__ = "task_links"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sf_id: Mapped[str] = mapped_column(String(18), unique=True)
    # "sales_connect" (pushed by us) or "salesforce" (imported by us)
    origin: Mapped[str] = mapped_column(String(20))
    # Salesforce's SystemModstamp of the version we last read or wrote.
    sf_modstamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Last agreed Salesforce field values (Salesforce vocabulary), so words
    # Sales Connect lacks ("In Progress", "Deferred") survive a round trip.
    sf_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sf_hash: Mapped[str | None] = mapped_column(String(64))
    # change_seq of the Sales Connect row when last synced (read or written).
    sc_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    sc_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sc_hash: Mapped[str | None] = mapped_column(String(64))
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # "synced" | "error" | "conflict"
    sync_state: Mapped[str] = mapped_column(String(20), default="synced")

    task: Mapped[Task] = relationship(back_populates="link")


class SyncRun(Base):
    """One run of the sync DAG: the history the Command Center shows."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dag_run_id: Mapped[str] = mapped_column(String(250), index=True)
    run_type: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # "running" | "success" | "partial" (some records refused) | "failed"
    status: Mapped[str] = mapped_column(String(20), default="running")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"sf_to_sc": {"create": n, "update": n, "complete": n, "delete": n},
    #  "sc_to_sf": {...}, "skipped_preexisting": n, "conflicts": n, "errors": n, ...}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    user_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class SyncError(Base):
    """A record one side refused; retried with back-off until it goes through."""

    __tablename__ = "sync_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sf_id: Mapped[str | None] = mapped_column(String(18), index=True)
    direction: Mapped[str] = mapped_column(String(10))  # "sc_to_sf" | "sf_to_sc"
    operation: Mapped[str] = mapped_column(String(20))  # create | update | delete | ...
    error_code: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SyncConflict(Base):
    """Both sides changed one task since the last sync; both versions kept."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(Integer)
    sf_id: Mapped[str | None] = mapped_column(String(18))
    sc_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sf_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sc_modified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sf_modified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    winner: Mapped[str] = mapped_column(String(20))  # "salesforce" | "sales_connect"
    rule: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncWatermark(Base):
    """The durable copy of each shard's committed high-watermarks (SPEC §8)."""

    __tablename__ = "sync_watermarks"

    shard_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Salesforce SystemModstamp high-watermark (Salesforce's clock).
    sf_modstamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Sales Connect change_seq high-watermark.
    sc_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Last window the getDeleted scan covered (its latestDateCovered).
    sf_deleted_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dag_run_id: Mapped[str | None] = mapped_column(String(250))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncRunLock(Base):
    """The sync's one run slot (SPEC §8: runs never overlap, backfills included).

    Airflow 3 counts a backfill's runs against the backfill's own ``max_active_runs``, not the
    DAG's, so Airflow alone lets a backfill run beside the schedule and beside other backfill
    runs. Every run takes this row at plan and gives it back when its report ends
    (``task_sync.run_lock``); one row, created by the migration.
    """

    __tablename__ = "sync_run_lock"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The Airflow DAG run holding the slot; None when free.
    dag_run_id: Mapped[str | None] = mapped_column(String(250))
    run_type: Mapped[str | None] = mapped_column(String(40))
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SyncSetting(Base):
    """A value the sync pins on first use and must never change silently (the installation's
    external-id namespace; the connections whose Salesforce set-up passed the preflight)."""

    __tablename__ = "sync_settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingCreate(Base):
    """A Sales Connect task the sync sent to Salesforce as a new Task whose answer it has not
    settled yet: only such a record (created at or after ``first_sent_at``) may be taken as ours
    when Salesforce reports its external id already in use."""

    __tablename__ = "sync_pending_creates"

    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100))
    # Salesforce's clock (the run's server time) when the create first went out.
    first_sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SyncOutcome(Base):
    """What one run did to one record, written in the same transaction as the change itself.

    A load that Airflow retries (or that dies half-way and is run again by the same DAG run) finds
    here what its earlier tries already settled, skips those records, and reports the run's counts
    from these rows rather than from what the last try happened to do. One row per record, direction
    and outcome: a conflict and the winning write are two outcomes of one record.
    """

    __tablename__ = "sync_outcomes"

    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), primary_key=True)  # "sf_to_sc" | "sc_to_sf"
    record_key: Mapped[str] = mapped_column(String(40), primary_key=True)  # task id or Salesforce id
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)  # written | error | conflict | deferred
    kind: Mapped[str] = mapped_column(String(16))  # create | update | complete | delete (for "written")
    shard_key: Mapped[str] = mapped_column(String(100), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncStepCalls(Base):
    """The Salesforce API calls of one try of one step, kept even when the try fails, so the
    history's call count includes what failed tries spent (Airflow retries them)."""

    __tablename__ = "sync_step_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    step: Mapped[str] = mapped_column(String(120))  # "plan", "extract tasks-01-of-02", ...
    calls: Mapped[int] = mapped_column(Integer)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

"""The JSON shapes of the plugin's API (they make up its published OpenAPI schema).

Input models take dates as plain strings and leave the checking to
``sales_connect.validation`` (through the repository), so a bad value gets
the store's own sentence, the same one every other client of the store gets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from sales_connect.models import SyncConflict, SyncError, SyncRun, Task, TaskLink, User
from sales_connect_ui.error_codes import explain

# --- input ------------------------------------------------------------------


class TaskFields(BaseModel):
    """Task fields a user may set; omitted fields are left as they are."""

    subject: str | None = Field(None, description="At most 255 characters; required when creating.")
    description: str | None = None
    due_date: str | None = Field(None, description="YYYY-MM-DD, or null for no due date.", examples=["2026-11-26"])
    priority: str | None = Field(None, description="high, normal or low.")
    task_type: str | None = Field(None, description="call, email, meeting, todo, other, or null.")
    reminder_at: str | None = Field(None, description="ISO 8601 date and time with a UTC offset, or null.")


class TaskCreate(TaskFields):
    subject: str | None = Field(None, description="Required; at most 255 characters.")


class TaskEdit(TaskFields):
    version: int = Field(description="The task's version as last read; a newer one means someone else changed it.")


class VersionBody(BaseModel):
    version: int = Field(description="The task's version as last read.")


class SettingsIn(BaseModel):
    sync_enabled: bool = Field(description='"Sync tasks with Salesforce".')
    sf_owner_id: str | None = Field(None, description="The Salesforce User id (OwnerId, 005...) your tasks belong to.")
    time_zone: str = Field(description="IANA time zone, e.g. Europe/Paris; decides what today and tomorrow are.")


# --- output -----------------------------------------------------------------


class ErrorOut(BaseModel):
    id: int
    task_id: int | None
    sf_id: str | None
    direction: str
    operation: str
    error_code: str
    message: str
    explanation: str
    attempts: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    next_retry_at: dt.datetime | None
    retries_stopped: bool = Field(description="Salesforce or the sync's checks refused it every time: no retry is "
                                  "planned until you press Retry (after fixing the cause).")

    @classmethod
    def of(cls, error: SyncError) -> ErrorOut:
        return cls(
            id=error.id,
            task_id=error.task_id,
            sf_id=error.sf_id,
            direction=error.direction,
            operation=error.operation,
            error_code=error.error_code,
            message=error.message,
            explanation=explain(error.error_code),
            attempts=error.attempts,
            first_seen_at=error.first_seen_at,
            last_seen_at=error.last_seen_at,
            next_retry_at=error.next_retry_at,
            retries_stopped=error.next_retry_at is None,
        )


class TaskSync(BaseModel):
    linked: bool = Field(description="Paired with a Salesforce Task.")
    sf_id: str | None
    state: str | None = Field(description="synced, error or conflict (the link's state); null when not linked.")
    changes_pending: bool = Field(description="Edited here since the last sync; the next run sends the change.")
    error: ErrorOut | None = Field(description="The open sync error of this task, if any.")


class TaskOut(BaseModel):
    id: int
    subject: str
    description: str | None
    due_date: dt.date | None
    priority: str
    status: str
    task_type: str | None
    reminder_at: dt.datetime | None
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    sync: TaskSync

    @classmethod
    def of(cls, task: Task, link: TaskLink | None, error: SyncError | None) -> TaskOut:
        return cls(
            id=task.id,
            subject=task.subject,
            description=task.description,
            due_date=task.due_date,
            priority=task.priority,
            status=task.status,
            task_type=task.task_type,
            reminder_at=task.reminder_at,
            completed_at=task.completed_at,
            created_at=task.created_at,
            updated_at=task.updated_at,
            version=task.version,
            sync=TaskSync(
                linked=link is not None,
                sf_id=link.sf_id if link else None,
                state=link.sync_state if link else None,
                changes_pending=bool(link and task.change_seq > link.sc_seq),
                error=ErrorOut.of(error) if error else None,
            ),
        )


class SettingsOut(BaseModel):
    login: str | None
    name: str
    email: str
    sync_enabled: bool
    sf_owner_id: str | None
    time_zone: str
    enabled_at: dt.datetime | None
    first_enabled_at: dt.datetime | None
    disabled_at: dt.datetime | None
    last_synced_at: dt.datetime | None = Field(description="The last successful sync of this user.")

    @classmethod
    def of(cls, user: User) -> SettingsOut:
        return cls(
            login=user.login,
            name=user.name,
            email=user.email,
            sync_enabled=user.sync_enabled,
            sf_owner_id=user.sf_owner_id,
            time_zone=user.time_zone,
            enabled_at=user.enabled_at,
            first_enabled_at=user.first_enabled_at,
            disabled_at=user.disabled_at,
            last_synced_at=user.last_synced_at,
        )


class SessionOut(BaseModel):
    settings: SettingsOut
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST/PUT/PATCH/DELETE when signed in by cookie.")


class SyncStartOut(BaseModel):
    dag_run_id: str | None = Field(description="The Airflow run started, or null if none could be.")
    state: str | None
    problem: str | None = Field(description="dag_missing, dag_paused, forbidden, unreachable, refused, or null.")
    message: str
    joined: bool = Field(False, description="The run was already queued or running for you; this request joined it.")


class SaveSettingsOut(BaseModel):
    settings: SettingsOut
    message: str
    sync: SyncStartOut | None = Field(description="The sync started because the box was switched on, if any.")


class Summary(BaseModel):
    imported: int = Field(description="New tasks brought in from Salesforce.")
    updated: int = Field(description="Edits and completions brought in from Salesforce.")
    pushed: int = Field(description="Creates, edits and completions sent to Salesforce.")
    deleted: int = Field(description="Deletions carried over, either direction.")
    conflicts: int
    errors: int


def _count(counts: dict[str, Any], direction: str, *kinds: str) -> int:
    side = counts.get(direction) or {}
    return sum(int(side.get(kind) or 0) for kind in kinds)


class RunOut(BaseModel):
    id: int
    dag_run_id: str
    run_type: str | None
    status: str
    dry_run: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict[str, Any] = Field(description="As the sync recorded them: sf_to_sc / sc_to_sf by kind, and more.")
    summary: Summary
    api_calls: int
    message: str | None

    @classmethod
    def of(cls, run: SyncRun) -> RunOut:
        counts = dict(run.counts or {})
        return cls(
            id=run.id,
            dag_run_id=run.dag_run_id,
            run_type=run.run_type,
            status=run.status,
            dry_run=run.dry_run,
            started_at=run.started_at,
            finished_at=run.finished_at,
            counts=counts,
            summary=Summary(
                imported=_count(counts, "sf_to_sc", "create"),
                updated=_count(counts, "sf_to_sc", "update", "complete"),
                pushed=_count(counts, "sc_to_sf", "create", "update", "complete"),
                deleted=_count(counts, "sf_to_sc", "delete") + _count(counts, "sc_to_sf", "delete"),
                conflicts=int(counts.get("conflicts") or 0),
                errors=int(counts.get("errors") or 0),
            ),
            api_calls=run.api_calls,
            message=run.message,
        )


class RunStatusOut(BaseModel):
    dag_run_id: str
    airflow_state: str | None = Field(description="queued, running, success, failed (Airflow's view); null if unknown.")
    done: bool = Field(description="Airflow finished the run and the sync history row is final.")
    sync_run: RunOut | None = Field(description="The sync history row of this run, once the run has started it.")


class ConflictOut(BaseModel):
    id: int
    task_id: int | None
    sf_id: str | None
    sc_version: dict[str, Any]
    sf_version: dict[str, Any]
    sc_modified_at: dt.datetime | None
    sf_modified_at: dt.datetime | None
    winner: str
    rule: str
    detected_at: dt.datetime

    @classmethod
    def of(cls, conflict: SyncConflict) -> ConflictOut:
        return cls(
            id=conflict.id,
            task_id=conflict.task_id,
            sf_id=conflict.sf_id,
            sc_version=dict(conflict.sc_version or {}),
            sf_version=dict(conflict.sf_version or {}),
            sc_modified_at=conflict.sc_modified_at,
            sf_modified_at=conflict.sf_modified_at,
            winner=conflict.winner,
            rule=conflict.rule,
            detected_at=conflict.detected_at,
        )


class HistoryOut(BaseModel):
    runs: list[RunOut]
    conflicts: list[ConflictOut]
    errors: list[ErrorOut]


class CommandCenterOut(BaseModel):
    time_zone: str
    today: dt.date
    tomorrow: dt.date
    tasks: list[TaskOut] = Field(description="Open tasks due today or tomorrow in your time zone.")


class DeletedOut(BaseModel):
    id: int
    deleted: bool = True


class ProblemOut(BaseModel):
    """Every refusal: a sentence to show, and the field it is about when there is one."""

    detail: str
    field: str | None = None

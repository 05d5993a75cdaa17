"""The JSON API under ``/sales-connect/api``: everything a user can do on the pages.

The pages are built on it and scripts can use it with a Bearer token
(``POST /auth/token``). Reads need a signed-in Airflow user linked to a Sales
Connect user; writes also pass the CSRF checks when signed in by cookie.
Store rules (validation, ownership, versions) are the repository's; this
module converts HTTP to store calls and back, and starts sync runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from sales_connect import repository
from sales_connect import validation as check
from sales_connect.errors import NotFoundError, ValidationError
from sales_connect.models import Task, utcnow
from sales_connect.time_zones import allowed as allowed_time_zones
from sales_connect_ui import csrf, readers
from sales_connect_ui.airflow_api import AirflowApi, api_base_url
from sales_connect_ui.csrf import WriteCaller
from sales_connect_ui.identity import ApiCaller, Caller
from sales_connect_ui.schemas import (
    CommandCenterOut,
    ConflictOut,
    DeletedOut,
    ErrorOut,
    HistoryOut,
    ProblemOut,
    RunOut,
    RunStatusOut,
    SaveSettingsOut,
    SessionOut,
    SettingsIn,
    SettingsOut,
    SyncStartOut,
    TaskCreate,
    TaskEdit,
    TaskFields,
    TaskOut,
    VersionBody,
)
from sales_connect_ui.store import get_store
from task_sync.run_requests import run_to_join

FINISHED = frozenset({"success", "failed"})
SYNC_OFF_MESSAGE = "Sync is off; nothing was changed or deleted."

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ProblemOut, "description": "The body is not JSON; nothing was changed."},
    401: {"model": ProblemOut, "description": "No Airflow credential, or an invalid or expired one."},
    403: {"model": ProblemOut, "description": "Signed in, but not linked to a Sales Connect user, or a failed CSRF "
          "check."},
    413: {"model": ProblemOut, "description": "The body is over the size limit; it was not read."},
    422: {"model": ProblemOut, "description": "A value was refused (the field is named); nothing was changed."},
}
_TASK_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ProblemOut, "description": "No such task of yours."},
    409: {"model": ProblemOut, "description": "The task changed since you read it; reload it."},
}

# Ids are PostgreSQL integers: a larger number names no record, and must not reach the database
# (where it is an "integer out of range" error, i.e. a 500).
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TaskId = RecordId

router = APIRouter(prefix="/api", tags=["Sales Connect"], responses=_ERRORS)


# --- conversions --------------------------------------------------------------


def _changes(body: TaskFields) -> dict[str, Any]:
    """The fields the caller sent (an explicit null clears a field), as the repository takes them."""
    sent = body.model_fields_set - {"version"}
    converters = {"due_date": check.iso_date, "reminder_at": check.iso_datetime}
    return {name: converters.get(name, lambda _, v: v)(name, getattr(body, name)) for name in sorted(sent)}


def _tasks_out(session: Session, user_id: int, tasks: list[Task]) -> list[TaskOut]:
    ids = [t.id for t in tasks]
    links = readers.links(session, user_id, ids)
    errors = readers.open_errors_by_task(session, user_id, ids)
    return [TaskOut.of(t, links.get(t.id), errors.get(t.id)) for t in tasks]


def _task_out(session: Session, user_id: int, task: Task) -> TaskOut:
    return _tasks_out(session, user_id, [task])[0]


def _start_sync(request: Request, caller: Caller, conf: dict[str, Any], if_not_started: str) -> SyncStartOut:
    with AirflowApi(api_base_url(request), caller.token) as airflow:
        return SyncStartOut(**airflow.trigger_sync(conf, if_not_started).as_json())


# --- session and settings ------------------------------------------------------


@router.get("/session", summary="Who you are, your settings, and the CSRF token for writes")
def session_info(request: Request, response: Response, caller: ApiCaller) -> SessionOut:
    with get_store().session() as session:
        settings = SettingsOut.of(repository.get_user(session, caller.user_id))
    return SessionOut(settings=settings, csrf_token=csrf.issue(request, response, caller.login))


@router.get("/settings", summary="Your sync settings")
def get_settings(caller: ApiCaller) -> SettingsOut:
    with get_store().session() as session:
        return SettingsOut.of(repository.get_user(session, caller.user_id))


@router.put("/settings", summary="Save your sync settings; switching sync on starts a sync at once")
def save_settings(body: SettingsIn, request: Request, caller: WriteCaller) -> SaveSettingsOut:
    now = utcnow()
    with get_store().session() as session:
        user = repository.get_user(session, caller.user_id)
        was_on = user.sync_enabled
        # Off first and on last: the owner id may only change while sync is off, and all of it is
        # one transaction, so a refused value leaves every setting as it was.
        if not body.sync_enabled:
            repository.set_sync_enabled(session, user.id, False, now)
        repository.update_user_settings(session, user.id, time_zone=body.time_zone, sf_owner_id=body.sf_owner_id)
        newly_on = body.sync_enabled and repository.set_sync_enabled(session, user.id, True, now)
        settings = SettingsOut.of(user)
    if newly_on:
        sync = _start_sync(
            request,
            caller,
            {"user_ids": [caller.user_id], "reason": "sync enabled"},
            "The next scheduled run will include you.",
        )
        return SaveSettingsOut(settings=settings, message="Sync is on. " + sync.message, sync=sync)
    if was_on and not body.sync_enabled:
        return SaveSettingsOut(settings=settings, message=SYNC_OFF_MESSAGE, sync=None)
    state = "Sync stays on." if body.sync_enabled else "Sync is off."
    return SaveSettingsOut(settings=settings, message=f"Settings saved. {state}", sync=None)


# --- sync runs -----------------------------------------------------------------


@router.post("/sync/runs", summary="Sync now (sync must be on); joins your run if one is queued or running")
def sync_now(request: Request, caller: WriteCaller) -> SyncStartOut:
    with get_store().session() as session:
        # The rep's row stays locked until the run is found or started: two clicks at once start one run.
        if not repository.lock_user(session, caller.user_id).sync_enabled:
            raise ValidationError("sync_enabled", "switch sync on first")
        with AirflowApi(api_base_url(request), caller.token) as airflow:
            joined = run_to_join(airflow.active_runs(), caller.user_id)
            if joined is not None:
                return SyncStartOut(
                    dag_run_id=joined["dag_run_id"],
                    state=joined.get("state"),
                    problem=None,
                    message=f"A sync run for you is already {joined.get('state')}; this click joins it.",
                    joined=True,
                )
            conf = {"user_ids": [caller.user_id], "reason": "sync requested"}
            return SyncStartOut(**airflow.trigger_sync(conf).as_json())


@router.post("/sync/preview", summary="Preview what switching sync on would import (a dry run; writes nothing)")
def preview(request: Request, caller: WriteCaller) -> SyncStartOut:
    with get_store().session() as session:
        if repository.get_user(session, caller.user_id).sf_owner_id is None:
            raise ValidationError("sf_owner_id", "set your Salesforce user id first")
    return _start_sync(request, caller, {"user_ids": [caller.user_id], "dry_run": True, "preview_enable": True}, "")


@router.get(
    "/sync/runs/{dag_run_id}",
    summary="A sync run's live state (Airflow's) and its counts (the sync history's)",
    responses={404: {"model": ProblemOut}},
)
def run_status(dag_run_id: str, request: Request, caller: ApiCaller) -> RunStatusOut:
    check.text("dag_run_id", dag_run_id, check.DAG_RUN_ID_MAX)
    try:
        with AirflowApi(api_base_url(request), caller.token) as airflow:
            state = airflow.run_state(dag_run_id)
    except httpx.HTTPError:  # Airflow's view is optional here; the history row still answers
        state = None
    with get_store().session() as session:
        run = readers.run_for_user(session, caller.user_id, dag_run_id)
        run_out = RunOut.of(run) if run else None
    if state is None and run_out is None:
        raise NotFoundError(f"no sync run {dag_run_id}")
    # Airflow has the last word on whether the run is over (a run that crashed may leave its history
    # row "running"); only when Airflow no longer knows the run does the history row decide.
    done = state in FINISHED if state is not None else run_out is not None and run_out.status != "running"
    return RunStatusOut(dag_run_id=dag_run_id, airflow_state=state, done=done, sync_run=run_out)


# --- Command Center and tasks ----------------------------------------------------


@router.get("/command-center", summary="Your open tasks due today and tomorrow (in your time zone)")
def command_center(caller: ApiCaller) -> CommandCenterOut:
    now = utcnow()
    with get_store().session() as session:
        user = repository.get_user(session, caller.user_id)
        today = now.astimezone(ZoneInfo(user.time_zone)).date()
        tasks = repository.command_center(session, user.id, now)
        return CommandCenterOut(
            time_zone=user.time_zone,
            today=today,
            tomorrow=today + dt.timedelta(days=1),
            tasks=_tasks_out(session, user.id, tasks),
        )


@router.get("/tasks", summary="All your tasks (any due date)", responses=_TASK_ERRORS)
def list_tasks(
    caller: ApiCaller,
    task_status: Annotated[
        Literal["open", "completed"] | None, Query(alias="status", description="open or completed; all if omitted")
    ] = None,
) -> list[TaskOut]:
    with get_store().session() as session:
        tasks = repository.list_tasks(session, caller.user_id)
        if task_status is not None:
            tasks = [t for t in tasks if t.status == task_status]
        return _tasks_out(session, caller.user_id, tasks)


@router.post("/tasks", status_code=status.HTTP_201_CREATED, summary="Create a task", responses=_TASK_ERRORS)
def create_task(body: TaskCreate, caller: WriteCaller) -> TaskOut:
    changes = _changes(body)
    with get_store().session() as session:
        task = repository.create_task(session, caller.user_id, **{"subject": None, **changes})
        return _task_out(session, caller.user_id, task)


@router.get("/tasks/{task_id}", summary="One of your tasks", responses=_TASK_ERRORS)
def get_task(task_id: TaskId, caller: ApiCaller) -> TaskOut:
    with get_store().session() as session:
        return _task_out(session, caller.user_id, repository.get_task(session, caller.user_id, task_id))


@router.patch("/tasks/{task_id}", summary="Edit a task (send only the fields that change)", responses=_TASK_ERRORS)
def edit_task(task_id: TaskId, body: TaskEdit, caller: WriteCaller) -> TaskOut:
    changes = _changes(body)
    with get_store().session() as session:
        task = repository.update_task(session, caller.user_id, task_id, expected_version=body.version, **changes)
        return _task_out(session, caller.user_id, task)


@router.post("/tasks/{task_id}/complete", summary="Mark a task done", responses=_TASK_ERRORS)
def complete_task(task_id: TaskId, body: VersionBody, caller: WriteCaller) -> TaskOut:
    with get_store().session() as session:
        task = repository.complete_task(session, caller.user_id, task_id, expected_version=body.version)
        return _task_out(session, caller.user_id, task)


@router.post("/tasks/{task_id}/reopen", summary="Re-open a completed task", responses=_TASK_ERRORS)
def reopen_task(task_id: TaskId, body: VersionBody, caller: WriteCaller) -> TaskOut:
    with get_store().session() as session:
        task = repository.reopen_task(session, caller.user_id, task_id, expected_version=body.version)
        return _task_out(session, caller.user_id, task)


@router.delete("/tasks/{task_id}", summary="Delete a task", responses=_TASK_ERRORS)
def delete_task(
    task_id: TaskId, version: Annotated[int, Query(description="The task's version as last read.")], caller: WriteCaller
) -> DeletedOut:
    with get_store().session() as session:
        repository.delete_task(session, caller.user_id, task_id, expected_version=version)
    return DeletedOut(id=task_id)


# --- sync history ----------------------------------------------------------------


@router.get("/history", summary="Your recent sync runs, conflicts and open per-record errors")
def history(caller: ApiCaller, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> HistoryOut:
    with get_store().session() as session:
        return HistoryOut(
            runs=[RunOut.of(r) for r in readers.runs_for_user(session, caller.user_id, limit)],
            conflicts=[ConflictOut.of(c) for c in repository.list_conflicts(session, caller.user_id, limit)],
            errors=[ErrorOut.of(e) for e in repository.open_errors(session, caller.user_id)],
        )


@router.post(
    "/errors/{error_id}/retry",
    summary="Retry a refused record on the next run instead of waiting for its back-off",
    responses={404: {"model": ProblemOut}},
)
def retry_error(error_id: RecordId, caller: WriteCaller) -> ErrorOut:
    with get_store().session() as session:
        return ErrorOut.of(repository.request_retry(session, error_id, caller.user_id))


@router.get("/time-zones", summary="The IANA time zones the settings accept (every one a browser knows)")
def time_zones(_caller: ApiCaller) -> list[str]:
    return sorted(allowed_time_zones())

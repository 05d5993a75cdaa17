"""The local process stack (``airflow_stack``) against the machine's real PostgreSQL and Redis.

The ``slow`` tests start a whole Airflow (api-server, scheduler, dag-processor,
Celery workers or LocalExecutor), drive it through the REST API and check that
stopping it leaves no process, database or Redis key behind.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis
import requests
from airflow.utils.net import getfqdn
from simple_salesforce import Salesforce

from airflow_stack import AirflowStack, StackError, stop_stack
from airflow_stack.__main__ import main as cli
from airflow_stack.pg import create_databases, existing_databases
from airflow_stack.procs import is_alive
from airflow_stack.stack import DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL

DAGS = Path(__file__).resolve().parent / "dags"
SMOKE = "stack_smoke"


def _assert_gone(stack: AirflowStack, pids: list[int]) -> None:
    assert [pid for pid in pids if is_alive(pid)] == []
    assert existing_databases(DEFAULT_PG_ADMIN_URL, stack.databases.values()) == []
    assert list(redis.Redis.from_url(DEFAULT_REDIS_URL).scan_iter(match=f"{stack.redis_prefix}*")) == []
    assert not stack.state_file.exists()


@pytest.mark.slow
@pytest.mark.postgres
def test_celery_stack_spreads_mapped_tasks_over_both_workers() -> None:
    # One task slot per worker: while a worker runs a task it cannot take another, so both must work.
    stack = AirflowStack("CeleryExecutor", workers=2, worker_concurrency=1, dags_folder=DAGS, emulator=False)
    with stack:
        state = json.loads(stack.state_file.read_text())
        assert {p["pid"] for p in state["processes"]} == set(stack.pids.values())
        assert set(stack.databases.values()) == set(existing_databases(DEFAULT_PG_ADMIN_URL, stack.databases.values()))
        stack.unpause(SMOKE)
        run_id = stack.trigger(SMOKE)
        state = stack.wait_for_run(SMOKE, run_id, timeout=150)
        assert state == "success", stack.explain_failure(SMOKE, run_id)
        # The Celery queue lives under this stack's Redis prefix, so another stack's workers never see it.
        assert redis.Redis.from_url(DEFAULT_REDIS_URL).exists(f"{stack.redis_prefix}_kombu.binding.default")

        mapped = [ti for ti in stack.task_instances(SMOKE, run_id) if ti["task_id"] == "where_am_i"]
        assert sorted(ti["map_index"] for ti in mapped) == [0, 1, 2, 3]
        assert {ti["state"] for ti in mapped} == {"success"}
        assert {ti["hostname"] for ti in mapped} == set(stack.worker_names)
        # The tasks themselves saw the same names (returned through XCom).
        assert stack.xcom(SMOKE, run_id, "collect") == sorted(stack.worker_names)

        started = stack.all_pids()
        killed = stack.kill_worker(0)
        assert stack.worker_pids[0] in killed
        assert [pid for pid in killed if is_alive(pid)] == []
        assert is_alive(stack.worker_pids[1])
    _assert_gone(stack, started)


@pytest.mark.slow
@pytest.mark.postgres
def test_local_executor_stack_runs_tasks_with_both_connections_wired() -> None:
    stack = AirflowStack("LocalExecutor", dags_folder=DAGS, triggerer=False)
    with stack:
        assert stack.worker_pids == []
        assert stack.emulator_info is not None and Path(stack.emulator_info["ca_bundle"]).is_file()
        stack.unpause("stack_connections")
        run_id = stack.trigger("stack_connections")
        state = stack.wait_for_run("stack_connections", run_id, timeout=120)
        assert state == "success", stack.explain_failure("stack_connections", run_id)
        assert stack.xcom("stack_connections", run_id, "salesforce_users") >= 1
        assert stack.xcom("stack_connections", run_id, "sales_connect_database") == stack.databases["sales_connect"]
        hosts = {ti["hostname"] for ti in stack.task_instances("stack_connections", run_id)}
        assert hosts == {getfqdn()}  # the scheduler's machine: LocalExecutor runs tasks in the scheduler
        started = stack.all_pids()
    _assert_gone(stack, started)


@pytest.mark.slow
@pytest.mark.postgres
def test_cli_starts_a_background_stack_and_stops_it_from_the_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "stack.json"
    up = ["up", "--state", str(state_file), "--executor", "LocalExecutor", "--no-triggerer"]
    up += ["--dags-folder", str(DAGS), "--password", "s3cret-for-test"]
    done = subprocess.run([sys.executable, "-m", "airflow_stack", *up], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    state = json.loads(state_file.read_text())
    assert f"Airflow UI:  {state['base_url']}" in done.stdout
    assert "Login:       admin / s3cret-for-test" in done.stdout
    assert f"Sales Connect: {state['base_url']}/sales-connect/command-center" in done.stdout
    # The processes outlived the command that started them, and the printed login works.
    token = httpx.post(f"{state['base_url']}/auth/token", json={"username": "admin", "password": "s3cret-for-test"})
    assert token.status_code == 201
    assert cli(["status", "--state", str(state_file)]) == 0
    # The printed emulator address, CA and session work with simple-salesforce; so does the token command.
    try:
        _check_printed_emulator(done.stdout)
    except BaseException:
        stop_stack(state_file)
        raise
    pids = [p["pid"] for p in state["processes"]]
    # The printed stop command works from any directory, without the venv on PATH.
    stop = shlex.split(done.stdout.split("Stop with:", 1)[1].splitlines()[0])
    assert stop[0] == sys.executable
    stopped = subprocess.run(stop, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env={k: v for k, v in os.environ.items() if k != "PATH"} | {"PATH": "/usr/bin:/bin"})
    assert stopped.returncode == 0, stopped.stderr
    assert [pid for pid in pids if is_alive(pid)] == []
    assert existing_databases(DEFAULT_PG_ADMIN_URL, state["databases"]) == []
    assert not state_file.exists() and not Path(state["home"]).exists()


def _check_printed_emulator(stdout: str) -> None:
    printed = dict(line.strip().split(":", 1) for line in stdout.splitlines() if ":" in line)
    instance_url, ca = re.fullmatch(r"\s*(\S+)\s+\(the emulator; its CA: (.+)\)", printed["Salesforce"]).groups()
    session_id, token_command = re.fullmatch(r"\s*(\S+)\s+\(Authorization: Bearer \.\.\.; a new one: (.+)\)",
                                             printed["session"]).groups()
    http = requests.Session()
    http.trust_env, http.verify = False, ca  # the printed CA, not a REQUESTS_CA_BUNDLE from the environment
    sf = Salesforce(instance_url=instance_url, session_id=session_id, session=http)
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] > 0
    issued = subprocess.run([*shlex.split(token_command), "--silent"], capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0 and json.loads(issued.stdout)["access_token"], issued.stdout + issued.stderr


@pytest.mark.postgres
def test_failed_start_cleans_up_and_shows_the_log() -> None:
    # Migration points at a port nothing listens on: the start must fail and leave nothing behind.
    broken = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"}
    stack = AirflowStack("LocalExecutor", dags_folder=DAGS, emulator=False, extra_env=broken)
    with pytest.raises(StackError, match=r"airflow db migrate failed .*db-migrate.log"):
        stack.start()
    _assert_gone(stack, list(stack.pids.values()))
    assert not stack.home.exists()


def test_a_state_file_in_use_is_not_taken_over(tmp_path: Path) -> None:
    state = tmp_path / "stack.json"
    state.write_text("{}")
    stack = AirflowStack("LocalExecutor", dags_folder=DAGS, emulator=False, state_file=state)
    with pytest.raises(StackError, match="another stack owns it"):
        stack.start()
    assert state.read_text() == "{}"
    assert not stack.home.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"executor": "KubernetesExecutor"}, "executor must be one of"),
        ({"executor": "CeleryExecutor", "workers": 0}, "at least one worker"),
        ({"dags_folder": "/nonexistent/dags"}, "does not exist"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AirflowStack(**({"dags_folder": DAGS} | kwargs))


def test_stop_without_a_stack_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.json"
    with pytest.raises(StackError, match="already stopped"):
        stop_stack(missing)
    assert cli(["stop", "--state", str(missing)]) == 1
    assert cli(["status", "--state", str(missing)]) == 1
    assert "no stack state at" in capsys.readouterr().err


def test_unsafe_database_names_are_refused() -> None:
    with pytest.raises(ValueError, match="refusing database name"):
        create_databases(DEFAULT_PG_ADMIN_URL, ['x"; DROP DATABASE test; --'])

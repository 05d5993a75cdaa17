"""The real sync DAG on the real distributed engine (issue #7, items 2 and 3), no Docker.

Each test starts, as processes, a whole Airflow (CeleryExecutor: Redis broker, fresh
PostgreSQL metadata and Sales Connect databases, the Salesforce emulator, scheduler,
dag-processor, api-server and two Celery workers), seeds a 1,000-rep first sync
(``sync_workload``), triggers ``sales_connect_task_sync`` through the REST API and
compares both sides with what a LocalExecutor stack made of the same workload.

Run with ``-s`` (or look at a failure's captured output) to see which worker ran which task.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sync_workload import Seeded, Snapshot, Workload, seed, snapshot

from airflow_stack import AirflowStack
from airflow_stack.procs import wait_until_gone
from task_sync.settings import DAG_ID

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WORKLOAD = Workload()
SHARDS = 8
STACK_ENV = {
    # Enough shards that the mapped extract/diff/load tasks spread over both workers.
    "SALES_CONNECT_SYNC_SHARDS": str(SHARDS),
    # Only the run the test triggers: no scheduled run may take the workload first.
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
}
RUN_TIMEOUT = 300.0


@dataclass(frozen=True)
class SyncOutcome:
    run_id: str
    state: str
    seconds: float
    task_instances: list[dict[str, Any]]
    result: Snapshot


def _seed(stack: AirflowStack) -> Seeded:
    started = time.monotonic()
    seeded = seed(stack, WORKLOAD)
    print(f"\nseeded {WORKLOAD} in {time.monotonic() - started:.1f}s")
    return seeded


def _trigger(stack: AirflowStack) -> str:
    stack.unpause(DAG_ID)
    return stack.trigger(DAG_ID)


def _finish(stack: AirflowStack, seeded: Seeded, run_id: str, started: float, label: str) -> SyncOutcome:
    state = stack.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
    seconds = time.monotonic() - started
    tis = stack.task_instances(DAG_ID, run_id)
    print(f"\n{label}: run {run_id} {state} in {seconds:.1f}s")
    for ti in sorted(tis, key=lambda t: (t["start_date"] or "", t["task_id"], t["map_index"])):
        print(f"  {ti['task_id']:<20} [{ti['map_index']:>2}] try {ti['try_number']} {ti['state']:<8} "
              f"on {ti['hostname']}")
    assert state == "success", stack.explain_failure(DAG_ID, run_id)
    result = snapshot(stack, seeded, run_id)
    print(f"  sync run: {result.run_status}, {result.api_calls} API calls, counts {result.counts}")
    return SyncOutcome(run_id, state, seconds, tis, result)


@contextmanager
def _running(stack: AirflowStack) -> Iterator[set[int]]:
    """Start the stack; on the way out stop it and check every process it ran ended, by pid.

    The yielded set collects pids as the test sees them (components, workers, task processes).
    """
    stack.start()
    seen = set(stack.pids.values())
    try:
        yield seen
    finally:
        seen |= set(stack.all_pids())
        stack.stop()
    assert wait_until_gone(seen, timeout=10) == []


def _local_run() -> SyncOutcome:
    stack = AirflowStack("LocalExecutor", extra_env=STACK_ENV, triggerer=False)
    with _running(stack):
        seeded = _seed(stack)
        return _finish(stack, seeded, _trigger(stack), time.monotonic(), "LocalExecutor")


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory: pytest.TempPathFactory) -> SyncOutcome:
    """The same workload through the LocalExecutor: the reference the Celery runs must equal.

    Under pytest-xdist the two tests may run on different workers; the first to get here runs
    the reference stack, the other waits for it and reads its outcome (one session directory).
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _local_run()
    cache = tmp_path_factory.getbasetemp().parent / "sync-on-celery-local-reference.pickle"
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return pickle.loads(cache.read_bytes())  # written by this session's other worker
        outcome = _local_run()
        cache.write_bytes(pickle.dumps(outcome))
        return outcome


def _assert_same_as_reference(outcome: SyncOutcome, reference: SyncOutcome) -> None:
    assert outcome.result.problems == []
    assert reference.result.problems == []
    assert outcome.result.run_status == reference.result.run_status == "success"
    assert outcome.result.sales_connect == reference.result.sales_connect
    assert outcome.result.salesforce == reference.result.salesforce


def _hosts(outcome: SyncOutcome, task_id: str | None = None) -> set[str]:
    """Where the run's task instances (or those of ``task_id``) ran."""
    return {ti["hostname"] for ti in outcome.task_instances if task_id in (None, ti["task_id"])}


def test_sync_on_two_celery_workers_equals_the_local_executor_run(local_reference: SyncOutcome) -> None:
    stack = AirflowStack("CeleryExecutor", workers=2, extra_env=STACK_ENV)
    with _running(stack):
        seeded = _seed(stack)
        outcome = _finish(stack, seeded, _trigger(stack), time.monotonic(), "CeleryExecutor, 2 workers")

    print(f"\nwall time: LocalExecutor {local_reference.seconds:.1f}s, CeleryExecutor {outcome.seconds:.1f}s; "
          f"API calls {local_reference.result.api_calls} / {outcome.result.api_calls}")
    # Both workers ran shards, and nothing ran anywhere else.
    assert _hosts(outcome) == set(stack.worker_names)
    assert _hosts(outcome, "extract") | _hosts(outcome, "load") == set(stack.worker_names)
    assert {ti["state"] for ti in outcome.task_instances} == {"success"}
    assert sorted(ti["map_index"] for ti in outcome.task_instances if ti["task_id"] == "load") == list(range(SHARDS))
    _assert_same_as_reference(outcome, local_reference)
    assert outcome.result.api_calls == local_reference.result.api_calls
    assert outcome.result.counts == local_reference.result.counts


def _delayed_calls(stack: AirflowStack) -> int:
    """How many Salesforce collection calls have hit the armed delay so far."""
    armed = stack.emulator.faults()["requests"]
    return SHARDS - (armed[0]["remaining"] if armed else 0)


def _running_loads(stack: AirflowStack, run_id: str) -> list[dict[str, Any]]:
    return [ti for ti in stack.task_instances(DAG_ID, run_id) if ti["task_id"] == "load" and ti["state"] == "running"]


def test_a_worker_killed_mid_load_loses_and_duplicates_nothing(local_reference: SyncOutcome) -> None:
    # A killed worker stops heartbeating; the scheduler fails its task instances after this long and
    # Airflow retries them (the DAG's retries=3) on the worker that is left.
    env = {**STACK_ENV, "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30"}
    stack = AirflowStack("CeleryExecutor", workers=2, extra_env=env)
    with _running(stack) as pids:
        seeded = _seed(stack)
        # Every shard's first write to Salesforce (one sObject Collection call) hangs for a while, so
        # a load is caught with its Sales Connect side committed and its Salesforce side in flight.
        stack.emulator.add_fault("delay", count=SHARDS, path="/composite/sobjects", delay_ms=10_000)
        run_id = _trigger(stack)
        started = time.monotonic()
        deadline = time.monotonic() + RUN_TIMEOUT
        while _delayed_calls(stack) == 0:
            assert time.monotonic() < deadline, "no load reached Salesforce"
            state = stack.client.run_state(DAG_ID, run_id)
            assert state in ("queued", "running"), stack.explain_failure(DAG_ID, run_id)
            time.sleep(0.5)
        time.sleep(2.0)  # past its Sales Connect transaction, into the delayed collection call
        victim_loads = [ti for ti in _running_loads(stack, run_id) if ti["hostname"] in stack.worker_names]
        assert victim_loads, "a load reached Salesforce but none is running"
        victim = stack.worker_names.index(victim_loads[0]["hostname"])
        lost = sorted(ti["map_index"] for ti in victim_loads if ti["hostname"] == stack.worker_names[victim])
        pids |= set(stack.all_pids())
        killed = stack.kill_worker(victim)
        print(f"\nkilled {stack.worker_names[victim]} (pids {sorted(killed)}) while it loaded shard(s) {lost}")
        assert stack.worker_pids[victim] in killed and wait_until_gone(killed, timeout=5) == []
        outcome = _finish(stack, seeded, run_id, started, "CeleryExecutor, worker killed mid-load")

    survivor = stack.worker_names[1 - victim]
    retried = {ti["map_index"]: ti for ti in outcome.task_instances if ti["task_id"] == "load"}
    for index in lost:
        # Retried, and on the worker that is left.
        assert retried[index]["try_number"] >= 2 and retried[index]["hostname"] == survivor, retried[index]
    _assert_same_as_reference(outcome, local_reference)

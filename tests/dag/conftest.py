"""Fixtures that run the real ``sales_connect_task_sync`` DAG (``dag.test()``) against the
emulator through ``SalesforceHook`` and the Sales Connect store on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import airflow_runs
import pytest
from dag_harness import SyncHarness

from sf_emulator.process import EmulatorProcess


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(state=tmp_path_factory.mktemp("emulator") / "org.sqlite3") as emu:
        yield emu


@pytest.fixture(scope="session")
def sync_dag(airflow_db: Path):
    """The DAG as Airflow's own loader parses it (once per session)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags["sales_connect_task_sync"]


@pytest.fixture
def harness(
    emulator: EmulatorProcess, sync_dag, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SyncHarness]:
    """A fresh org and a fresh Sales Connect store, wired to the DAG through Airflow connections."""
    emulator.reset()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        json.dumps({"conn_type": "salesforce", "extra": {
            "instance_url": emulator.instance_url, "session_id": emulator.session_id, "ca_bundle": emulator.ca_bundle,
        }}),
    )
    monkeypatch.setenv("SALES_CONNECT_DB_URL", store_url)
    monkeypatch.setenv("SALES_CONNECT_VAR", str(tmp_path))
    monkeypatch.setenv("SALES_CONNECT_SYNC_SHARDS", "2")
    world = SyncHarness(emulator, sync_dag, store_url)
    yield world
    world.close()


@pytest.fixture
def backfill(sync_dag) -> Iterator[Callable[..., list[Any]]]:
    """Makes a real backfill of the DAG (its runs are queued; ``airflow_runs.run_existing`` runs
    one) and forgets it afterwards: Airflow allows one unfinished backfill per DAG."""
    yield lambda from_date, to_date, **kw: airflow_runs.create_backfill(sync_dag, from_date, to_date, **kw)
    airflow_runs.remove_backfills(sync_dag.dag_id)

"""Issue 15 #2: the sync DAG is created unpaused, so a fresh stack (the demo, compose, a user's own
Airflow) syncs without anyone unpausing it; even an Airflow that pauses new DAGs
(``[core] dags_are_paused_at_creation = True``, Airflow's default) creates it unpaused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "sales_connect_task_sync"


def test_the_serialized_dag_says_it_is_created_unpaused(sync_dag) -> None:
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    assert sync_dag.is_paused_upon_creation is False
    assert LazyDeserializedDAG.from_dag(sync_dag).is_paused_upon_creation is False


def test_a_fresh_airflow_that_pauses_new_dags_creates_the_sync_dag_unpaused(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = str(Path(sys.executable).parent / "airflow")

    def cli(*args: str) -> str:
        proc = subprocess.run([airflow, *args], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
        return proc.stdout

    cli("db", "migrate")
    cli("dags", "reserialize")  # what the DAG processor does with a new file
    listed = json.loads(cli("dags", "list", "-o", "json").strip().splitlines()[-1])
    assert [(d["dag_id"], d["is_paused"]) for d in listed] == [(DAG_ID, "False")]

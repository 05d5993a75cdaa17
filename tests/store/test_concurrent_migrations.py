"""Issue 15 #1: every component migrates the store at start, so several may do it at once (the
api-server's workers, the scheduler's first run, ``airflow-init``): concurrent migrations of one
fresh database all succeed, under PostgreSQL's advisory lock or SQLite's lock file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from sales_connect.db import VERSION_TABLE

REPO = Path(__file__).resolve().parents[2]
RACERS = 4


def test_concurrent_migrations_of_a_fresh_store_all_succeed(store_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), os.environ.get("PYTHONPATH", "")])}
    racers = [subprocess.Popen([sys.executable, "-m", "sales_connect", "migrate", "--url", store_url], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(RACERS)]
    outcomes = [(proc.wait(timeout=180), proc.stdout.read() if proc.stdout else "") for proc in racers]
    assert [code for code, _ in outcomes] == [0] * RACERS, [out[-1500:] for code, out in outcomes if code]
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        assert len(versions) == 1
        assert {"users", "tasks", "sync_runs"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

"""``make run``: the sync end to end on the embedded defaults, with a report per rep.

Starts the Salesforce emulator, creates a fresh SQLite Sales Connect store,
seeds the story (``story.py``), switches sync on, runs the real DAG through
Airflow (``airflow dags test``), makes a change of every kind on both sides,
runs again and prints what happened to whom. Everything it writes lives
under ``var/demo/``; Airflow's task logs of each run are kept there too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from simple_salesforce import Salesforce

from sales_connect.db import Store, migrate
from sales_connect_demo.report import print_report
from sales_connect_demo.story import change_everything, seed_history, switch_sync_on
from sf_emulator.process import EmulatorProcess
from task_sync.settings import DAG_ID, var_dir


def _airflow_env(emu: EmulatorProcess, store_url: str, folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = json.dumps({
        "conn_type": "salesforce",
        "extra": {"instance_url": emu.instance_url, "session_id": emu.session_id, "ca_bundle": emu.ca_bundle},
    })
    env["SALES_CONNECT_DB_URL"] = store_url
    env["SALES_CONNECT_VAR"] = str(folder)
    return env


def run_dag(env: dict[str, str], folder: Path, label: str) -> float:
    """One run of the real DAG through Airflow's CLI; its log goes to a file, a summary to the screen."""
    log_path = folder / f"airflow-{label}.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), "dags", "test", DAG_ID],
                              env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        tail = log_path.read_text().splitlines()[-30:]
        raise SystemExit(f"the {label} sync run failed (exit {proc.returncode}); last lines of {log_path}:\n"
                         + "\n".join(tail))
    print(f"  {label} run finished in {elapsed:.0f}s (Airflow log: {log_path})")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sales_connect_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="where the demo's state goes (default var/demo)")
    args = parser.parse_args(argv)
    folder = (args.folder or var_dir() / "demo").resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    store_url = f"sqlite:///{folder / 'sales_connect.db'}"

    print("Sales Connect <-> Salesforce task sync: demo on the embedded defaults")
    print(f"  state in {folder}")
    migrate(store_url)
    store = Store(store_url)
    with EmulatorProcess(state=folder / "salesforce-emulator.db") as emu:
        print(f"  Salesforce emulator at {emu.instance_url}")
        sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())
        now = dt.datetime.now(dt.UTC)
        reps = seed_history(emu, store, sf, now)
        print(f"  seeded {len(reps)} reps: Salesforce tasks from 2 days, 20 hours and 1 hour ago; "
              "Sales Connect tasks that existed before sync")
        switch_sync_on(store, reps, now)
        print("  sync switched on for every rep; first sync through Airflow...")
        env = _airflow_env(emu, store_url, folder)
        run_dag(env, folder, "first")
        done = change_everything(store, sf, reps, dt.datetime.now(dt.UTC))
        for side, what in done.items():
            print(f"  changed in {side.strip()}: {what}")
        print("  second sync through Airflow...")
        run_dag(env, folder, "second")
        print_report(store, sf, reps, dt.datetime.now(dt.UTC))
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

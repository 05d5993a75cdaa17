"""CLI: ``python -m airflow_stack up|stop|status``.

``up`` starts a stack in the background (it keeps running after this command
returns) and prints the UI address and login; ``stop`` ends it from its state
file and drops its databases.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from airflow_stack import procs
from airflow_stack.stack import EXECUTORS, AirflowStack, StackError, load_state, stop_stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m airflow_stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a stack in the background and print its address and login")
    up.add_argument("--state", type=Path, required=True, help="state file to write (pids, databases, login)")
    up.add_argument("--home", type=Path, help="AIRFLOW_HOME to use (default: a new temporary directory)")
    up.add_argument("--executor", choices=EXECUTORS, default="CeleryExecutor")
    up.add_argument("--workers", type=int, default=2, help="Celery workers (CeleryExecutor only)")
    up.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    up.add_argument("--dags-folder", type=Path, help="default: the repository's dags/")
    up.add_argument("--password", help="password for user admin (default: generated, printed)")
    up.add_argument("--no-emulator", action="store_true", help="do not start the Salesforce emulator")
    up.add_argument("--no-triggerer", action="store_true", help="do not start a triggerer")
    for name, text in (("stop", "stop the stack and drop its databases"), ("status", "show the stack's processes")):
        sub.add_parser(name, help=text).add_argument("--state", type=Path, required=True)
    return parser


def _up(args: argparse.Namespace) -> int:
    stack = AirflowStack(
        executor=args.executor,
        workers=args.workers,
        worker_concurrency=args.concurrency,
        dags_folder=args.dags_folder,
        emulator=not args.no_emulator,
        triggerer=not args.no_triggerer,
        password=args.password,
        state_file=args.state,
        home=args.home,
    ).start()
    print(f"Airflow UI:  {stack.base_url}")
    print(f"Login:       {stack.username} / {stack.password}")
    print(f"Sales Connect: {stack.base_url}/sales-connect/command-center  (also /settings, /history)")
    print(
        f"Executor:    {stack.executor}" + (f" with workers {', '.join(stack.worker_names)}" if stack.workers else "")
    )
    if not args.no_emulator:
        for line in _emulator_lines(stack):
            print(line)
    print(f"Logs:        {stack.home / 'logs'}")
    print(f"Stop with:   {_stop_command(args.state)}")
    return 0


def _emulator_lines(stack: AirflowStack) -> list[str]:
    """Where the stack's Salesforce emulator is and how to get a session on it (issue 15 #5)."""
    emu = stack.emulator
    info = emu.info()
    ca = shlex.quote(str(emu.ca_bundle))
    token = (f"curl --cacert {ca} {emu.instance_url}/services/oauth2/token -d grant_type=client_credentials "
             f"-d client_id={info['consumer_key']} -d client_secret={info['consumer_secret']}")
    return [
        f"Salesforce:  {emu.instance_url}  (the emulator; its CA: {emu.ca_bundle})",
        f"  session:   {emu.session_id}  (Authorization: Bearer ...; a new one: {token})",
        f"  control:   {emu.control_url}  (clock, seed, faults; not Salesforce's API)",
    ]


def _stop_command(state: Path) -> str:
    """A stop command that works from any shell: this interpreter (the venv's), not a bare ``python``."""
    return f"{shlex.quote(sys.executable)} -m airflow_stack stop --state {shlex.quote(str(state.resolve()))}"


def _status(args: argparse.Namespace) -> int:
    state = load_state(args.state)
    rows = []
    for raw in state["processes"]:
        record = procs.ProcessRecord(**raw)
        rows.append({"name": record.name, "pid": record.pid, "alive": record.process() is not None})
    print(json.dumps({"base_url": state["base_url"], "username": state["username"], "processes": rows}, indent=2))
    return 0 if all(r["alive"] for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            return _up(args)
        if args.command == "status":
            return _status(args)
        ended = stop_stack(args.state)
        print(f"stopped {len(ended)} processes; databases dropped")
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Starting stack processes in their own process groups and ending them for sure.

Every component starts in a new session so one ``killpg`` reaches its helpers
(uvicorn and Celery pool children, log servers). Airflow's task supervisor
moves each task process into a group of its own, so stopping also walks the
process tree (psutil) and signals every descendant it finds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class ProcessRecord:
    """What the state file keeps about one started process.

    ``create_time`` guards against killing an unrelated process that later
    reused the pid (the state file may outlive the stack).
    """

    name: str
    pid: int
    create_time: float
    log: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def process(self) -> psutil.Process | None:
        """The live process this record names, or None if it is gone or the pid was reused."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.NoSuchProcess:
            return None


def spawn(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path
) -> tuple[subprocess.Popen, ProcessRecord]:
    """Start ``argv`` detached (new session), stdout+stderr appended to ``log_dir/name.log``."""
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    create_time = psutil.Process(popen.pid).create_time()
    return popen, ProcessRecord(name=name, pid=popen.pid, create_time=create_time, log=str(log_path))


def is_alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie has exited: it only waits to be reaped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def process_tree(records: Iterable[ProcessRecord]) -> list[psutil.Process]:
    """The live processes named by ``records`` plus all their descendants."""
    found: dict[int, psutil.Process] = {}
    for record in records:
        root = record.process()
        if root is None:
            continue
        found[root.pid] = root
        try:
            for child in root.children(recursive=True):
                found[child.pid] = child
        except psutil.NoSuchProcess:
            continue
    return list(found.values())


def _signal_all(procs: Iterable[psutil.Process], sig: signal.Signals) -> None:
    for proc in procs:
        try:
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue


def terminate(records: Iterable[ProcessRecord], grace: float = 15.0) -> list[int]:
    """SIGTERM every process of ``records`` and their descendants; SIGKILL what outlives ``grace``.

    Returns the pids that were signalled, so callers can verify none survived.
    """
    procs = process_tree(records)
    _signal_all(procs, signal.SIGTERM)
    alive = _wait_dead(procs, grace)
    if alive:
        # A Celery warm shutdown waits for running tasks; a stack stop must not.
        alive += [c for p in alive for c in _children(p)]
        _signal_all(alive, signal.SIGKILL)
        _wait_dead(alive, 5.0)
    return [p.pid for p in procs]


def kill_now(records: Iterable[ProcessRecord]) -> list[int]:
    """SIGKILL a component and every descendant at once, the way a crashed machine loses them."""
    procs = process_tree(records)
    _signal_all(procs, signal.SIGKILL)
    _wait_dead(procs, 5.0)
    return [p.pid for p in procs]


def _wait_dead(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` for ``procs`` to exit; return those still running.

    Our own children are reaped here. An orphan's zombie counts as gone: when
    the stack was started by another command, its processes belong to init,
    which may reap them late.
    """
    deadline = time.monotonic() + timeout
    remaining = list(procs)
    while True:
        still = []
        for proc in remaining:
            try:
                proc.wait(timeout=0)
            except psutil.TimeoutExpired:
                if is_alive(proc.pid):
                    still.append(proc)
            except psutil.NoSuchProcess:
                continue
        remaining = still
        if not remaining or time.monotonic() >= deadline:
            return remaining
        time.sleep(0.1)


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_until_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Pids from ``pids`` still alive after ``timeout`` seconds (empty when all ended)."""
    deadline = time.monotonic() + timeout
    remaining = [pid for pid in pids if is_alive(pid)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.2)
        remaining = [pid for pid in remaining if is_alive(pid)]
    return remaining

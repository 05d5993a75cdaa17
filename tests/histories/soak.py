"""Runs many seeded histories and prints what happened; shrinks the ones that break an invariant.

    python tests/histories/soak.py --seed 2000 --histories 30 [--postgres] [--shrink] [--verbose]

``make soak SEED=… HISTORIES=… SOAK_ARGS=…`` calls this. Each history gets a fresh emulator org
(one emulator process for all) and a fresh store (SQLite, or a throw-away PostgreSQL database).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("SALES_CONNECT_SYNC_SHARDS", "2")

from generator import HistoryGenerator, Step  # noqa: E402
from player import Outcome, Player  # noqa: E402
from shrink import regression_test, shrink  # noqa: E402
from world import World  # noqa: E402

from airflow_stack.pg import scratch_database  # noqa: E402
from sf_emulator.process import EmulatorProcess  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@contextmanager
def store_url(folder: Path, postgres: bool) -> Iterator[str]:
    """A fresh empty store for one history (dropped afterwards when on PostgreSQL)."""
    if not postgres:
        yield f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_database(PG_ADMIN_URL, "sc_soak") as url:
        yield url


def play(emu: EmulatorProcess, folder: Path, steps: list[Step], *, postgres: bool = False) -> Outcome:
    """One history on a fresh org and a fresh store."""
    with store_url(folder, postgres) as url:
        world = World(emu, url)
        try:
            return Player(world).play(steps)
        finally:
            world.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--histories", type=int, default=10)
    parser.add_argument("--length", type=int, default=40, help="steps per history")
    parser.add_argument("--minutes", type=float, default=0, help="stop starting histories after this long")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--shrink", action="store_true", help="shrink failing histories and print a test")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="sc-soak-"))
    os.environ.setdefault("SALES_CONNECT_VAR", str(folder))
    totals = {"histories": 0, "steps": 0, "runs": 0, "faults": 0, "violations": 0}
    failing: list[tuple[int, str]] = []
    started = time.monotonic()
    with EmulatorProcess(state=folder / "org.sqlite3") as emu:
        for seed in range(args.seed, args.seed + args.histories):
            if args.minutes and time.monotonic() - started > args.minutes * 60:
                break
            steps = HistoryGenerator(seed, args.length).history()
            outcome = play(emu, folder, steps, postgres=args.postgres)
            totals["histories"] += 1
            for key in ("steps", "runs", "faults"):
                totals[key] += getattr(outcome, key)
            totals["violations"] += len(outcome.violations)
            for violation in outcome.violations:
                print(f"seed {seed}: {violation}", flush=True)
            if outcome.violations:
                failing.append((seed, outcome.violations[0].rule))
                if args.shrink:
                    _shrink_and_print(emu, folder, seed, steps, outcome.violations[0].rule, args.postgres)
            elif args.verbose:
                print(f"seed {seed}: ok ({outcome.steps} steps, {outcome.runs} runs)", flush=True)
    elapsed = time.monotonic() - started
    print(f"histories run: {totals['histories']}; steps: {totals['steps']}; runs: {totals['runs']}; "
          f"faults injected: {totals['faults']}; invariant violations: {totals['violations']}"
          f" (in {len(failing)} histories); {totals['steps'] / elapsed:.1f} steps/s; {elapsed:.0f} s")
    return 1 if failing else 0


def _shrink_and_print(emu: EmulatorProcess, folder: Path, seed: int, steps: list[Step], rule: str,
                      postgres: bool) -> None:
    def replay(candidate: list[Step]) -> set[str]:
        return {v.rule for v in play(emu, folder, candidate, postgres=postgres).violations}

    small = shrink(steps, rule, replay)
    print(f"seed {seed}: shrunk {len(steps)} -> {len(small)} steps\n")
    print(regression_test(f"seed_{seed}_{rule}", small, rule, seed), flush=True)


if __name__ == "__main__":
    sys.exit(main())

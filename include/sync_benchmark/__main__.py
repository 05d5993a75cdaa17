"""``make bench``: run every scenario in its own process and print one table.

``make bench BENCH_ARGS="--sizes 1000 10000"`` runs smaller; the default is
1k, 10k and 100k changes each way, no-change runs with 10 and 1,000 users,
and the naive per-record client at 1k (its cost grows linearly from there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _run(scenario: str, size: int, **env: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "sync_benchmark.scenarios", scenario, str(size)],
                          capture_output=True, text=True, check=False, env={**os.environ, **env})
    if proc.returncode != 0:
        raise SystemExit(f"scenario {scenario} {size} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync_benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--idle-users", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--naive-size", type=int, default=1000)
    parser.add_argument("--rep-wait", type=int, metavar="TASKS",
                        help="only time a rep's saves during a first sync of TASKS tasks (make bench-rep-wait)")
    args = parser.parse_args(argv)
    if args.rep_wait:
        return _rep_wait_table(args.rep_wait)

    print(f"{'changes each way':>17} {'moved':>7} {'seconds':>8} {'records/s':>10} {'API calls':>10} "
          f"{'floor':>6} {'peak RSS MB':>12}")
    for size in args.sizes:
        r = _run("each-way", size)
        print(f"{size:>17,} {r['records_moved']:>7,} {r['seconds']:>8} {r['records_per_s']:>10,} "
              f"{r['api_calls']:>10} {r['floor']:>6} {r['peak_rss_mb']:>12}", flush=True)
    naive = _run("naive", args.naive_size)
    ours = _run("each-way", args.naive_size)
    print(f"\nnaive per-record client, {args.naive_size:,} each way: {naive['seconds']}s, "
          f"{naive['records_per_s']:,} records/s, {naive['api_calls']:,} API calls "
          f"(sync: {ours['seconds']}s, {ours['api_calls']} calls -> {naive['api_calls'] / ours['api_calls']:.0f}x "
          f"fewer calls, {ours['records_per_s'] / max(naive['records_per_s'], 1):.1f}x the throughput)")
    print()
    for users in args.idle_users:
        r = _run("no-change", users)
        print(f"no-change run with {users:,} enabled users: {r['api_calls']} API calls")
    return 0


def _rep_wait_table(tasks: int) -> int:
    """A rep's save during a big first sync, batched load against the one-transaction load it replaced."""
    server = os.environ.get("BENCH_STORE", PG_SERVER)
    print(f"a rep saves every 50 ms while a first sync brings {tasks:,} tasks in")
    print(f"{'store':>11} {'load batch':>11} {'seconds':>8} {'saves':>6} {'failed':>7} {'median ms':>10} "
          f"{'p99 ms':>8} {'max ms':>8}")
    for store, env in (("postgresql", {"BENCH_STORE": server}), ("sqlite", {})):
        for batch in (500, tasks):
            r = _run("rep-wait", tasks, BENCH_LOAD_BATCH=str(batch), **env)
            print(f"{store:>11} {batch:>11,} {r['seconds']:>8} {r['saves']:>6} {r['failed_saves']:>7} "
                  f"{r['wait_ms_median']:>10} {r['wait_ms_p99']:>8} {r['wait_ms_max']:>8}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

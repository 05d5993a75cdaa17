"""``make bench``: run every scenario in its own process and print one table.

``make bench BENCH_ARGS="--sizes 1000 10000"`` runs smaller; the default is
1k, 10k and 100k changes each way, no-change runs with 10 and 1,000 users,
and the naive per-record client at 1k (its cost grows linearly from there).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any


def _run(scenario: str, size: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "sync_benchmark.scenarios", scenario, str(size)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"scenario {scenario} {size} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync_benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--idle-users", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--naive-size", type=int, default=1000)
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())

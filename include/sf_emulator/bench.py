"""`python -m sf_emulator.bench`: how fast the emulator serves the sync's heavy calls, and what it costs.

Starts an emulator (a state file in a temporary directory), seeds `--tasks`
tasks through the control plane's bulk generator, of which the newest
`--changed` carry a SystemModstamp after a watermark, then measures through
simple-salesforce over HTTPS:

* a paginated `queryAll` of the changed tasks (`query_all_iter`, 2,000 per page),
* a Bulk API 2.0 `queryAll` job over the same changed tasks,
* sObject Collection upserts by external id, 200 records per call (inserting, then updating),
* Bulk API 2.0 upsert jobs (inserting, then updating),
* a Bulk API 1.0 queryAll of the changed tasks and a Bulk 1.0 insert job (`sf.bulk`, 10,000 records a batch),

and reports records/s, the API calls each step spent (from the emulator's
counters) and the emulator process's resident memory before seeding, after
seeding and at the end. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psutil
from simple_salesforce import Salesforce

from sf_emulator.process import EmulatorProcess

EXTERNAL_ID = "Sales_Connect_Id__c"
QUERY_PAGE = 2000
COLLECTION_BATCH = 200
SEED_CHUNK = 100_000
BULK_QUERY_PAGE = 50_000
FIELDS = "Id, Subject, Status, Priority, OwnerId, ActivityDate, IsDeleted, SystemModstamp, Sales_Connect_Id__c"


@dataclass
class Step:
    name: str
    records: int
    seconds: float
    calls: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else float("inf")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sf_emulator.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks in the org (default 1,000,000)")
    parser.add_argument("--changed", type=int, default=100_000,
                        help="of those, tasks changed after the watermark (default 100,000)")
    parser.add_argument("--upserts", type=int, default=20_000,
                        help="records upserted through sObject Collections and again through Bulk 2.0 "
                             "(default 20,000)")
    args = parser.parse_args(argv)
    if not 0 < args.changed <= args.tasks:
        parser.error("--changed must be between 1 and --tasks")
    if args.upserts < 1:
        parser.error("--upserts must be positive")
    return args


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def _emulator_pid() -> int:
    """The emulator is this process's only `python -m sf_emulator` child."""
    for child in psutil.Process().children():
        if "sf_emulator" in child.cmdline():
            return child.pid
    raise RuntimeError("the emulator process is not a child of this process")


class Bench:
    def __init__(self, emu: EmulatorProcess, sf: Salesforce) -> None:
        self.emu = emu
        self.sf = sf
        self.steps: list[Step] = []
        #: Ingest jobs of the last Bulk step: their server-side processing time is reported apart from the
        #: client's wall time, which includes simple-salesforce's polling back-off.
        self.bulk_job_ids: list[str] = []

    def measure(self, name: str, work: Callable[[], int]) -> None:
        """Run `work` (returns how many records it handled), timing it and counting the API calls it made."""
        before = self.emu.counters()["total"]
        started = time.perf_counter()
        records = work()
        seconds = time.perf_counter() - started
        self.steps.append(Step(name, records, seconds, self.emu.counters()["total"] - before))
        print(f"  {name}: {records:,} records in {seconds:.1f}s", file=sys.stderr, flush=True)

    # -- the steps -------------------------------------------------------------------------------------------
    def seed(self, tasks: int, changed: int, watermark: datetime, now: datetime) -> int:
        """Unchanged tasks stamped over the 30 days before the watermark, changed ones after it, in chunks."""
        windows = [(tasks - changed, watermark - timedelta(days=30), watermark - timedelta(seconds=1)),
                   (changed, watermark + timedelta(seconds=1), now - timedelta(seconds=1))]
        for count, start, end in windows:
            step = (end - start) / max(count, 1)
            for first in range(0, count, SEED_CHUNK):
                size = min(SEED_CHUNK, count - first)
                self.emu.generate_tasks(size, modstamp_from=_iso(start + step * first),
                                        modstamp_to=_iso(start + step * (first + size)),
                                        subject_prefix=f"Bench task {first}")
        return tasks

    def rest_query_all(self, soql: str) -> int:
        headers = {"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"}
        return sum(1 for _ in self.sf.query_all_iter(soql, include_deleted=True, headers=headers))

    def collection_upserts(self, keys: Iterator[str], subject: str) -> int:
        done = 0
        batch: list[dict] = []
        for key in [*keys, None]:
            if key is not None:
                batch.append({"attributes": {"type": "Task"}, EXTERNAL_ID: key, "Subject": f"{subject} {key}"})
            if batch and (len(batch) == COLLECTION_BATCH or key is None):
                results = self.sf.restful(f"composite/sobjects/Task/{EXTERNAL_ID}", method="PATCH",
                                          json={"allOrNone": False, "records": batch})
                failed = [r for r in results or [] if not r["success"]]
                if failed:
                    raise RuntimeError(f"collection upsert failed: {failed[0]}")
                done += len(batch)
                batch = []
        return done

    def bulk_query_all(self, soql: str) -> int:
        pages = self.sf.bulk2.Task.query_all(soql, max_records=BULK_QUERY_PAGE, wait=0.1)
        return sum(sum(1 for _ in csv.DictReader(io.StringIO(page))) for page in pages)

    def bulk_upsert(self, keys: list[str]) -> int:
        records = [{EXTERNAL_ID: key, "Subject": f"Bulk upserted {key}"} for key in keys]
        results = self.sf.bulk2.Task.upsert(records=records, external_id_field=EXTERNAL_ID, wait=0.1)
        failed = sum(r["numberRecordsFailed"] for r in results)
        if failed:
            raise RuntimeError(f"bulk upsert: {failed} records failed")
        self.bulk_job_ids = [r["job_id"] for r in results]
        return sum(r["numberRecordsProcessed"] for r in results)

    def bulk1_insert(self, keys: list[str]) -> int:
        results = self.sf.bulk.Task.insert([{EXTERNAL_ID: key, "Subject": f"Bulk 1.0 inserted {key}"} for key in keys])
        failed = [r for r in results if not r["success"]]
        if failed:
            raise RuntimeError(f"bulk 1.0 insert: {len(failed)} records failed, first {failed[0]}")
        return len(results)

    def bulk1_query_all(self, soql: str) -> int:
        return len(self.sf.bulk.Task.query_all(soql, wait=1))

    def bulk_processing_note(self) -> str:
        """How long the emulator itself spent on the last Bulk step's jobs (`totalProcessingTime`)."""
        infos = [self.sf.restful(f"jobs/ingest/{job_id}") for job_id in self.bulk_job_ids]
        records = sum(info["numberRecordsProcessed"] for info in infos)
        seconds = sum(info["totalProcessingTime"] for info in infos) / 1000
        rate = records / seconds if seconds else float("inf")
        return f"{self.steps[-1].name}: processed by the emulator in {seconds:.2f}s ({rate:,.0f} records/s)"


def _table(steps: list[Step]) -> str:
    lines = [f"{'step':<52} {'records':>10} {'seconds':>9} {'records/s':>11} {'API calls':>10}",
             "-" * 96]
    lines += [f"{s.name:<52} {s.records:>10,} {s.seconds:>9.2f} {s.rate:>11,.0f} {s.calls:>10,}" for s in steps]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sf-emulator-bench-") as tmp, \
            EmulatorProcess(state=Path(tmp) / "org.sqlite3", log_path=Path(tmp) / "emulator.log") as emu:
        pid = _emulator_pid()
        memory = {"idle, before seeding": _rss_mib(pid)}
        sf = Salesforce(instance_url=emu.instance_url, session_id=emu.session_id, session=emu.requests_session())
        bench = Bench(emu, sf)
        now = emu.clock()
        watermark = now - timedelta(days=1)
        print(f"seeding {args.tasks:,} tasks ({args.changed:,} changed after {_iso(watermark)})", file=sys.stderr)
        bench.measure("seed through the control plane (generate_tasks)",
                      lambda: bench.seed(args.tasks, args.changed, watermark, now))
        memory["idle, after seeding"] = _rss_mib(pid)

        since = _iso(watermark)[:19] + "Z"
        changed = f"SELECT {FIELDS} FROM Task WHERE SystemModstamp > {since} ORDER BY SystemModstamp"  # noqa: S608
        keys = [f"bench-{n}" for n in range(args.upserts)]
        bench.measure(f"REST queryAll of changed tasks ({QUERY_PAGE:,}/page)", lambda: bench.rest_query_all(changed))
        bench.measure(f"Bulk 2.0 queryAll job of changed tasks ({BULK_QUERY_PAGE:,}/page)",
                      lambda: bench.bulk_query_all(changed))
        bench.measure("Bulk 1.0 queryAll job of changed tasks", lambda: bench.bulk1_query_all(changed))
        bench.measure(f"Collections upsert, inserting ({COLLECTION_BATCH}/call)",
                      lambda: bench.collection_upserts(iter(keys), "Inserted"))
        bench.measure(f"Collections upsert, updating ({COLLECTION_BATCH}/call)",
                      lambda: bench.collection_upserts(iter(keys), "Updated"))
        bulk_keys = [f"bench-bulk-{n}" for n in range(args.upserts)]
        notes = []
        for phase in ("inserting", "updating"):
            bench.measure(f"Bulk 2.0 upsert job, {phase}", lambda: bench.bulk_upsert(bulk_keys))
            notes.append(bench.bulk_processing_note())
        bench.measure("Bulk 1.0 insert job (10,000/batch)",
                      lambda: bench.bulk1_insert([f"bench-bulk1-{n}" for n in range(args.upserts)]))
        memory["after the runs"] = _rss_mib(pid)
        counters = emu.counters()

    print(f"\nSalesforce emulator benchmark: {args.tasks:,} tasks, {args.changed:,} changed after the watermark, "
          f"{args.upserts:,} upserts per write step\n")
    print(_table(bench.steps))
    print("\nBulk 2.0 wall times include simple-salesforce's polling back-off (wait=0.1s, growing to ~3s):")
    print("\n".join(f"  {note}" for note in notes))
    print("\nAPI calls by resource:", ", ".join(f"{k}={v:,}" for k, v in counters["by_resource"].items()))
    print("Emulator RSS: " + "; ".join(f"{label} {mib:,.0f} MiB" for label, mib in memory.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

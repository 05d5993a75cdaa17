"""SOQL execution with Salesforce's paging: totalSize, batches and `nextRecordsUrl` locators.

The first call resolves the whole match set to an ordered list of SQLite rowids
(cheap even for a million rows, and a stable snapshot like Salesforce's server
side cursor); each page then fetches its rows by rowid. That keeps every page
O(batch) instead of OFFSET's O(position), so paging through a million tasks
stays linear.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime

from sf_emulator.custom_fields import CustomFields
from sf_emulator.ids import make_id
from sf_emulator.records import record_json
from sf_emulator.schema import OBJECTS, ObjectSchema
from sf_emulator.soql import CompiledQuery, SoqlError, compile_soql
from sf_emulator.storage import Store
from sf_emulator.wire import ApiError

DEFAULT_BATCH = 2000
MIN_BATCH = 200
CURSOR_IDLE_SECONDS = 15 * 60
MAX_OPEN_CURSORS = 200
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size_from(header: str | None) -> int:
    """The page size asked for in `Sforce-Query-Options` (clamped to 200..2000), or 2000."""
    match = _BATCH_RE.search(header or "")
    if not match:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(match.group(1))))


@dataclass
class _Cursor:
    locator: str
    schema: ObjectSchema
    names: list[str]
    rowids: array
    all_rows: bool
    last_used: float = field(default_factory=time.monotonic)


class QueryEngine:
    """Runs queries against the store and keeps the cursors behind `nextRecordsUrl`."""

    def __init__(self, store: Store, pod: str, custom_fields: CustomFields | None = None) -> None:
        self._store = store
        self._custom_fields = custom_fields or CustomFields(store)
        self._pod = pod
        self._cursors: dict[str, _Cursor] = {}
        self._lock = threading.Lock()
        self._locator_numbers = itertools.count(int(time.time()) % 1_000_000 * 1000)

    def execute(self, soql: str, *, all_rows: bool, batch_size: int, version: str, now: datetime, tz: str) -> dict:
        """Answer `GET query?q=` (or `queryAll` when `all_rows`)."""
        try:
            compiled = compile_soql(soql, self._custom_fields.soql_objects(), now=now, include_deleted=all_rows, tz=tz)
        except SoqlError as exc:
            raise ApiError(400, exc.error_code, exc.message) from None
        schema = self._custom_fields.effective(OBJECTS[compiled.obj.name.lower()])
        table = compiled.obj.table
        window, window_params = self._limit_clause(compiled.limit, compiled.offset)
        if compiled.is_count:
            sql = f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} WHERE {compiled.where_sql} {window})"  # noqa: S608
            total = self._store.read(sql, [*compiled.params, *window_params])[0]["n"]
            return {"totalSize": total, "done": True, "records": []}
        cursor = _Cursor("", schema, [f.name for f in compiled.fields], self.matching_rowids(compiled), all_rows)
        return self._page(cursor, 0, batch_size, version)

    def matching_rowids(self, compiled: CompiledQuery) -> array:
        """The rowids a compiled (non-COUNT) query matches, in its order: the snapshot its pages are read from.

        Shared with Bulk API 2.0 query jobs, which page the same snapshot as CSV.
        """
        window, window_params = self._limit_clause(compiled.limit, compiled.offset)
        # Without ORDER BY the order is undefined (as in Salesforce); forcing rowid order would
        # make SQLite scan the table instead of using the index the WHERE clause can.
        order = f"ORDER BY {compiled.order_sql}, rowid" if compiled.order_sql else ""
        sql = f"SELECT rowid FROM {compiled.obj.table} WHERE {compiled.where_sql} {order} {window}"  # noqa: S608
        with self._store.transaction() as conn:
            return array("q", (r[0] for r in conn.execute(sql, [*compiled.params, *window_params])))

    def more(self, locator_segment: str, *, batch_size: int, version: str) -> dict:
        """Answer `GET query/<locator>-<position>` or `queryAll/...`.

        The locator is the server-side cursor: it carries whether it was opened by `queryAll`,
        and either resource continues it (jsforce always continues at `query/`, against real orgs too).
        """
        locator, _, position_text = locator_segment.rpartition("-")
        with self._lock:
            self._expire_idle()
            cursor = self._cursors.get(locator)
        if cursor is None or not position_text.isdigit() or int(position_text) >= len(cursor.rowids):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        cursor.last_used = time.monotonic()
        return self._page(cursor, int(position_text), batch_size, version)

    @staticmethod
    def _limit_clause(limit: int | None, offset: int | None) -> tuple[str, list[int]]:
        if limit is None and offset is None:
            return "", []
        return "LIMIT ? OFFSET ?", [-1 if limit is None else limit, offset or 0]

    def _page(self, cursor: _Cursor, position: int, batch_size: int, version: str) -> dict:
        page_ids = cursor.rowids[position:position + batch_size]
        records = self._fetch(cursor, page_ids, version)
        end = position + len(page_ids)
        result: dict = {"totalSize": len(cursor.rowids), "done": end >= len(cursor.rowids)}
        if not result["done"]:
            if not cursor.locator:
                self._register(cursor)
            resource = "queryAll" if cursor.all_rows else "query"
            result["nextRecordsUrl"] = f"/services/data/v{version}/{resource}/{cursor.locator}-{end}"
        elif cursor.locator:
            with self._lock:
                self._cursors.pop(cursor.locator, None)
        result["records"] = records
        return result

    def _fetch(self, cursor: _Cursor, rowids: array, version: str) -> list[dict]:
        if not rowids:
            return []
        columns = ", ".join(f'"{name}"' for name in dict.fromkeys(["Id", *cursor.names]))
        sql = (f"SELECT rowid AS emu_rowid, {columns} FROM {cursor.schema.table}"  # noqa: S608
               f" WHERE rowid IN ({', '.join('?' * len(rowids))})")
        by_rowid = {row["emu_rowid"]: row for row in self._store.read(sql, list(rowids))}
        return [record_json(cursor.schema, by_rowid[r], cursor.names, version) for r in rowids if r in by_rowid]

    def _register(self, cursor: _Cursor) -> None:
        cursor.locator = make_id("01g", self._pod, next(self._locator_numbers))
        with self._lock:
            self._expire_idle()
            if len(self._cursors) >= MAX_OPEN_CURSORS:
                oldest = min(self._cursors.values(), key=lambda c: c.last_used)
                del self._cursors[oldest.locator]
            self._cursors[cursor.locator] = cursor

    def _expire_idle(self) -> None:
        cutoff = time.monotonic() - CURSOR_IDLE_SECONDS
        for locator in [k for k, c in self._cursors.items() if c.last_used < cutoff]:
            del self._cursors[locator]

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()

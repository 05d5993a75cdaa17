"""One emulated org: the object every router reaches its storage, clock and accounting through.

`Emulator` bundles the parts (store, clock, accounting, faults, sessions,
records, queries) and the org-wide actions that span several of them (clock
moves that purge the recycle bin, the archiver, reset and seeding). A FastAPI
route gets it with `sf_emulator.api.emulator(request)` or, for Salesforce API
routes, through the `ApiCall` dependency (see `api.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sf_emulator.accounting import DEFAULT_DAILY_LIMIT, ApiAccounting
from sf_emulator.clock import Clock
from sf_emulator.custom_fields import CustomFields
from sf_emulator.faults import Faults
from sf_emulator.ids import make_id
from sf_emulator.query import QueryEngine
from sf_emulator.records import CallContext, Records
from sf_emulator.sessions import Sessions
from sf_emulator.storage import Store
from sf_emulator.tasks import RECYCLE_BIN_RETENTION, archive_tasks, purge_recycle_bin
from sf_emulator.wire import parse_datetime, to_storage

POD = "5e0000"
REPLICATION_ID_LIMIT = 600_000


class Emulator:
    """The state of one org, shared by all routes of one server process."""

    def __init__(self, state: str, *, api_limit: int | None = None) -> None:
        self.store = Store(state)
        self.clock = Clock(timedelta(seconds=float(self.store.get_meta("clock_offset_seconds") or 0)))
        self.faults = Faults()
        self.default_api_limit = api_limit or DEFAULT_DAILY_LIMIT
        self.accounting = ApiAccounting(self.store, self.clock, self.default_api_limit)
        if api_limit is not None:
            self.accounting.set_limit(api_limit)
        self.org_id = make_id("00D", POD, 1)
        self.sessions = Sessions(self.store, self.clock, self.org_id)
        self.custom_fields = CustomFields(self.store)
        self.records = Records(self.store, self.faults, POD, self.custom_fields)
        self.queries = QueryEngine(self.store, POD, self.custom_fields)
        #: getUpdated/getDeleted answer EXCEEDED_ID_LIMIT above this many ids (600,000 in Salesforce).
        self.replication_id_limit = REPLICATION_ID_LIMIT
        #: https://127.0.0.1:<port>, set once the listening socket is bound.
        self.base_url = ""
        self.purge()

    # -- who is calling ----------------------------------------------------------------------------------------
    def context(self, user_id: str, client: str | None) -> CallContext:
        return CallContext(user_id=user_id, client=client, now=self.clock.now())

    @property
    def api_user_id(self) -> str | None:
        """The org's integration user: the user the start-up session and client_credentials logins run as."""
        return self.store.get_meta("api_user_id")

    def user_time_zone(self, user_id: str) -> str:
        rows = self.store.read("SELECT TimeZoneSidKey FROM sf_user WHERE Id = ?", (user_id,))
        return rows[0]["TimeZoneSidKey"] if rows and rows[0]["TimeZoneSidKey"] else "UTC"

    # -- time --------------------------------------------------------------------------------------------------
    def set_clock(self, moment: datetime) -> None:
        self.clock.set(moment)
        self._clock_moved()

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._clock_moved()

    def _clock_moved(self) -> None:
        self.store.set_meta("clock_offset_seconds", str(self.clock.offset.total_seconds()))
        self.purge()

    # -- background jobs ---------------------------------------------------------------------------------------
    def purge(self) -> None:
        """Empty the recycle bin of rows deleted more than 15 days ago (Salesforce does this continuously)."""
        self.empty_recycle_bin(self.clock.now() - RECYCLE_BIN_RETENTION)

    def empty_recycle_bin(self, before: datetime | None = None) -> int:
        """Hard-delete recycle-bin rows deleted before ``before`` (default: all of them), as an
        administrator's "Empty Recycle Bin" or Salesforce's early purge of a large delete log does.

        ``deleted/`` then reports the last purged deletion as ``earliestDateAvailable``: deletions
        before it are gone for good, and a replication client must resynchronise. Returns the
        number of rows purged.
        """
        cutoff = before or self.clock.now() + timedelta(seconds=1)
        with self.store.transaction() as conn:
            count, latest = purge_recycle_bin(conn, cutoff)
            if latest is not None:
                # Never moves back: a purge under a clock set back cannot restore what was purged.
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('last_purged_deletion', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)", (latest,))
        return count

    def archive(self) -> int:
        """Run the activity archiver now; returns how many tasks it archived."""
        with self.store.transaction() as conn:
            return archive_tasks(conn, self.clock.now())

    def undelete(self, record_ids: list[str]) -> list[str]:
        """Restore tasks from the recycle bin, as the UI's Undelete (or SOAP ``undelete()``) does.

        Salesforce stamps the restore as a modification (LastModifiedDate, SystemModstamp), so a
        replication reader sees the record again; ids not in the bin are left out of the answer.
        """
        now = to_storage(self.clock.now())
        restored = []
        with self.store.transaction() as conn:
            for record_id in record_ids:
                cursor = conn.execute(
                    "UPDATE task SET IsDeleted = 0, emu_deleted_at = NULL, LastModifiedDate = ?, SystemModstamp = ?"
                    " WHERE Id = ? AND IsDeleted = 1", (now, now, record_id))
                if cursor.rowcount:
                    restored.append(record_id)
        return restored

    def earliest_deleted_available(self) -> str:
        """Storage text of the oldest deletion `deleted/` can still report.

        The recycle bin keeps 15 days, so that is now - 15 days, unless the clock
        was moved back after a purge: rows deleted up to the last purged deletion are gone.
        """
        horizon = to_storage(self.clock.now() - RECYCLE_BIN_RETENTION)
        purged = self.store.get_meta("last_purged_deletion")
        # Stamps are whole seconds: the second after the last purged deletion is the first still reported.
        return max(horizon, to_storage(parse_datetime(purged) + timedelta(seconds=1)) if purged else horizon)

    # -- reset -------------------------------------------------------------------------------------------------
    def wipe(self) -> None:
        """An empty org on real time with fresh counters, no faults, no cursors; sessions are kept."""
        self.store.wipe()
        self.custom_fields.clear()
        self.clock.reset()
        self.accounting.reset()
        self.accounting.set_limit(self.default_api_limit)
        self.faults.clear()
        self.queries.clear()
        self.replication_id_limit = REPLICATION_ID_LIMIT

    def close(self) -> None:
        self.store.close()

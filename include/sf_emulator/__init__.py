"""A Salesforce REST API emulator: a real HTTPS server the unmodified clients accept.

Imports nothing from the sync; the sync must not import it either (tests and
the demo start it as a separate process: `python -m sf_emulator`, or
`sf_emulator.process.EmulatorProcess`).

Module map:

- `__main__`  the command line; prints the connection JSON as its first stdout line
- `process`   `EmulatorProcess`: start/stop it as a subprocess and drive the control plane
- `app`       the FastAPI app: routers, fault/limit-header middleware, Salesforce-shaped errors
- `api`       what API routers share: `api_call(family)` (session + accounting), `JsonBody`, `emulator()`
- `org`       `Emulator`: one org's store, clock, accounting, faults, sessions, records and queries
- `routers/`  one APIRouter per resource family (versions, limits, sobjects, query, collections,
              auth, control, bulk2)
- `records`   row writes/reads with Salesforce's validation; `tasks` Task-only rules, archiver, purge
- `query`     SOQL execution and `nextRecordsUrl` cursors; `replication` updated/ and deleted/
- `schema`    Task and User: fields, SQLite tables, describe JSON
- `storage`   the SQLite file; `accounting`, `faults`, `sessions`, `clock`, `tls`, `wire`, `seed`
"""

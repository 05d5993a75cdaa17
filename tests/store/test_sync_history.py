"""What the UI reads of the sync history, and the "retry now" button."""

from __future__ import annotations

import datetime as dt

import pytest

from sales_connect import repository as repo
from sales_connect.db import Store
from sales_connect.errors import NotFoundError
from sales_connect.models import SyncConflict, SyncError, SyncRun

T = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def _minutes(n: int) -> dt.datetime:
    return T + dt.timedelta(minutes=n)


@pytest.fixture
def history(store: Store, two_users: tuple[int, int]) -> dict[str, int]:
    ada, bob = two_users
    with store.session() as session:
        runs = [SyncRun(dag_run_id=f"scheduled__{n}", started_at=_minutes(n), status="success") for n in range(3)]
        session.add_all(runs)
        session.flush()
        err = dict(run_id=runs[0].id, direction="sc_to_sf", operation="create", error_code="STRING_TOO_LONG",
                   message="Subject: data value too large")
        ada_old = SyncError(user_id=ada, last_seen_at=_minutes(1), next_retry_at=_minutes(60), **err)
        ada_new = SyncError(user_id=ada, last_seen_at=_minutes(2), next_retry_at=_minutes(60), **err)
        ada_fixed = SyncError(user_id=ada, last_seen_at=_minutes(3), resolved_at=_minutes(4), **err)
        bob_err = SyncError(user_id=bob, last_seen_at=_minutes(3), **err)
        conflict = dict(run_id=runs[1].id, winner="salesforce", rule="latest change wins; tie to Salesforce")
        session.add_all([
            ada_old, ada_new, ada_fixed, bob_err,
            SyncConflict(user_id=ada, detected_at=_minutes(1), sc_version={"subject": "a"}, **conflict),
            SyncConflict(user_id=ada, detected_at=_minutes(2), sf_version={"Subject": "b"}, **conflict),
            SyncConflict(user_id=bob, detected_at=_minutes(3), **conflict),
        ])
        session.flush()
        return {"ada": ada, "bob": bob, "ada_old": ada_old.id, "ada_new": ada_new.id,
                "ada_fixed": ada_fixed.id, "bob_err": bob_err.id}


def test_recent_runs_newest_first(store: Store, history: dict[str, int]) -> None:
    with store.session() as session:
        assert [r.dag_run_id for r in repo.recent_runs(session)] == ["scheduled__2", "scheduled__1", "scheduled__0"]
        assert [r.dag_run_id for r in repo.recent_runs(session, limit=1)] == ["scheduled__2"]


def test_open_errors_are_the_users_unresolved_ones(store: Store, history: dict[str, int]) -> None:
    with store.session() as session:
        assert [e.id for e in repo.open_errors(session, history["ada"])] == [history["ada_new"], history["ada_old"]]
        assert [e.id for e in repo.open_errors(session, history["bob"])] == [history["bob_err"]]


def test_conflicts_are_per_user_with_both_versions(store: Store, history: dict[str, int]) -> None:
    with store.session() as session:
        found = repo.list_conflicts(session, history["ada"])
        assert [(c.sc_version, c.sf_version) for c in found] == [({}, {"Subject": "b"}), ({"subject": "a"}, {})]
        assert len(repo.list_conflicts(session, history["bob"])) == 1


def test_request_retry_brings_the_retry_forward(store: Store, history: dict[str, int]) -> None:
    with store.session() as session:
        error = repo.request_retry(session, history["ada_old"], history["ada"], now=_minutes(10))
        assert error.next_retry_at == _minutes(10)
    with store.session() as session:
        assert session.get(SyncError, history["ada_old"]).next_retry_at == _minutes(10)


@pytest.mark.parametrize(("error", "user"), [("bob_err", "ada"), ("ada_fixed", "ada"), ("ada_old", "bob")])
def test_request_retry_only_for_own_open_errors(
    store: Store, history: dict[str, int], error: str, user: str
) -> None:
    with store.session() as session:
        before = session.get(SyncError, history[error]).next_retry_at
        with pytest.raises(NotFoundError):
            repo.request_retry(session, history[error], history[user], now=_minutes(10))
        assert session.get(SyncError, history[error]).next_retry_at == before

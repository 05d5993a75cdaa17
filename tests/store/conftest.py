"""Fixtures for the store tests: migrated stores on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sales_connect import repository as repo
from sales_connect.db import Store, migrate


def _open(url: str) -> Iterator[Store]:
    migrate(url)
    store = Store(url)
    yield store
    store.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store, once per backend."""
    yield from _open(store_url)


@pytest.fixture
def pg_store(pg_databases) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    """A migrated store on PostgreSQL only (row-lock and multi-connection tests)."""
    yield from _open(pg_databases.create("store_pg"))


@pytest.fixture
def two_users(store: Store) -> tuple[int, int]:
    """Ids of two reps, Ada (Europe/Paris) and Bob (America/New_York)."""
    with store.session() as session:
        ada = repo.create_user(session, email="ada@example.com", name="Ada", time_zone="Europe/Paris",
                               sf_owner_id="005000000000001AAA")
        bob = repo.create_user(session, email="bob@example.com", name="Bob", time_zone="America/New_York",
                               sf_owner_id="005000000000002")
        return ada.id, bob.id

"""Issue 15 #1: a fresh stack answers the plugin's API at once: the api-server migrates an empty
Sales Connect store on first use, without a ``python -m sales_connect migrate`` or a DAG run first
(before, ``GET /api/session`` answered 500 ``relation "users" does not exist``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from ui.conftest import UiServer, start_api_server, stop_process_group

from sales_connect import repository
from sales_connect.db import Store


def test_a_fresh_empty_store_is_migrated_by_the_api_server_and_answers_at_once(
    airflow_db: Path, store_url: str, tmp_path: Path
) -> None:
    store = Store(store_url)
    assert inspect(store.engine).get_table_names() == []  # nothing has migrated it
    proc, base_url, passwords = start_api_server(airflow_db, store_url, tmp_path / "api-server.log")
    try:
        server = UiServer(base_url=base_url, store=store, passwords=passwords, log=tmp_path / "api-server.log")
        with server.bearer("alice") as client:
            first = client.get("/api/session")
            assert first.status_code == 403, first.text  # answered: alice is simply not linked yet
            assert "'alice' is not linked to a Sales Connect user" in first.json()["detail"]
            with store.session() as session:  # the schema the api-server created is there to use
                repository.create_user(session, login="alice", email="alice@example.com", name="Alice Rep",
                                       sf_owner_id="005000000000001AAA")
            second = client.get("/api/session")
        assert second.status_code == 200, second.text
        assert second.json()["settings"]["login"] == "alice"
    finally:
        stop_process_group(proc)
        store.dispose()

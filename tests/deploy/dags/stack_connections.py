"""Probe DAG for the local stack: a task reaches both connections the stack wires up.

``salesforce_default`` is read exactly as the sync reads it (``task_sync.connections``:
OAuth client credentials at the emulator's instance, HTTPS verified with the
connection's ``ca_bundle``), so a stack this DAG passes on runs the real sync.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import BaseHook, dag, task
from sqlalchemy import URL, create_engine, text

from task_sync.connections import open_gateway


@dag(dag_id="stack_connections", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), catchup=False)
def stack_connections() -> None:
    @task
    def salesforce_users() -> int:
        gateway = open_gateway()
        return sum(len(page) for page in gateway.query_pages("SELECT Id FROM User"))

    @task
    def sales_connect_database() -> str:
        conn = BaseHook.get_connection("sales_connect_db")
        url = URL.create(
            "postgresql+psycopg2",
            username=conn.login,
            password=conn.password or None,
            host=conn.host,
            port=conn.port,
            database=conn.schema,
        )
        engine = create_engine(url)
        try:
            with engine.connect() as db:
                return db.execute(text("SELECT current_database()")).scalar_one()
        finally:
            engine.dispose()

    salesforce_users()
    sales_connect_database()


stack_connections()

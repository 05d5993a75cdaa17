"""Probe DAG for the local stack: a task reaches both connections the stack wires up.

``salesforce_default`` is used the way the sync uses it against the emulator:
direct mode (session id from the connection's password, ``instance_url``
extra) over HTTPS verified with the CA bundle named by ``SALESFORCE_CA_BUNDLE``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import requests
from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
from airflow.sdk import BaseHook, dag, task
from sqlalchemy import URL, create_engine, text


@dag(dag_id="stack_connections", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), catchup=False)
def stack_connections() -> None:
    @task
    def salesforce_users() -> int:
        conn = BaseHook.get_connection("salesforce_default")
        session = requests.Session()
        session.verify = os.environ["SALESFORCE_CA_BUNDLE"]
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment override session.verify;
        # machines that set them (for a proxy) would otherwise reject the emulator's certificate.
        session.trust_env = False
        hook = SalesforceHook(salesforce_conn_id="salesforce_default", session_id=conn.password, session=session)
        return hook.get_conn().query("SELECT Id FROM User")["totalSize"]

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

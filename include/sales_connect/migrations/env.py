"""Alembic environment for the Sales Connect store.

Run through ``sales_connect.db.migrate``, which hands over an open
connection in ``config.attributes["connection"]``; there is no alembic.ini,
so the migrations work from an installed package.
"""

from __future__ import annotations

from alembic import context

from sales_connect.db import VERSION_TABLE, make_engine, resolve_url
from sales_connect.models import Base


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(resolve_url(context.config.get_main_option("sqlalchemy.url")))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported for the Sales Connect store")
run_migrations_online()

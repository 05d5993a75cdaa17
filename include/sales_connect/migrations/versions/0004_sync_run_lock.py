"""The sync's run lock: one row that a DAG run holds from its plan to its report.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 19:10:00

Airflow 3 backfills do not count against the DAG's ``max_active_runs``; this row is what keeps
their runs from overlapping each other and the schedule (``task_sync.run_lock``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_NAME = "sales_connect_task_sync"


def upgrade() -> None:
    lock = op.create_table(
        "sync_run_lock",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dag_run_id", sa.String(length=250), nullable=True),
        sa.Column("run_type", sa.String(length=40), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(lock, [{"name": LOCK_NAME, "dag_run_id": None, "run_type": None, "acquired_at": None}])


def downgrade() -> None:
    op.drop_table("sync_run_lock")

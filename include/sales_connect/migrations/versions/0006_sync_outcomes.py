"""Per-record outcomes of each run and the API calls of each step's tries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:20:00

A retried load reads what its earlier tries settled from ``sync_outcomes`` (written in the same
transaction as each change) and the history counts come from there; ``sync_step_calls`` keeps the
calls of failed tries (issue 10 #16).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_outcomes",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("sync_runs.id"), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("record_key", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("shard_key", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "direction", "record_key", "outcome"),
    )
    op.create_index("ix_sync_outcomes_shard_key", "sync_outcomes", ["shard_key"])
    op.create_table(
        "sync_step_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("sync_runs.id"), nullable=False),
        sa.Column("step", sa.String(length=120), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_step_calls_run_id", "sync_step_calls", ["run_id"])


def downgrade() -> None:
    op.drop_table("sync_step_calls")
    op.drop_table("sync_outcomes")

"""Keep, per rep, the Salesforce server time of the last read the sync applied for them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 19:20:00

Switching sync back on catches up from this moment (minus the overlap) instead of
``last_synced_at``, which is the worker's clock. Existing rows start empty: the worker's
stamp is not evidence of what Salesforce had answered, so a rep who switches back on before
their next sync is caught up from their first enable (more reads once, never a lost change).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sf_read_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sf_read_until")

"""The sync's pinned settings (external-id namespace, preflight results) and its unsettled creates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:15:00

Nothing existing is rewritten: links pair tasks by Salesforce Id, so records pushed before the
namespace existed (``Sales_Connect_Id__c`` = the bare task id) keep syncing through their links;
a bare value is only never taken as proof that an unlinked record is ours (see
``task_sync.external_ids``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_settings",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sync_pending_creates",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )


def downgrade() -> None:
    op.drop_table("sync_pending_creates")
    op.drop_table("sync_settings")

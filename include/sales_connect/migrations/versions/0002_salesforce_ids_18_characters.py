"""Stored Salesforce User ids in their 18-character form.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 02:30:00

The settings page used to keep a 15-character id as typed; the REST API answers 18-character
ids, so such a rep's tasks all looked like someone else's. The checksum rule is Salesforce's and
fixed, so importing it here is safe. Downgrade keeps the 18-character form: it denotes the same
user, and the 15 characters typed are not recorded anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sales_connect.sf_ids import to_18

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table("users", sa.column("id", sa.Integer()), sa.column("sf_owner_id", sa.String()))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_users.c.id, _users.c.sf_owner_id).where(_users.c.sf_owner_id.is_not(None))).all()
    owner_of: dict[str, int] = {}
    for user_id, stored in rows:
        normal = to_18(stored)
        if owner_of.setdefault(normal, user_id) != user_id:
            raise RuntimeError(f"users {owner_of[normal]} and {user_id} both hold Salesforce user {normal} "
                               "(one as its 15-character form): clear one of them, then migrate again")
        if normal != stored:
            conn.execute(sa.update(_users).where(_users.c.id == user_id).values(sf_owner_id=normal))


def downgrade() -> None:
    """Nothing to undo (see the module docstring)."""

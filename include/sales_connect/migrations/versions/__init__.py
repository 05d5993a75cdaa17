"""Alembic revisions of the Sales Connect store."""

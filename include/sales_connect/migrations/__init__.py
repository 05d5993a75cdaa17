"""Alembic migrations of the Sales Connect store (a package so installs ship them)."""

"""Alembic migrations of the server's schema (applied at start, or by ``db upgrade``)."""

"""Alembic environment: runs on the connection ``cleverfox.server.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from cleverfox.server.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for ad-hoc `alembic` use
    raise RuntimeError("run migrations through `cleverfox db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: runs on the connection handed over by ``tansuan.store.engine``."""

from __future__ import annotations

from alembic import context

from tansuan.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand
    raise RuntimeError("run migrations with `tansuan db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
context.run_migrations()

"""Alembic environment: runs on the connection handed over by ``tansuan.store.engine``.

``target_metadata`` is the store's one schema (:mod:`tansuan.store.schema`, every table
tansuan keeps), compared with :data:`~tansuan.store.schema.base.COMPARE_OPTIONS` so an
``alembic check`` or an autogenerate sees every table and nothing the store creates on
purpose outside the migrations.
"""

from __future__ import annotations

from alembic import context

from tansuan.store.schema import metadata
from tansuan.store.schema.base import COMPARE_OPTIONS

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand
    raise RuntimeError("run migrations with `tansuan db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
    **COMPARE_OPTIONS,
)
context.run_migrations()

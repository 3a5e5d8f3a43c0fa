"""``create_tables`` (the ledger commands' and the benchmark's path) makes the same ledger
tables as the store's migrations: the store's declaration of them, exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tansuan.ledger import schema
from tansuan.store.schema import LEDGER_TABLES
from tansuan.store.schema.base import COMPARE_OPTIONS


def test_create_tables_on_an_empty_database_matches_the_store_schema(db_url: str) -> None:
    db = sa.create_engine(db_url)
    try:
        schema.create_tables(db)
        schema.create_tables(db)  # idempotent: the state row stays one row
        ledger_only = sa.MetaData()
        for table in LEDGER_TABLES:
            table.to_metadata(ledger_only)
        with db.connect() as connection:
            context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
            assert compare_metadata(context, ledger_only) == []
            rows = connection.execute(sa.select(schema.state.c.id, schema.state.c.tree_size))
            assert rows.all() == [(1, 0)]
    finally:
        db.dispose()

"""Ledger tables (SQLAlchemy 2 Core), on their own ``MetaData``.

The lead folds these into the store's Alembic migrations; until then
:func:`create_tables` creates them (idempotently) on SQLite and PostgreSQL.

* ``ledger_leaves`` — one row per leaf, ``leaf_index`` 0, 1, 2, … without gaps.
* ``ledger_nodes`` — every complete interior subtree (level ≥ 1), keyed by
  ``node_id = level << 40 | index`` so a proof reads its O(log n) nodes in one query.
  Leaves (level 0) are read from ``ledger_leaves.leaf_hash``.
* ``ledger_state`` — one row: the tree size and its right-edge frontier, locked by each
  append (a no-op UPDATE) so appends are serialised on SQLite and PostgreSQL.
* ``ledger_sth`` — every signed tree head issued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.dialects import postgresql, sqlite

#: 64-bit integer that is SQLite's rowid when used as the primary key.
RowId = BigInteger().with_variant(Integer(), "sqlite")

#: ``node_id = level << NODE_LEVEL_SHIFT | index``: room for 2^40 leaves.
NODE_LEVEL_SHIFT = 40

metadata = MetaData()

leaves = Table(
    "ledger_leaves",
    metadata,
    Column("leaf_index", RowId, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("ref", String(200), nullable=False),
    Column("payload", Text, nullable=False, comment="canonical JSON of the leaf payload"),
    Column("body", LargeBinary, nullable=True, comment="readings record of an ingest batch"),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("appended_at", DateTime(timezone=True), nullable=False),
)

nodes = Table(
    "ledger_nodes",
    metadata,
    Column("node_id", RowId, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)

sths = Table(
    "ledger_sth",
    metadata,
    Column("sth_id", RowId, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("key_id", LargeBinary(32), nullable=False),
)


def node_id(level: int, index: int) -> int:
    """Primary key of the complete subtree ``(level, index)``, level ≥ 1."""
    return level << NODE_LEVEL_SHIFT | index


def seed_state(connection: Connection) -> None:
    """Insert the empty log's state row unless it exists (safe under concurrency)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(state).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(state).on_conflict_do_nothing()
    else:
        statement = insert(state)
    connection.execute(statement.values(id=1, tree_size=0, frontier=b""))


#: PostgreSQL: keep readings records out of line *uncompressed*. A record is mostly
#: float64 values that pglz cannot shrink, yet it tries on every ~120 kB record: about
#: 2 ms a 10k-reading batch, the biggest single cost the ledger added to ingest there.
POSTGRES_BODY_STORAGE = f"ALTER TABLE {leaves.name} ALTER COLUMN body SET STORAGE EXTERNAL"


def create_tables(engine: Engine) -> None:
    """Create the ledger tables if they do not exist, with the empty log's state row.

    An Alembic migration creating these tables must seed the state row the same way:
    ``INSERT INTO ledger_state (id, tree_size, frontier) VALUES (1, 0, '')``, and on
    PostgreSQL run :data:`POSTGRES_BODY_STORAGE`.
    """
    metadata.create_all(engine)
    with engine.begin() as connection:
        seed_state(connection)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(POSTGRES_BODY_STORAGE)

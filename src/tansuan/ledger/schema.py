"""The ledger's view of its tables: the store declares them (:mod:`tansuan.store.schema.ledger`)
and its migrations create them; this module names them for the log and adds the helpers.

* ``leaves`` (``ledger_leaves``) — one row per leaf, ``leaf_index`` 0, 1, 2, … without gaps.
* ``nodes`` (``ledger_nodes``) — every complete interior subtree (level ≥ 1), keyed by
  ``node_id = level << 40 | index`` so a proof reads its O(log n) nodes in one query.
  Leaves (level 0) are read from ``ledger_leaves.leaf_hash``.
* ``state`` (``ledger_state``) — one row: the tree size and its right-edge frontier, locked
  by each append (a no-op UPDATE) so appends are serialised on SQLite and PostgreSQL.
* ``sths`` (``ledger_sth``) — every signed tree head issued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite

from tansuan.store.schema import (
    LEDGER_TABLES,
    POSTGRES_BODY_STORAGE,
    RowId,
    metadata,
)
from tansuan.store.schema import ledger_leaves as leaves
from tansuan.store.schema import ledger_nodes as nodes
from tansuan.store.schema import ledger_state as state
from tansuan.store.schema import ledger_sth as sths

__all__ = [
    "NODE_LEVEL_SHIFT",
    "POSTGRES_BODY_STORAGE",
    "RowId",
    "create_tables",
    "leaves",
    "node_id",
    "nodes",
    "seed_state",
    "state",
    "sths",
]

#: ``node_id = level << NODE_LEVEL_SHIFT | index``: room for 2^40 leaves.
NODE_LEVEL_SHIFT = 40


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


def create_tables(engine: Engine) -> None:
    """Create the ledger tables if they do not exist, with the empty log's state row.

    The store's migrations create the same tables (0002, and 0005 for the PostgreSQL
    storage setting) in a store database, where this is a no-op. It is kept for the
    ``tansuan ledger …`` commands, which call it on the configured database, and for a
    database that holds nothing but a ledger (the ledger benchmark).
    """
    metadata.create_all(engine, tables=list(LEDGER_TABLES))
    with engine.begin() as connection:
        seed_state(connection)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(POSTGRES_BODY_STORAGE)

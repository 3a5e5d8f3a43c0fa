"""The tamper-evident ledger's tables (the Merkle log of :mod:`tansuan.ledger`).

* ``ledger_leaves`` — one row per leaf, ``leaf_index`` 0, 1, 2, … without gaps.
* ``ledger_nodes`` — every complete interior subtree (level ≥ 1), keyed by
  ``node_id = level << 40 | index`` so a proof reads its O(log n) nodes in one query.
  Leaves (level 0) are read from ``ledger_leaves.leaf_hash``.
* ``ledger_state`` — one row: the tree size and its right-edge frontier, locked by each
  append (a no-op UPDATE) so appends are serialised on SQLite and PostgreSQL. Migration
  0002 seeds the empty log's row.
* ``ledger_sth`` — every signed tree head issued.

Column notes are ``doc`` (Python only): migration 0002 created the columns without
database comments.
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import RowId, metadata

ledger_leaves = sa.Table(
    "ledger_leaves",
    metadata,
    sa.Column("leaf_index", RowId, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(200), nullable=False),
    sa.Column("payload", sa.Text, nullable=False, doc="canonical JSON of the leaf payload"),
    sa.Column("body", sa.LargeBinary, nullable=True, doc="readings record of an ingest batch"),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("appended_at", sa.DateTime(timezone=True), nullable=False),
    # migration 0009: the emissions API finds a result set's leaf by its ref
    sa.Index("ix_ledger_leaves_kind_ref", "kind", "ref"),
)

ledger_nodes = sa.Table(
    "ledger_nodes",
    metadata,
    sa.Column("node_id", RowId, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

ledger_state = sa.Table(
    "ledger_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
)

ledger_sth = sa.Table(
    "ledger_sth",
    metadata,
    sa.Column("sth_id", RowId, primary_key=True, autoincrement=True),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("signature", sa.LargeBinary(64), nullable=False),
    sa.Column("key_id", sa.LargeBinary(32), nullable=False),
)

#: The ledger's tables, in creation order.
LEDGER_TABLES = (ledger_leaves, ledger_nodes, ledger_state, ledger_sth)

#: PostgreSQL: keep readings records out of line *uncompressed* (migration 0005). A record
#: is mostly float64 values that pglz cannot shrink, yet it tries on every ~120 kB record:
#: about 2 ms a 10k-reading batch, the biggest single cost the ledger added to ingest there.
POSTGRES_BODY_STORAGE = f"ALTER TABLE {ledger_leaves.name} ALTER COLUMN body SET STORAGE EXTERNAL"

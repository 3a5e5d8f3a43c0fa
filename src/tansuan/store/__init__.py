"""The telemetry store: schema, SQLite (default) and PostgreSQL, rollups, queries, migrations.

Public entry points: :class:`Store` (engine, schema upgrade, write/read transactions,
site-model loading) and :func:`batch_rows` (the rows a batch stored, for the ledger).
"""

from tansuan.store.database import Store
from tansuan.store.readings import BatchRow, batch_rows, reading_batch_ids

__all__ = ["BatchRow", "Store", "batch_rows", "reading_batch_ids"]

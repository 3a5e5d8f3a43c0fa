"""Readings, their ingest batches and quarantine, the rollups and the manual entries.

* **Timestamps are integer epoch microseconds, UTC** (``*_us`` columns, BIGINT).
* Readings carry ``site_id`` first in every key so the tables can be distributed by site
  (Citus ``create_distributed_table(…, 'site_id')``).
* **Local days** are integers ``YYYYMMDD`` in the site's time zone (``rollup_day.day``);
  a month is ``day // 100``.
* **Readings** live in ``reading`` (the current version of each ``(site, point, ts)``),
  ``reading_staging`` (recent appends in arrival order, compacted into ``reading`` in
  bulk — see DESIGN.md "Performance notes") and ``reading_version`` (every superseded
  version, kept forever). On PostgreSQL ``reading`` is range-partitioned by month of
  ``ts_us``; partitions are created on demand by the writer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tansuan.store.schema.base import metadata

# --- readings ---------------------------------------------------------------------------

ingest_batch = Table(
    "ingest_batch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at_us", BigInteger, nullable=False),
    Column("source", String(64), nullable=False, doc="http, hj212, mqtt, import, …"),
    Column("n_rows", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),
    Column("n_duplicate", Integer, nullable=False),
    Column("n_versioned", Integer, nullable=False),
    Column("n_rejected", Integer, nullable=False),
)


def _reading_columns() -> list[Column[object]]:
    return [
        Column("site_id", Integer, nullable=False),
        Column("point_id", Integer, nullable=False),
        Column("ts_us", BigInteger, nullable=False),
        Column("value", Float, nullable=False, doc="in the point's canonical unit"),
        Column("quality", String(1), nullable=False, doc="HJ 212 flag, N normal"),
        Column("batch_id", Integer, nullable=False),
        Column("version", Integer, nullable=False, doc="1 for the first value, +1 per change"),
    ]


#: Current version of each reading. WITHOUT ROWID on SQLite: the key is the table.
reading = Table(
    "reading",
    metadata,
    *_reading_columns(),
    PrimaryKeyConstraint("site_id", "point_id", "ts_us", name="pk_reading"),
    Index("ix_reading_batch", "batch_id"),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (ts_us)",
)

#: Appends in arrival order; compacted into ``reading`` by the writer (no key on purpose).
reading_staging = Table("reading_staging", metadata, *_reading_columns())

#: Superseded versions, never deleted.
reading_version = Table(
    "reading_version",
    metadata,
    *_reading_columns(),
    Column("superseded_by_batch", Integer, nullable=False),
    PrimaryKeyConstraint("site_id", "point_id", "ts_us", "version", name="pk_reading_version"),
    Index("ix_reading_version_batch", "batch_id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, nullable=False),
    Column("row_index", Integer, nullable=False, doc="0-based index in the batch as sent"),
    Column("site_key", Text, nullable=True),
    Column("point_key", Text, nullable=True),
    Column("ts_us", BigInteger, nullable=True),
    Column("value", Float, nullable=True),
    Column("unit", Text, nullable=True),
    Column("quality", Text, nullable=True),
    Column("reason", String(32), nullable=False, doc="stable reason code"),
    Column("detail", Text, nullable=False),
    Index("ix_quarantine_batch", "batch_id"),
)


def _rollup_columns() -> list[Column[object]]:
    return [
        Column("n", Integer, nullable=False, doc="readings in the bucket"),
        Column("n_valid", Integer, nullable=False, doc="readings with a valid quality flag"),
        Column("sum", Float, nullable=True, doc="sum of valid values"),
        Column("min", Float, nullable=True),
        Column("max", Float, nullable=True),
        Column("first_ts_us", BigInteger, nullable=True),
        Column("first", Float, nullable=True),
        Column("last_ts_us", BigInteger, nullable=True),
        Column("last", Float, nullable=True),
        Column("delta", Float, nullable=True, doc="consumption: total / total_increasing"),
        Column("resets", Integer, nullable=False, doc="counter resets and rollovers seen"),
    ]


rollup_hour = Table(
    "rollup_hour",
    metadata,
    Column("site_id", Integer, nullable=False),
    Column("point_id", Integer, nullable=False),
    Column("hour_us", BigInteger, nullable=False, doc="start of the UTC hour"),
    *_rollup_columns(),
    PrimaryKeyConstraint("site_id", "point_id", "hour_us", name="pk_rollup_hour"),
    sqlite_with_rowid=False,
)

rollup_day = Table(
    "rollup_day",
    metadata,
    Column("site_id", Integer, nullable=False),
    Column("point_id", Integer, nullable=False),
    Column("day", Integer, nullable=False, doc="local date YYYYMMDD in the site's time zone"),
    *_rollup_columns(),
    PrimaryKeyConstraint("site_id", "point_id", "day", name="pk_rollup_day"),
    sqlite_with_rowid=False,
)

# --- manual data --------------------------------------------------------------------------

series_entry = Table(
    "series_entry",
    metadata,
    Column("site_id", Integer, nullable=False),
    Column("series_id", Integer, nullable=False),
    Column("period_start", Integer, nullable=False, doc="local date YYYYMMDD, inclusive"),
    Column("period_end", Integer, nullable=False, doc="local date YYYYMMDD, inclusive"),
    Column("document_ref", String(128), nullable=False, doc="invoice / report no., '' if none"),
    Column("version", Integer, nullable=False),
    Column("current", Boolean, nullable=False),
    Column("value", Float, nullable=False, doc="in the series' unit"),
    Column("attrs", Text, nullable=False, doc="JSON: supplier, lab, sample id, note, …"),
    Column("batch_id", Integer, nullable=False),
    Column("entered_at_us", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "site_id",
        "series_id",
        "period_start",
        "period_end",
        "document_ref",
        "version",
        name="pk_series_entry",
    ),
)

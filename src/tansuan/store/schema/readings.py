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

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

# --- readings ---------------------------------------------------------------------------

ingest_batch = sa.Table(
    "ingest_batch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at_us", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(64), nullable=False, doc="http, hj212, mqtt, import, …"),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("n_new", sa.Integer, nullable=False),
    sa.Column("n_duplicate", sa.Integer, nullable=False),
    sa.Column("n_versioned", sa.Integer, nullable=False),
    sa.Column("n_rejected", sa.Integer, nullable=False),
)


def _reading_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("site_id", sa.Integer, nullable=False),
        sa.Column("point_id", sa.Integer, nullable=False),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False, doc="in the point's canonical unit"),
        sa.Column("quality", sa.String(1), nullable=False, doc="HJ 212 flag, N normal"),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column(
            "version", sa.Integer, nullable=False, doc="1 for the first value, +1 per change"
        ),
    ]


#: Current version of each reading. WITHOUT ROWID on SQLite: the key is the table.
reading = sa.Table(
    "reading",
    metadata,
    *_reading_columns(),
    sa.PrimaryKeyConstraint("site_id", "point_id", "ts_us", name="pk_reading"),
    sa.Index("ix_reading_batch", "batch_id"),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (ts_us)",
)

#: Appends in arrival order; compacted into ``reading`` by the writer (no key on purpose).
reading_staging = sa.Table("reading_staging", metadata, *_reading_columns())

#: Superseded versions, never deleted.
reading_version = sa.Table(
    "reading_version",
    metadata,
    *_reading_columns(),
    sa.Column("superseded_by_batch", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("site_id", "point_id", "ts_us", "version", name="pk_reading_version"),
    sa.Index("ix_reading_version_batch", "batch_id"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("row_index", sa.Integer, nullable=False, doc="0-based index in the batch as sent"),
    sa.Column("site_key", sa.Text, nullable=True),
    sa.Column("point_key", sa.Text, nullable=True),
    sa.Column("ts_us", sa.BigInteger, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("unit", sa.Text, nullable=True),
    sa.Column("quality", sa.Text, nullable=True),
    sa.Column("reason", sa.String(32), nullable=False, doc="stable reason code"),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_quarantine_batch", "batch_id"),
)

#: What the counter classifier (``store/counters.py``) decided about a stored counter
#: reading that is not a plain increase: ``glitch``, ``spike`` and ``pending`` readings are
#: kept in ``reading`` but carry no consumption; ``reset`` and ``rollover`` are accepted.
#: Rebuilt for a point's window whenever its rollups are recomputed.
counter_flag = sa.Table(
    "counter_flag",
    metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("point_id", sa.Integer, nullable=False),
    sa.Column("ts_us", sa.BigInteger, nullable=False),
    sa.Column("value", sa.Float, nullable=False, doc="the reading [canonical unit]"),
    sa.Column("level", sa.Float, nullable=True, doc="last accepted value before it"),
    sa.Column("kind", sa.String(16), nullable=False, doc="glitch, spike, pending, reset, rollover"),
    sa.Column("detail", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("site_id", "point_id", "ts_us", name="pk_counter_flag"),
)


def _rollup_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("n", sa.Integer, nullable=False, doc="readings in the bucket"),
        sa.Column("n_valid", sa.Integer, nullable=False, doc="readings with a valid quality flag"),
        sa.Column("sum", sa.Float, nullable=True, doc="sum of valid values"),
        sa.Column("min", sa.Float, nullable=True),
        sa.Column("max", sa.Float, nullable=True),
        sa.Column("first_ts_us", sa.BigInteger, nullable=True),
        sa.Column("first", sa.Float, nullable=True),
        sa.Column("last_ts_us", sa.BigInteger, nullable=True),
        sa.Column("last", sa.Float, nullable=True),
        sa.Column("delta", sa.Float, nullable=True, doc="consumption: total / total_increasing"),
        sa.Column("resets", sa.Integer, nullable=False, doc="counter resets and rollovers seen"),
    ]


rollup_hour = sa.Table(
    "rollup_hour",
    metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("point_id", sa.Integer, nullable=False),
    sa.Column("hour_us", sa.BigInteger, nullable=False, doc="start of the UTC hour"),
    *_rollup_columns(),
    sa.PrimaryKeyConstraint("site_id", "point_id", "hour_us", name="pk_rollup_hour"),
    sqlite_with_rowid=False,
)

rollup_day = sa.Table(
    "rollup_day",
    metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("point_id", sa.Integer, nullable=False),
    sa.Column("day", sa.Integer, nullable=False, doc="local date YYYYMMDD in the site's time zone"),
    *_rollup_columns(),
    sa.PrimaryKeyConstraint("site_id", "point_id", "day", name="pk_rollup_day"),
    sqlite_with_rowid=False,
)

#: A declared meter replacement (``tansuan replace-meter``): at ``at_us`` the old
#: register read ``final`` and the new one ``initial``. A counter's delta across it is
#: (final − level) over (level's ts, at] plus (value − initial) over (at, ts].
meter_replacement = sa.Table(
    "meter_replacement",
    metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("point_id", sa.Integer, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("final", sa.Float, nullable=False, doc="old register's last value [unit]"),
    sa.Column("initial", sa.Float, nullable=False, doc="new register's first value [unit]"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_at_us", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("site_id", "point_id", "at_us", name="pk_meter_replacement"),
)

# --- manual data --------------------------------------------------------------------------

series_entry = sa.Table(
    "series_entry",
    metadata,
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("series_id", sa.Integer, nullable=False),
    sa.Column("period_start", sa.Integer, nullable=False, doc="local date YYYYMMDD, inclusive"),
    sa.Column("period_end", sa.Integer, nullable=False, doc="local date YYYYMMDD, inclusive"),
    sa.Column(
        "document_ref", sa.String(128), nullable=False, doc="invoice / report no., '' if none"
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("value", sa.Float, nullable=False, doc="in the series' unit"),
    sa.Column("attrs", sa.Text, nullable=False, doc="JSON: supplier, lab, sample id, note, …"),
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("entered_at_us", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint(
        "site_id",
        "series_id",
        "period_start",
        "period_end",
        "document_ref",
        "version",
        name="pk_series_entry",
    ),
)

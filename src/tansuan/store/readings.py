"""Reading storage primitives: staging, compaction, versions, rollup upserts, batch rows.

Everything here runs inside a transaction owned by the caller (the ingestor), so a batch
is all-or-nothing. Bulk paths use the driver directly: ``executemany`` on SQLite,
``COPY`` on PostgreSQL — row-at-a-time paths are ~100x slower (DESIGN.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Table, select

from tansuan.domain import months
from tansuan.domain.quality import INVALID_FLAGS
from tansuan.store import schema
from tansuan.store.counters import NOT_ACCEPTED
from tansuan.store.timeutil import from_us

#: SQL list of invalid quality flags, for "last valid reading" lookups.
_INVALID_SQL = ", ".join(f"'{flag}'" for flag in sorted(INVALID_FLAGS))
_NOT_ACCEPTED_SQL = ", ".join(f"'{kind}'" for kind in sorted(NOT_ACCEPTED))
_COLS = "site_id, point_id, ts_us, value, quality, batch_id, version"

#: (site_id, point_id, ts_us, value, quality, batch_id, version)
Row = tuple[int, int, int, float, str, int, int]
#: (site key, point key, ts UTC, value, quality, version) — what the ledger hashes.
BatchRow = tuple[str, str, dt.datetime, float, str, int]


def is_pg(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def bulk_insert(connection: Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows of ``_COLS`` (plus any extra columns) into ``table``, fast."""
    if not rows:
        return
    width = len(rows[0])
    columns = _COLS if width == 7 else f"{_COLS}, superseded_by_batch"
    if is_pg(connection):
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ",".join("?" * width)
        connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("l_site", ">i4"), ("site", ">i4"),
        ("l_point", ">i4"), ("point", ">i4"),
        ("l_ts", ">i4"), ("ts", ">i8"),
        ("l_value", ">i4"), ("value", ">f8"),
        ("l_quality", ">i4"), ("quality", "S1"),
        ("l_batch", ">i4"), ("batch", ">i4"),
        ("l_version", ">i4"), ("version", ">i4"),
    ]
)  # fmt: skip


def insert_readings(
    connection: Connection,
    table: str,
    site_id: npt.NDArray[np.int64],
    point_id: npt.NDArray[np.int64],
    ts_us: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: list[str],
    batch_id: int,
    version: int = 1,
) -> None:
    """Insert new readings given as columns: ``executemany`` on SQLite, binary ``COPY``
    (built with numpy, no per-row Python) on PostgreSQL."""
    n = ts_us.size
    if n == 0:
        return
    if not is_pg(connection):
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({_COLS}) VALUES (?,?,?,?,?,?,?)",
            list(
                zip(
                    site_id.tolist(),
                    point_id.tolist(),
                    ts_us.tolist(),
                    value.tolist(),
                    quality,
                    itertools.repeat(batch_id),
                    itertools.repeat(version),
                )
            ),
        )
        return
    rows = np.empty(n, dtype=_COPY_ROW)
    rows["fields"] = 7
    for name, size in (("l_site", 4), ("l_point", 4), ("l_ts", 8), ("l_value", 8),
                       ("l_quality", 1), ("l_batch", 4), ("l_version", 4)):  # fmt: skip
        rows[name] = size
    rows["site"], rows["point"], rows["ts"], rows["value"] = site_id, point_id, ts_us, value
    rows["quality"] = np.array(quality, dtype="S1")
    rows["batch"], rows["version"] = batch_id, version
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({_COLS}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER + rows.tobytes() + b"\xff\xff")


_partitions: set[tuple[str, int]] = set()


def ensure_partitions(connection: Connection, ts_min_us: int, ts_max_us: int) -> None:
    """Create the monthly partitions of ``reading`` that ``[ts_min, ts_max]`` needs (PG)."""
    if not is_pg(connection):
        return
    database = str(connection.engine.url)
    start = from_us(ts_min_us)
    month = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC)
    while True:
        after = months.first_day(months.index_of(month) + 1)
        following = dt.datetime(after.year, after.month, 1, tzinfo=dt.UTC)
        key = (database, month.year * 100 + month.month)
        if key not in _partitions:
            lo = int((month - from_us(0)).total_seconds()) * 1_000_000
            hi = int((following - from_us(0)).total_seconds()) * 1_000_000
            connection.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS reading_{month.year:04d}{month.month:02d} "
                f"PARTITION OF reading FOR VALUES FROM ({lo}) TO ({hi})"
            )
            _partitions.add(key)
        if following > from_us(ts_max_us):
            break
        month = following


def forget_partitions() -> None:
    """Forget which partitions exist (after a rollback that may have undone a CREATE)."""
    _partitions.clear()


def compact(connection: Connection) -> int:
    """Move the staged rows into ``reading`` in key order; return how many moved."""
    if is_pg(connection):
        bounds = connection.exec_driver_sql(
            "SELECT min(ts_us), max(ts_us) FROM reading_staging"
        ).one()
        if bounds[0] is None:
            return 0
        ensure_partitions(connection, int(bounds[0]), int(bounds[1]))
    moved = connection.exec_driver_sql(
        f"INSERT INTO reading ({_COLS}) SELECT {_COLS} FROM reading_staging "
        "ORDER BY site_id, point_id, ts_us"
    ).rowcount
    connection.exec_driver_sql("DELETE FROM reading_staging")
    return int(moved or 0)


def analyze(connection: Connection) -> None:
    """Refresh planner statistics after bulk loads (DESIGN.md: 1.6 s -> 14 ms)."""
    if is_pg(connection):
        connection.exec_driver_sql("ANALYZE reading, rollup_hour, rollup_day")
    else:
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")


def high_water(connection: Connection, site_id: int, point_id: int) -> tuple[int | None, Any]:
    """(newest stored ts of the point, (ts, value) of its newest accepted valid reading or
    None) — accepted: not flagged glitch, spike or pending (``counter_flag``).

    Only valid when the staging table holds no rows of this point.
    """
    newest = connection.exec_driver_sql(
        "SELECT max(ts_us) FROM reading WHERE site_id = %s AND point_id = %s"
        if is_pg(connection)
        else "SELECT max(ts_us) FROM reading WHERE site_id = ? AND point_id = ?",
        (site_id, point_id),
    ).scalar()
    if newest is None:
        return None, None
    accepted = prev_accepted(connection, site_id, point_id, int(newest) + 1, 1)
    return int(newest), (accepted[0] if accepted else None)


def prev_accepted(
    connection: Connection, site_id: int, point_id: int, before_us: int, count: int
) -> list[tuple[int, float]]:
    """Up to ``count`` newest valid readings strictly before ``before_us`` that the counter
    classifier accepted (no glitch/spike/pending flag), oldest first."""
    rows = connection.exec_driver_sql(
        _q(
            connection,
            "SELECT r.ts_us, r.value FROM reading r WHERE r.site_id = ? AND r.point_id = ? "
            f"AND r.ts_us < ? AND r.quality NOT IN ({_INVALID_SQL}) AND NOT EXISTS ("
            "SELECT 1 FROM counter_flag f WHERE f.site_id = r.site_id "
            "AND f.point_id = r.point_id AND f.ts_us = r.ts_us "
            f"AND f.kind IN ({_NOT_ACCEPTED_SQL})) ORDER BY r.ts_us DESC LIMIT {int(count)}",
        ),
        (site_id, point_id, before_us),
    ).all()
    return [(int(r[0]), float(r[1])) for r in reversed(rows)]


def has_pending(connection: Connection, site_id: int, point_id: int) -> bool:
    """Whether a counter drop of the point waits for a reading to decide it."""
    f = schema.counter_flag
    return (
        connection.execute(
            select(f.c.ts_us)
            .where(f.c.site_id == site_id, f.c.point_id == point_id, f.c.kind == "pending")
            .limit(1)
        ).first()
        is not None
    )


def replacements(
    connection: Connection, site_id: int, point_id: int, after_us: int, before_us: int
) -> list[tuple[int, float, float]]:
    """Declared replacements ``(at, final, initial)`` of a point with
    ``after < at < before``, in time order."""
    m = schema.meter_replacement
    rows = connection.execute(
        select(m.c.at_us, m.c.final, m.c.initial)
        .where(
            m.c.site_id == site_id,
            m.c.point_id == point_id,
            m.c.at_us > after_us,
            m.c.at_us < before_us,
        )
        .order_by(m.c.at_us)
    ).all()
    return [(int(r[0]), float(r[1]), float(r[2])) for r in rows]


def replaced_after(connection: Connection, site_id: int, point_id: int, after_us: int) -> bool:
    """Whether a replacement of the point is declared after ``after_us``."""
    return bool(replacements(connection, site_id, point_id, after_us, 2**62))


def replace_flags(
    connection: Connection,
    site_id: int,
    point_id: int,
    start_us: int,
    end_us: int,
    rows: Sequence[tuple[int, float, float | None, str, str]],
) -> None:
    """Replace the counter flags of a point in ``[start, end)`` with ``rows``
    (ts, value, level, kind, detail)."""
    f = schema.counter_flag
    connection.execute(
        f.delete().where(
            f.c.site_id == site_id,
            f.c.point_id == point_id,
            f.c.ts_us >= start_us,
            f.c.ts_us < end_us,
        )
    )
    if rows:
        connection.execute(
            f.insert(),
            [
                {
                    "site_id": site_id,
                    "point_id": point_id,
                    "ts_us": ts,
                    "value": value,
                    "level": level,
                    "kind": kind,
                    "detail": detail,
                }
                for ts, value, level, kind, detail in rows
            ],
        )


def _q(connection: Connection, sql: str) -> str:
    return sql.replace("?", "%s") if is_pg(connection) else sql


def prev_valid(
    connection: Connection, site_id: int, point_id: int, before_us: int
) -> tuple[int, float] | None:
    """The newest valid reading strictly before ``before_us`` (ts, value), or None."""
    row = connection.exec_driver_sql(
        _q(
            connection,
            "SELECT ts_us, value FROM reading WHERE site_id = ? AND point_id = ? "
            f"AND ts_us < ? AND quality NOT IN ({_INVALID_SQL}) ORDER BY ts_us DESC LIMIT 1",
        ),
        (site_id, point_id, before_us),
    ).first()
    return (int(row[0]), float(row[1])) if row else None


def next_valid_ts(connection: Connection, site_id: int, point_id: int, after_us: int) -> int | None:
    """Timestamp of the oldest valid reading strictly after ``after_us``, or None."""
    value = connection.exec_driver_sql(
        _q(
            connection,
            "SELECT ts_us FROM reading WHERE site_id = ? AND point_id = ? "
            f"AND ts_us > ? AND quality NOT IN ({_INVALID_SQL}) ORDER BY ts_us LIMIT 1",
        ),
        (site_id, point_id, after_us),
    ).scalar()
    return None if value is None else int(value)


def fetch_range(
    connection: Connection, site_id: int, point_id: int, start_us: int, end_us: int
) -> list[tuple[int, float, str, int, int]]:
    """Stored current readings (ts, value, quality, version, batch) in ``[start, end)``."""
    rows = connection.exec_driver_sql(
        _q(
            connection,
            "SELECT ts_us, value, quality, version, batch_id FROM reading "
            "WHERE site_id = ? AND point_id = ? AND ts_us >= ? AND ts_us < ? ORDER BY ts_us",
        ),
        (site_id, point_id, start_us, end_us),
    ).all()
    return [(int(r[0]), float(r[1]), str(r[2]), int(r[3]), int(r[4])) for r in rows]


def supersede(
    connection: Connection, old: Sequence[Row], new: Sequence[Row], batch_id: int
) -> None:
    """Keep the ``old`` versions in ``reading_version`` and write ``new`` in their place."""
    if not old:
        return
    bulk_insert(connection, "reading_version", [(*row, batch_id) for row in old])
    connection.exec_driver_sql(
        _q(
            connection,
            "UPDATE reading SET value = ?, quality = ?, batch_id = ?, version = ? "
            "WHERE site_id = ? AND point_id = ? AND ts_us = ?",
        ),
        [(r[3], r[4], r[5], r[6], r[0], r[1], r[2]) for r in new],
    )


_STATS = ("n", "n_valid", "sum", "min", "max", "first_ts_us", "first", "last_ts_us", "last")
_ROLLUP_SQL: dict[tuple[str, str, bool], str] = {}


def _rollup_sql(dialect: str, table: Table, merge: bool) -> str:
    key = (dialect, table.name, merge)
    sql = _ROLLUP_SQL.get(key)
    if sql is None:
        name = table.name
        columns = [c.name for c in table.columns]
        pk = [c.name for c in table.primary_key.columns]
        if merge:
            sets = {
                "n": f"{name}.n + excluded.n",
                "n_valid": f"{name}.n_valid + excluded.n_valid",
                "resets": f"{name}.resets + excluded.resets",
                "sum": _add_nullable(name, "sum"),
                "delta": _add_nullable(name, "delta"),
                "min": _pick(name, "min", "min", "<"),
                "max": _pick(name, "max", "max", ">"),
                "first_ts_us": _pick(name, "first_ts_us", "first_ts_us", "<"),
                "first": _pick(name, "first_ts_us", "first", "<"),
                "last_ts_us": _pick(name, "last_ts_us", "last_ts_us", ">"),
                "last": _pick(name, "last_ts_us", "last", ">"),
            }
        else:
            sets = {c: f'excluded."{c}"' for c in (*_STATS, "delta", "resets")}
        mark = "%s" if dialect == "postgresql" else "?"
        sql = (
            f"INSERT INTO {name} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))}) "
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET "
            + ", ".join(f'"{c}" = {expr}' for c, expr in sets.items())
        )
        _ROLLUP_SQL[key] = sql
    return sql


def upsert_rollups(
    connection: Connection, table: Table, rows: list[tuple[Any, ...]], *, merge: bool
) -> None:
    """Write rollup rows (in the table's column order); ``merge`` combines them with the
    stored buckets (exactly: counts and sums add, min/max/first/last compare), else
    replaces them."""
    if not rows:
        return
    if not is_pg(connection):
        connection.exec_driver_sql(_rollup_sql("sqlite", table, merge), rows)
        return
    # PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT.
    scratch = f"scratch_{table.name}"
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {scratch} (LIKE {table.name}) ON COMMIT DELETE ROWS"
    )
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    sql = _rollup_sql("postgresql", table, merge)
    head, tail = sql.split(" VALUES ", 1)
    conflict = tail[tail.index(" ON CONFLICT") :]
    connection.exec_driver_sql(f"{head} SELECT {columns} FROM {scratch}{conflict}")
    connection.exec_driver_sql(f"DELETE FROM {scratch}")


def delete_rollups(
    connection: Connection, table: Table, site_id: int, point_id: int, lo: int, hi: int
) -> None:
    """Delete a point's buckets ``lo ≤ bucket ≤ hi`` (before they are rebuilt: a bucket
    that only held a share of a counter's delta may have none now)."""
    bucket = table.c.hour_us if "hour_us" in table.c else table.c.day
    connection.execute(
        table.delete().where(
            table.c.site_id == site_id,
            table.c.point_id == point_id,
            bucket >= lo,
            bucket <= hi,
        )
    )


def _add_nullable(table: str, column: str) -> str:
    """SQL for stored + new where NULL means 'nothing yet' (portable SQLite/PostgreSQL)."""
    old, new = f"{table}.{column}", f"excluded.{column}"
    return (
        f"CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} ELSE {old} + {new} END"
    )


def _pick(table: str, by: str, column: str, op: str) -> str:
    """SQL choosing the new ``column`` when the new ``by`` is smaller/larger (``op``)."""
    old_by, new_by = f"{table}.{by}", f"excluded.{by}"
    return (
        f"CASE WHEN {old_by} IS NULL OR ({new_by} IS NOT NULL AND {new_by} {op} {old_by}) "
        f'THEN excluded."{column}" ELSE {table}."{column}" END'
    )


def batch_rows(connection: Connection, batch_id: int) -> list[BatchRow]:
    """Every reading a batch stored, as the ledger hashes them.

    Returns tuples ``(site key, point key, ts UTC datetime, value, quality, version)``
    sorted by (point key, ts, version, site key) — including versions a later batch
    has since superseded (they stay in ``reading_version`` with their batch id).
    """
    sql = _q(
        connection,
        "SELECT p.site_key, p.key, r.ts_us, r.value, r.quality, r.version FROM {t} r "
        "JOIN point p ON p.id = r.point_id WHERE r.batch_id = ?",
    )
    out: list[BatchRow] = []
    for table in ("reading", "reading_staging", "reading_version"):
        for row in connection.exec_driver_sql(sql.format(t=table), (batch_id,)):
            out.append(
                (str(row[0]), str(row[1]), from_us(row[2]), float(row[3]), str(row[4]), int(row[5]))
            )
    out.sort(key=lambda r: (r[1], r[2], r[5], r[0]))
    return out


def quarantine(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Keep rejected rows with their reason."""
    items = list(rows)
    if items:
        connection.execute(schema.quarantine.insert(), items)


def reading_batch_ids(connection: Connection) -> list[int]:
    """Ids of every batch of readings (manual-data batches, ``manual:…``, excluded).

    Every such batch has a ledger leaf (ingest calls its hooks for every batch), so the
    verifier uses this list to name a batch that no leaf covers.
    """
    b = schema.ingest_batch
    rows = connection.execute(
        select(b.c.id).where(b.c.source.not_like("manual:%")).order_by(b.c.id)
    )
    return [int(r[0]) for r in rows]

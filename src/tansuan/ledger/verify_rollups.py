"""Rollups recomputed from the stored readings (``tansuan verify``; docs/ledger.md).

Accounting reads ``rollup_hour`` and ``rollup_day``, not the readings; the readings are
checked against their batch leaves by :func:`~tansuan.ledger.verify.verify_source`, and
this module checks that the rollups are what those readings give. It recomputes them
with the code ingest writes them with (:mod:`tansuan.ingest.rebuild`, over
:mod:`tansuan.store.rollups` and the counter classifier), in each point's site time
zone, counters included (deltas, resets, rollovers, declared meter replacements and
the ``counter_flag`` rows), and names every difference:

* ``rollup_changed`` — a stored row whose values differ from the recomputed ones
  (table, site, point, hour or day, each differing column stored → recomputed);
* ``rollup_missing`` — a row the readings give that is not stored;
* ``rollup_extra`` — a stored row the readings do not give;
* ``counter_flag_changed`` / ``counter_flag_missing`` / ``counter_flag_extra`` — the
  same for a counter's classification flags.

**Full** (default): every point's whole history. **Sample** (``sample=N``): ``N`` (local
day × point) cells drawn uniformly without replacement from every day between each
point's first and last reading, with ``random.Random(seed)`` (a seed is drawn and
reported when none is given, so the draw can be repeated); each cell's day is rebuilt
as ingest rebuilds a late reading's window (a counter's window reaches to the readings
whose intervals touch the day) and every hour and day bucket of that window is
compared. Both modes also name stored rows outside a point's readings' span and rows
of no known point (cheap index lookups).

**Tolerance.** Counts, timestamps, ``min``/``max``/``first``/``last`` and NULLs must be
equal exactly (they are copies of stored values). ``sum`` and ``delta`` are sums whose
order differs between ingest's batch-by-batch merge and the recomputation, so they may
differ in the last bits: they match when ``|stored − recomputed| ≤ 1e-9 × scale +
1e-9`` [canonical unit], scale being ``max(|stored|, |recomputed|)`` and, for ``sum``,
at least ``n_valid × max(|min|, |max|)`` (the most the summed magnitudes can be).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection

from tansuan.domain.quality import INVALID_FLAGS
from tansuan.ingest.batch import Rows
from tansuan.ingest.points import Catalog
from tansuan.ingest.rebuild import MISSING, FlagRow, RollupRow, rebuild_point, rollup_rows
from tansuan.ledger.canonical import us_to_iso
from tansuan.store import readings as rs
from tansuan.store.rollups import TOTAL_INCREASING, suspicious
from tansuan.store.timeutil import HOUR_US, date_of, day_of, day_start_us, local_day, next_day

if TYPE_CHECKING:
    from tansuan.ledger.verify import Outcome

#: zh-CN labels of the findings this module adds (merged into verify's LABELS_ZH).
LABELS_ZH = {
    "rollup_changed": "汇总数据被修改",
    "rollup_missing": "汇总数据被删除",
    "rollup_extra": "汇总数据被添加",
    "counter_flag_changed": "计数器标记被修改",
    "counter_flag_missing": "计数器标记被删除",
    "counter_flag_extra": "计数器标记被添加",
}

#: Relative and absolute tolerance of ``sum`` and ``delta`` (see the module docstring).
REL_TOL = 1e-9
ABS_TOL = 1e-9
#: Findings named one by one per code; beyond, one finding counts the rest.
MAX_NAMED = 200

_COLUMNS = (
    "n", "n_valid", "sum", "min", "max", "first_ts_us", "first", "last_ts_us", "last",
    "delta", "resets",
)  # fmt: skip
_TABLES = (("rollup_hour", "hour_us", "hour"), ("rollup_day", "day", "day"))


@dataclass
class RollupCheck:
    """What the rollup check covered."""

    points: int = 0
    hour_rows: int = 0
    day_rows: int = 0
    cells: int = 0
    population: int = 0
    seed: int | None = None
    #: the cells a sample drew, as (site key, point key, local day YYYYMMDD)
    drawn: list[tuple[str, str, int]] = field(default_factory=list)


class _Report:
    """Adds findings to the outcome, each (table, key) once, at most MAX_NAMED a code."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.seen: set[tuple[Any, ...]] = set()
        self.count: Counter[str] = Counter()

    def add(self, code: str, key: tuple[Any, ...], detail: str) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        self.count[code] += 1
        if self.count[code] <= MAX_NAMED:
            self.outcome.add(code, detail)

    def close(self) -> None:
        for code, count in sorted(self.count.items()):
            if count > MAX_NAMED:
                self.outcome.add(code, f"… and {count - MAX_NAMED} more {code.replace('_', ' ')}")


def _q(connection: Connection, sql: str) -> str:
    return sql.replace("?", "%s") if rs.is_pg(connection) else sql


def _period(kind: str, bucket: int) -> str:
    if kind == "hour":
        return "hour " + dt.datetime.fromtimestamp(bucket / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"day {date_of(bucket).isoformat()}"


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _close(column: str, stored: tuple[Any, ...], recomputed: tuple[Any, ...], i: int) -> bool:
    a, b = stored[i], recomputed[i]
    if a is None or b is None:
        return a is None and b is None
    if column not in ("sum", "delta"):
        return bool(a == b)
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    scale = max(abs(a), abs(b))
    if column == "sum":
        n_valid = int(recomputed[1] or 0)
        edges = [abs(float(v)) for v in (recomputed[3], recomputed[4]) if v is not None]
        scale = max(scale, n_valid * max(edges, default=0.0))
    return abs(a - b) <= REL_TOL * scale + ABS_TOL


def _describe(row: tuple[Any, ...]) -> str:
    return ", ".join(
        f"{c} {_value(v)}"
        for c, v in zip(_COLUMNS, row, strict=True)
        if c in ("n", "n_valid", "sum", "delta", "resets")
    )


def _compare(
    report: _Report,
    table: str,
    kind: str,
    where: str,
    stored: dict[int, tuple[Any, ...]],
    recomputed: dict[int, tuple[Any, ...]],
) -> None:
    """Name every row that differs, is missing or is extra (values from n on)."""
    for bucket in sorted(stored.keys() | recomputed.keys()):
        s, r = stored.get(bucket), recomputed.get(bucket)
        if s is not None and s == r:
            continue
        key = (table, where, bucket)
        name = f"{table}, {where}, {_period(kind, bucket)}"
        if s is None and r is not None:
            report.add("rollup_missing", key, f"{name}: missing (recomputed {_describe(r)})")
        elif r is None and s is not None:
            report.add(
                "rollup_extra",
                key,
                f"{name}: stored row the readings do not give ({_describe(s)})",
            )
        elif s is not None and r is not None:
            changes = [
                f"{c} {_value(s[i])} → {_value(r[i])}"
                for i, c in enumerate(_COLUMNS)
                if not _close(c, s, r, i)
            ]
            if changes:
                report.add(
                    "rollup_changed", key, f"{name}: stored → recomputed: {'; '.join(changes)}"
                )


def _stored_rows(
    connection: Connection,
    table: str,
    column: str,
    site_id: int,
    point_id: int,
    lo: int | None = None,
    hi: int | None = None,
) -> dict[int, tuple[Any, ...]]:
    cols = ", ".join(f'"{c}"' for c in _COLUMNS)
    sql = f"SELECT {column}, {cols} FROM {table} WHERE site_id = ? AND point_id = ?"
    args: tuple[int, ...] = (site_id, point_id)
    if lo is not None and hi is not None:
        sql += f" AND {column} >= ? AND {column} <= ?"
        args += (lo, hi)
    return {int(r[0]): tuple(r[1:]) for r in connection.exec_driver_sql(_q(connection, sql), args)}


def _outside(
    connection: Connection, table: str, column: str, site_id: int, point_id: int, lo: int, hi: int
) -> dict[int, tuple[Any, ...]]:
    """Stored rows of a point before ``lo`` or after ``hi``."""
    cols = ", ".join(f'"{c}"' for c in _COLUMNS)
    sql = (
        f"SELECT {column}, {cols} FROM {table} WHERE site_id = ? AND point_id = ? "
        f"AND ({column} < ? OR {column} > ?)"
    )
    rows = connection.exec_driver_sql(_q(connection, sql), (site_id, point_id, lo, hi))
    return {int(r[0]): tuple(r[1:]) for r in rows}


def _keyed(rows: Sequence[RollupRow]) -> dict[int, tuple[Any, ...]]:
    return {int(r[2]): tuple(r[3:]) for r in rows}


def _point_name(catalog: Catalog, c: int) -> str:
    return f"site {catalog.site_key[c]}, point {catalog.key[c]}"


def _compare_flags(
    connection: Connection,
    report: _Report,
    catalog: Catalog,
    c: int,
    flags: Sequence[FlagRow],
    start: int,
    end: int,
) -> None:
    site_id, point_id = int(catalog.site_id[c]), int(catalog.point_id[c])
    stored = {
        int(r[0]): (float(r[1]), None if r[2] is None else float(r[2]), str(r[3]))
        for r in connection.exec_driver_sql(
            _q(
                connection,
                "SELECT ts_us, value, level, kind FROM counter_flag WHERE site_id = ? "
                "AND point_id = ? AND ts_us >= ? AND ts_us < ?",
            ),
            (site_id, point_id, start, end),
        )
    }
    recomputed = {f[0]: (f[1], f[2], f[3]) for f in flags}
    where = _point_name(catalog, c)
    for ts in sorted(stored.keys() | recomputed.keys()):
        key = ("counter_flag", where, ts)
        name = f"counter_flag, {where}, reading {us_to_iso(ts)}"
        s, r = stored.get(ts), recomputed.get(ts)
        if s is None and r is not None:
            report.add("counter_flag_missing", key, f"{name}: missing (recomputed {r[2]})")
        elif r is None and s is not None:
            report.add("counter_flag_extra", key, f"{name}: stored {s[2]}, the readings give none")
        elif s != r:
            report.add("counter_flag_changed", key, f"{name}: stored {s} → recomputed {r}")


def _span(connection: Connection, site_id: int, point_id: int) -> tuple[int, int] | None:
    """First and last stored reading of a point [µs], or None."""
    row = connection.exec_driver_sql(
        _q(
            connection,
            "SELECT min(ts_us), max(ts_us) FROM reading WHERE site_id = ? AND point_id = ?",
        ),
        (site_id, point_id),
    ).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def _readings(
    connection: Connection,
    c: int,
    site_id: int,
    point_id: int,
    start: int | None = None,
    end: int | None = None,
) -> Rows:
    """The stored readings of a point (in ``[start, end)`` when given) as columns
    (``quality`` left empty: not needed).

    Fetched through the driver's cursor straight into one float64 array (timestamps in
    µs are below 2**53, so they survive the float exactly): no per-row Python objects
    beyond the driver's tuples."""
    invalid = ", ".join(f"'{flag}'" for flag in sorted(INVALID_FLAGS))
    sql = (
        f"SELECT ts_us, value, CASE WHEN quality IN ({invalid}) THEN 0 ELSE 1 END "
        "FROM reading WHERE site_id = ? AND point_id = ?"
    )
    args: tuple[int, ...] = (site_id, point_id)
    if start is not None and end is not None:
        sql += " AND ts_us >= ? AND ts_us < ?"
        args += (start, end)
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(_q(connection, sql + " ORDER BY ts_us"), args)
        table = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 3)
    finally:
        cursor.close()
    n = table.shape[0]
    return Rows(
        entry=np.full(n, c, dtype=np.int64),
        ts=table[:, 0].astype(np.int64),
        value=np.ascontiguousarray(table[:, 1]),
        quality=[],
        valid=table[:, 2] == 1.0,
    )


def _plain(connection: Connection, catalog: Catalog, c: int, rows: Rows) -> bool:
    """True when the point's history needs no look-ahead classification: not a counter,
    or a counter with only plain, plausible increases, no declared replacement and no
    stored flag (what ingest's append path rolls up with ``meter_deltas``)."""
    if catalog.kind[c] != TOTAL_INCREASING:
        return True
    site_id, point_id = int(catalog.site_id[c]), int(catalog.point_id[c])
    if rs.replacements(connection, site_id, point_id, MISSING, 2**62):
        return False
    flagged = connection.exec_driver_sql(
        _q(connection, "SELECT 1 FROM counter_flag WHERE site_id = ? AND point_id = ? LIMIT 1"),
        (site_id, point_id),
    ).first()
    if flagged is not None:
        return False
    n = rows.ts.size
    odd = suspicious(
        np.zeros(n, dtype=np.int64),
        rows.ts,
        rows.value,
        rows.valid,
        np.full(n, TOTAL_INCREASING, dtype=np.int64),
        np.full(n, catalog.max_per_hour[c]),
        np.full(n, MISSING, dtype=np.int64),
        np.full(n, np.nan),
    )
    return not bool(odd.any())


def _check_full_point(
    connection: Connection, report: _Report, catalog: Catalog, c: int, check: RollupCheck
) -> None:
    site_id, point_id = int(catalog.site_id[c]), int(catalog.point_id[c])
    where = _point_name(catalog, c)
    rows = _readings(connection, c, site_id, point_id)
    if rows.ts.size == 0:
        hour_rows: list[RollupRow] = []
        day_rows: list[RollupRow] = []
    elif _plain(connection, catalog, c, rows):
        n = rows.ts.size
        hour_rows, day_rows = rollup_rows(
            catalog, rows, np.full(n, MISSING, dtype=np.int64), np.full(n, np.nan)
        )
    else:
        lo, hi = int(rows.ts[0]), int(rows.ts[-1])
        rebuilt = rebuild_point(connection, catalog, c, lo, hi)
        hour_rows, day_rows = rebuilt.hour_rows, rebuilt.day_rows
        if rebuilt.flags is not None:
            _compare_flags(
                connection, report, catalog, c, rebuilt.flags, rebuilt.flag_start, rebuilt.flag_end
            )
    for (table, column, kind), recomputed in zip(_TABLES, (hour_rows, day_rows), strict=True):
        stored = _stored_rows(connection, table, column, site_id, point_id)
        _compare(report, table, kind, where, stored, _keyed(recomputed))
    check.points += 1
    check.hour_rows += len(hour_rows)
    check.day_rows += len(day_rows)


def _check_cell(
    connection: Connection, report: _Report, catalog: Catalog, c: int, day: int, check: RollupCheck
) -> None:
    tz = catalog.timezone[c]
    site_id, point_id = int(catalog.site_id[c]), int(catalog.point_id[c])
    lo, end = day_start_us(day, tz), day_start_us(next_day(day), tz)
    where = _point_name(catalog, c)
    if catalog.kind[c] == TOTAL_INCREASING:  # deltas reach across the day: ingest's rebuild
        rebuilt = rebuild_point(connection, catalog, c, lo, end - 1)
        windows = (rebuilt.hour_window, rebuilt.day_window)
        hour_rows, day_rows = rebuilt.hour_rows, rebuilt.day_rows
        if rebuilt.flags is not None:
            _compare_flags(
                connection, report, catalog, c, rebuilt.flags, rebuilt.flag_start, rebuilt.flag_end
            )
    else:  # each reading stays in its own buckets: the day's rows and whole edge hours
        windows = ((lo // HOUR_US * HOUR_US, (end - 1) // HOUR_US * HOUR_US), (day, day))
        rows = _readings(connection, c, site_id, point_id, windows[0][0], windows[0][1] + HOUR_US)
        n = rows.ts.size
        hour_rows, day_rows = rollup_rows(
            catalog,
            rows,
            np.full(n, MISSING, dtype=np.int64),
            np.full(n, np.nan),
            hour_window=windows[0],
            day_window=windows[1],
        )
    for (table, column, kind), window, recomputed in zip(
        _TABLES, windows, (hour_rows, day_rows), strict=True
    ):
        stored = _stored_rows(connection, table, column, site_id, point_id, *window)
        _compare(report, table, kind, where, stored, _keyed(recomputed))
    check.cells += 1
    check.hour_rows += len(hour_rows)
    check.day_rows += len(day_rows)


def _check_outside(
    connection: Connection, report: _Report, catalog: Catalog, c: int, span: tuple[int, int] | None
) -> None:
    """Stored rows of a point outside the span its readings can fill."""
    site_id, point_id, tz = int(catalog.site_id[c]), int(catalog.point_id[c]), catalog.timezone[c]
    where = _point_name(catalog, c)
    if span is None:  # no reading: every row is extra
        bounds = {"hour": (1, 0), "day": (1, 0)}
    else:
        bounds = {
            "hour": (span[0] // HOUR_US * HOUR_US, span[1] // HOUR_US * HOUR_US),
            "day": (local_day(span[0], tz), local_day(span[1], tz)),
        }
    for table, column, kind in _TABLES:
        lo, hi = bounds[kind]
        stored = _outside(connection, table, column, site_id, point_id, lo, hi)
        _compare(report, table, kind, where, stored, {})


def _check_unknown_points(connection: Connection, report: _Report) -> None:
    """Rows whose (site, point) is no point of the site model."""
    for table, column, kind in _TABLES:
        cols = ", ".join(f'r."{c}"' for c in _COLUMNS)
        rows = connection.exec_driver_sql(
            f"SELECT r.site_id, r.point_id, r.{column}, {cols} FROM {table} r WHERE NOT EXISTS "
            "(SELECT 1 FROM point p WHERE p.id = r.point_id AND p.site_id = r.site_id)"
        ).all()
        by_point: dict[tuple[int, int], dict[int, tuple[Any, ...]]] = {}
        for r in rows:
            by_point.setdefault((int(r[0]), int(r[1])), {})[int(r[2])] = tuple(r[3:])
        for (site_id, point_id), stored in sorted(by_point.items()):
            where = f"site id {site_id}, point id {point_id} (no such point)"
            _compare(report, table, kind, where, stored, {})


def _days_between(first: int, last: int) -> int:
    return (date_of(last) - date_of(first)).days + 1


def verify_rollups(
    connection: Connection,
    outcome: Outcome,
    *,
    sample: int | None = None,
    seed: int | None = None,
) -> RollupCheck:
    """Recompute the rollups (all, or ``sample`` day × point cells drawn with ``seed``)
    and add a finding per difference to ``outcome``; notes say what was covered.

    Reads only: staged readings (SQLite) are compacted inside a savepoint that is rolled
    back, so the recomputation sees every stored reading and the database is unchanged.
    """
    if sample is not None and sample < 1:
        raise ValueError("sample must be at least 1")
    check = RollupCheck()
    report = _Report(outcome)
    # many small queries: plain cursors, not the server-side ones leaf streaming set
    connection.execution_options(stream_results=False, yield_per=None)
    savepoint = connection.begin_nested()
    moved = 0
    try:
        moved = rs.compact(connection)
        catalog = Catalog.read(connection)
        spans: dict[int, tuple[int, int] | None] = {}
        for c in range(catalog.point_id.size):
            spans[c] = _span(connection, int(catalog.site_id[c]), int(catalog.point_id[c]))
            _check_outside(connection, report, catalog, c, spans[c])
        _check_unknown_points(connection, report)
        if sample is None:
            for c in range(catalog.point_id.size):
                _check_full_point(connection, report, catalog, c, check)
        else:
            _check_sample(connection, report, catalog, spans, sample, seed, check)
    finally:
        savepoint.rollback()
        if moved:
            rs.forget_partitions()  # partitions the compaction made were rolled back
    report.close()
    if sample is None and check.points:
        outcome.notes.append(
            f"rollups recomputed from the readings: {check.points} points, {check.hour_rows} "
            f"hour and {check.day_rows} day rows / 汇总数据已全部重算"
        )
    elif sample is not None:
        outcome.notes.append(
            f"rollups recomputed for a sample of {check.cells} of {check.population} "
            f"day × point cells, seed {check.seed} (repeat with --sample {sample} --seed "
            f"{check.seed}) / 抽样重算汇总数据，随机种子 {check.seed}"
        )
    return check


def _check_sample(
    connection: Connection,
    report: _Report,
    catalog: Catalog,
    spans: dict[int, tuple[int, int] | None],
    sample: int,
    seed: int | None,
    check: RollupCheck,
) -> None:
    """Draw ``sample`` cells uniformly from every (point, day) with readings around it."""
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    check.seed = seed
    points: list[tuple[int, int]] = []  # (catalog entry, first local day)
    offsets = [0]
    for c, span in spans.items():
        if span is None:
            continue
        tz = catalog.timezone[c]
        first, last = local_day(span[0], tz), local_day(span[1], tz)
        points.append((c, first))
        offsets.append(offsets[-1] + _days_between(first, last))
    check.population = offsets[-1]
    drawn = random.Random(seed).sample(range(check.population), min(sample, check.population))
    ends = np.array(offsets[1:], dtype=np.int64)
    for index in sorted(drawn):
        k = int(np.searchsorted(ends, index, side="right"))
        c, first = points[k]
        day = day_of(date_of(first) + dt.timedelta(days=index - offsets[k]))
        check.drawn.append((catalog.site_key[c], catalog.key[c], day))
        _check_cell(connection, report, catalog, c, day, check)

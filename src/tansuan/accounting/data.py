"""What the accounting engine reads from the store, in as few queries as possible.

* Meters (``total`` / ``total_increasing`` points): consumption per local month from the
  *daily* rollups, grouped in SQL — one query for every point of a run.
* Rates and concentrations (``instantaneous`` points): hourly means from the *hourly*
  rollups, only for the points a method needs hour by hour (CEMS, integrated rates).
* Manual series (invoices, stock changes, lab analyses, production): current entries,
  spread over the months their period covers.

Nothing here computes emissions; it only gathers inputs with their origin and coverage.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select

from tansuan.accounting.periods import Period
from tansuan.store import schema
from tansuan.store.timeutil import HOUR_US, to_us


@dataclass(frozen=True)
class PointRow:
    id: int
    key: str
    unit: str
    kind: str
    interval_s: int


@dataclass(frozen=True)
class MonthStats:
    """One point's rollup over one local month."""

    n: int
    n_valid: int
    sum: float
    delta: float | None
    resets: int


@dataclass(frozen=True)
class Entry:
    """One manual entry: a value over local days ``[start, end]`` (inclusive)."""

    start: dt.date
    end: dt.date
    value: float
    document_ref: str
    version: int


def _yyyymmdd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _date(yyyymmdd: int) -> dt.date:
    return dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)


def site_id(connection: Connection, site_key: str) -> int | None:
    e = schema.entity
    row = connection.execute(select(e.c.id).where(e.c.kind == "site", e.c.key == site_key)).first()
    return None if row is None else int(row[0])


def points(connection: Connection, site_key: str) -> dict[str, PointRow]:
    p = schema.point
    rows = connection.execute(
        select(p.c.id, p.c.key, p.c.unit, p.c.kind, p.c.interval_s).where(p.c.site_key == site_key)
    )
    return {r.key: PointRow(r.id, r.key, r.unit, r.kind, r.interval_s) for r in rows}


def monthly_stats(
    connection: Connection, site: int, point_ids: list[int], period: Period
) -> dict[tuple[int, str], MonthStats]:
    """Rollup totals per (point id, ``YYYY-MM``) over the period's local days."""
    if not point_ids:
        return {}
    d = schema.rollup_day
    month = d.c.day // 100  # YYYYMM, integer floor division on SQLite and PostgreSQL
    query = (
        select(
            d.c.point_id,
            month.label("month"),
            func.sum(d.c.n),
            func.sum(d.c.n_valid),
            func.sum(d.c.sum),
            func.sum(d.c.delta),
            func.sum(d.c.resets),
        )
        .where(
            d.c.site_id == site,
            d.c.point_id.in_(point_ids),
            d.c.day >= _yyyymmdd(period.start),
            d.c.day < _yyyymmdd(period.end),
        )
        .group_by(d.c.point_id, month)
    )
    out: dict[tuple[int, str], MonthStats] = {}
    for pid, yyyymm, n, n_valid, total, delta, resets in connection.execute(query):
        label = f"{int(yyyymm) // 100:04d}-{int(yyyymm) % 100:02d}"
        out[(int(pid), label)] = MonthStats(
            int(n or 0),
            int(n_valid or 0),
            float(total or 0.0),
            None if delta is None else float(delta),
            int(resets or 0),
        )
    return out


def hourly_means(
    connection: Connection, site: int, point_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Hourly means (``NaN`` where no valid reading) and valid counts over ``[start, end)``."""
    h = schema.rollup_hour
    lo, hi = to_us(start), to_us(end)
    hours = (hi - lo) // HOUR_US
    means = np.full(hours, np.nan)
    valid = np.zeros(hours, dtype=np.int64)
    rows = connection.execute(
        select(h.c.hour_us, h.c.n_valid, h.c.sum).where(
            h.c.site_id == site, h.c.point_id == point_id, h.c.hour_us >= lo, h.c.hour_us < hi
        )
    )
    for hour_us, n_valid, total in rows:
        index = (int(hour_us) - lo) // HOUR_US
        if n_valid:
            means[index] = float(total) / int(n_valid)
            valid[index] = int(n_valid)
    return means, valid


def lookback_start(
    connection: Connection, site: int, point_id: int, before_us: int, min_valid: int, count: int
) -> int | None:
    """The hour [µs] of the ``count``-th valid hour before ``before_us`` (counting back),
    or of the oldest valid hour when there are fewer; ``None`` when there is none.

    An hour is valid with at least ``min_valid`` valid readings. This is how far back the
    HJ 75 look-back of a period reaches (:func:`tansuan.accounting.gaps.fill_cems_conservative`).
    """
    h = schema.rollup_hour
    newest = (
        select(h.c.hour_us)
        .where(
            h.c.site_id == site,
            h.c.point_id == point_id,
            h.c.hour_us < before_us,
            h.c.n_valid >= min_valid,
        )
        .order_by(h.c.hour_us.desc())
        .limit(count)
        .subquery()
    )
    first = connection.execute(select(func.min(newest.c.hour_us))).scalar()
    return None if first is None else int(first)


def next_valid_hour(
    connection: Connection, site: int, point_id: int, from_us: int, min_valid: int
) -> int | None:
    """The first valid hour [µs] at or after ``from_us``, or ``None`` when there is none."""
    h = schema.rollup_hour
    first = connection.execute(
        select(func.min(h.c.hour_us)).where(
            h.c.site_id == site,
            h.c.point_id == point_id,
            h.c.hour_us >= from_us,
            h.c.n_valid >= min_valid,
        )
    ).scalar()
    return None if first is None else int(first)


def series_entries(connection: Connection, site_key: str, series_key: str) -> list[Entry]:
    t, s = schema.series_entry, schema.series
    rows = connection.execute(
        select(t.c.period_start, t.c.period_end, t.c.value, t.c.document_ref, t.c.version)
        .join(s, s.c.id == t.c.series_id)
        .where(s.c.site_key == site_key, s.c.key == series_key, t.c.current.is_(True))
        .order_by(t.c.period_start, t.c.document_ref)
    )
    return [
        Entry(_date(r.period_start), _date(r.period_end), float(r.value), r.document_ref, r.version)
        for r in rows
    ]


def spread(entries: list[Entry], months: list[Period]) -> dict[str, list[tuple[Entry, float]]]:
    """For each month, the entries overlapping it with the share of their days inside it."""
    out: dict[str, list[tuple[Entry, float]]] = defaultdict(list)
    for entry in entries:
        days = (entry.end - entry.start).days + 1
        for month in months:
            lo = max(entry.start, month.start)
            hi = min(entry.end, month.end - dt.timedelta(days=1))
            inside = (hi - lo).days + 1
            if inside > 0:
                out[month.label].append((entry, inside / days))
    return out

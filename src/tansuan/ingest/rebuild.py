"""The rollup rows of a set of readings, and the rebuild of one point's window (no writes).

What ingest writes into ``rollup_hour``/``rollup_day`` and ``counter_flag`` is computed
here, and only here: :class:`~tansuan.ingest.ingestor.Ingestor` writes what these
functions return, and ``tansuan verify`` (:mod:`tansuan.ledger.verify_rollups`) compares
what they return with what is stored. The arithmetic itself is
:mod:`tansuan.store.rollups` (``meter_deltas``, ``hour_parts``, ``day_parts``,
``buckets``) and :mod:`tansuan.store.counters` (``classify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from tansuan.ingest.batch import Rows, as_int
from tansuan.ingest.points import Catalog
from tansuan.ingest.reading import INVALID_FLAGS
from tansuan.store import readings as rs
from tansuan.store.counters import FLAGGED, NAMES, classify
from tansuan.store.rollups import (
    INSTANTANEOUS,
    TOTAL,
    TOTAL_INCREASING,
    Parts,
    buckets,
    day_parts,
    hour_parts,
    meter_deltas,
)
from tansuan.store.timeutil import HOUR_US, day_start_us, local_day, local_days, next_day

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
MISSING = np.iinfo(np.int64).min
#: Valid readings after a changed counter reading whose intervals are rebuilt with it.
RIPPLE_READINGS = 3

#: A rollup row in table column order: site, point, bucket, n, n_valid, sum, min, max,
#: first_ts, first, last_ts, last, delta, resets.
RollupRow = tuple[Any, ...]
#: A counter flag: ts, value, level, kind, detail.
FlagRow = tuple[int, float, float | None, str, str]


class Same(Sequence[str]):
    """``n`` times the same time zone, without a list."""

    def __init__(self, zone: str, n: int) -> None:
        self.zone, self.n = zone, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        return self.zone


def local_days_of(ts: I64, zones: list[str] | Same) -> I64:
    """Local day (``YYYYMMDD``) of each timestamp in its row's zone."""
    days = np.zeros(ts.size, dtype=np.int64)
    if ts.size == 0:
        return days
    if isinstance(zones, Same):
        return local_days(ts, zones.zone)
    unique = set(zones)
    if len(unique) == 1:
        return local_days(ts, zones[0])
    tz_of_row = np.array(zones)
    for tz in unique:
        sel = tz_of_row == tz
        days[sel] = local_days(ts[sel], tz)
    return days


def rollup_rows(
    catalog: Catalog,
    rows: Rows,
    prev_ts: I64,
    previous: F64,
    *,
    hour_window: tuple[int, int] | None = None,
    day_window: tuple[int, int] | None = None,
    classified: tuple[F64, I64, npt.NDArray[np.bool_]] | None = None,
    extra: list[tuple[int, int, float]] | None = None,
) -> tuple[list[RollupRow], list[RollupRow]]:
    """The hour and day rollup rows of ``rows`` (sorted by point, ts); a counter's delta
    goes to the time it covers, ``(previous reading, reading]``, split pro rata over
    buckets. ``classified`` gives (delta, start, reset) already decided by the classifier;
    ``extra`` deltas of no reading (a declared replacement), all of the one point. With a
    window only the buckets inside it are returned (they are complete)."""
    entry = rows.entry
    pid = catalog.point_id[entry]
    kind = catalog.kind[entry]
    if classified is None:
        delta, start, reset = meter_deltas(
            pid, rows.ts, rows.value, rows.valid, kind, catalog.rollover[entry], prev_ts,
            previous,
        )  # fmt: skip
    else:
        delta, start, reset = classified
    has_delta = kind != INSTANTANEOUS
    hours = rows.ts // HOUR_US * HOUR_US
    unique_zones = {catalog.timezone[c] for c in np.unique(entry).tolist()}
    zones: list[str] | Same
    if len(unique_zones) == 1:  # the usual case: no per-row list
        zones = Same(next(iter(unique_zones)), entry.size)
    else:
        zones = [catalog.timezone[c] for c in entry.tolist()]
    days = local_days_of(rows.ts, zones)
    counter = kind == TOTAL_INCREASING
    total = kind == TOTAL
    # A counter's delta covers (start, ts]; a total's value belongs to its reading.
    c_pid, c_start, c_delta = pid[counter], start[counter], delta[counter]
    c_end = rows.ts[counter]
    c_zones: list[str] | Same
    if isinstance(zones, Same):
        c_zones = Same(zones.zone, int(counter.sum()))
    else:
        c_zones = [z for z, k in zip(zones, counter.tolist(), strict=True) if k]
    if extra:  # deltas of no reading (a declared replacement), all of the one point
        c_pid = np.concatenate([c_pid, np.full(len(extra), pid[0], dtype=np.int64)])
        c_start = np.concatenate([c_start, np.array([e[0] for e in extra], dtype=np.int64)])
        c_end = np.concatenate([c_end, np.array([e[1] for e in extra], dtype=np.int64)])
        c_delta = np.concatenate([c_delta, np.array([e[2] for e in extra])])
        c_zones = Same(zones[0], c_pid.size)  # extra rows come from one point
    t_keep = total & ~np.isnan(delta)
    hour_p = hour_parts(c_pid, c_start, c_end, c_delta)
    day_p = day_parts(
        c_pid, c_start, c_end, c_delta,
        local_days_of(c_start, c_zones), local_days_of(c_end - 1, c_zones), c_zones,
    )  # fmt: skip
    site_of = {int(catalog.point_id[c]): int(catalog.site_id[c]) for c in np.unique(entry)}
    out: list[list[RollupRow]] = []
    for bucket, window, parts in ((hours, hour_window, hour_p), (days, day_window, day_p)):
        parts = Parts(
            np.concatenate([parts.point, pid[t_keep]]),
            np.concatenate([parts.bucket, bucket[t_keep]]),
            np.concatenate([parts.value, delta[t_keep]]),
        )
        if window is not None:
            lo, hi = window
            inside = (parts.bucket >= lo) & (parts.bucket <= hi)
            parts = Parts(parts.point[inside], parts.bucket[inside], parts.value[inside])
        stats = buckets(pid, bucket, rows.ts, rows.value, rows.valid, reset, has_delta, parts)
        table_rows = stats.rows(site_of)
        if window is not None:
            lo, hi = window
            table_rows = [r for r in table_rows if lo <= as_int(r[2]) <= hi]
        out.append(table_rows)
    return out[0], out[1]


@dataclass
class Rebuilt:
    """One point's rebuilt window: every hour bucket in ``hour_window`` and day bucket in
    ``day_window`` (inclusive; buckets not in the rows hold nothing), and for a counter
    the flags of ``[flag_start, flag_end)`` (``flags`` None for other points)."""

    site_id: int
    point_id: int
    hour_window: tuple[int, int]
    day_window: tuple[int, int]
    hour_rows: list[RollupRow]
    day_rows: list[RollupRow]
    flags: list[FlagRow] | None
    flag_start: int
    flag_end: int


def rebuild_point(connection: Connection, catalog: Catalog, c: int, lo: int, hi: int) -> Rebuilt:
    """Rebuild the hour and day buckets of one point touched by rows in ``[lo, hi]``,
    from the readings stored in ``reading`` (staged rows must be compacted first).

    A counter reading's delta covers the time since the accepted reading before it,
    and its class depends on the reading after it (and may withdraw the one before it
    as a spike): the window runs from the second accepted reading before the valid
    reading before ``lo`` to the third valid reading after ``hi``; the rows read run
    one valid reading further (look-ahead), and the classifier is given the two
    accepted readings before them.
    """
    p, site_id, tz = int(catalog.point_id[c]), int(catalog.site_id[c]), catalog.timezone[c]
    first, last = lo, hi
    counter = catalog.kind[c] == TOTAL_INCREASING
    if counter:
        before_lo = rs.prev_valid(connection, site_id, p, lo)
        if before_lo is not None:
            # the accepted reading before it may be withdrawn as a spike, freeing
            # the interval from the accepted reading before that one
            accepted = rs.prev_accepted(connection, site_id, p, before_lo[0], 2)
            first = accepted[0][0] if accepted else before_lo[0]
        # a changed reading changes the level of the readings after it, which may
        # turn the next one into a glitch (or back), moving the interval after that
        for _ in range(RIPPLE_READINGS):
            following = rs.next_valid_ts(connection, site_id, p, last)
            if following is None:
                break
            last = following
    hour_lo, hour_hi = first // HOUR_US * HOUR_US, last // HOUR_US * HOUR_US
    day_lo, day_hi = local_day(first, tz), local_day(last, tz)
    start = min(hour_lo, day_start_us(day_lo, tz))
    end = max(hour_hi + HOUR_US, day_start_us(next_day(day_hi), tz))
    if counter:
        # the first valid reading at or after the window's end closes its last interval
        closing = rs.next_valid_ts(connection, site_id, p, end - 1)
        if closing is not None:
            end = closing + 1
            # and the valid reading after it decides whether it is a glitch
            ahead = rs.next_valid_ts(connection, site_id, p, closing)
            end = end if ahead is None else ahead + 1
    stored = rs.fetch_range(connection, site_id, p, start, end)
    n = len(stored)
    rows = Rows(
        entry=np.full(n, c, dtype=np.int64),
        ts=np.array([r[0] for r in stored], dtype=np.int64),
        value=np.array([r[1] for r in stored], dtype=np.float64),
        quality=[r[2] for r in stored],
        valid=np.array([r[2] not in INVALID_FLAGS for r in stored], dtype=bool),
    )
    classified = None
    extra: list[tuple[int, int, float]] = []
    flags: list[FlagRow] | None = None
    flag_end = end
    if counter:
        context = rs.prev_accepted(connection, site_id, p, start, 2)
        swaps = rs.replacements(connection, site_id, p, context[0][0] if context else MISSING, end)
        if context and any(at <= context[-1][0] for at, _, _ in swaps):
            context = context[-1:]  # the reading before it was the old meter's
        swaps = [r for r in swaps if not context or r[0] > context[-1][0]]
        result = classify(
            rows.ts,
            rows.value,
            rows.valid,
            rollover=float(catalog.rollover[c]),
            max_per_hour=float(catalog.max_per_hour[c]),
            before=context,
            replacements=swaps,
        )
        reset = np.isin(result.code, (4, 5))  # reset, rollover
        classified = (result.delta, result.start, reset)
        extra = result.extra
        # flags of every row read up to the last valid one, which is the look-ahead
        # row unless no valid reading follows it (its class needs the next)
        valid_ts = rows.ts[rows.valid]
        if valid_ts.size and rs.next_valid_ts(connection, site_id, p, int(valid_ts[-1])):
            flag_end = int(valid_ts[-1])
        flags = [
            (
                int(rows.ts[i]),
                float(rows.value[i]),
                None if np.isnan(result.level[i]) else float(result.level[i]),
                NAMES[int(result.code[i])],
                result.detail(i, float(rows.value[i]), catalog.unit[c]),
            )
            for i in np.flatnonzero(np.isin(result.code, FLAGGED)).tolist()
            if int(rows.ts[i]) < flag_end
        ]
        prev_ts = np.full(n, context[-1][0] if context else MISSING, dtype=np.int64)
        previous = np.full(n, context[-1][1] if context else np.nan)
    else:
        prev = rs.prev_valid(connection, site_id, p, start)
        prev_ts = np.full(n, MISSING if prev is None else prev[0], dtype=np.int64)
        previous = np.full(n, np.nan if prev is None else prev[1])
    hour_rows, day_rows = rollup_rows(
        catalog,
        rows,
        prev_ts,
        previous,
        hour_window=(hour_lo, hour_hi),
        day_window=(day_lo, day_hi),
        classified=classified,
        extra=extra,
    )
    return Rebuilt(
        site_id, p, (hour_lo, hour_hi), (day_lo, day_hi), hour_rows, day_rows, flags, start,
        flag_end,
    )  # fmt: skip

"""Hour and day rollups computed with numpy from sorted readings (pure, no I/O).

A rollup bucket holds, for one point: ``n`` readings, ``n_valid`` with a valid quality
flag, and over the valid ones ``sum``, ``min``, ``max``, ``first``/``last`` (with their
timestamps) and ``delta``, the consumption in the bucket:

* ``instantaneous``: no delta (NULL).
* ``total``: each value is the amount of its interval; delta is their sum (in the bucket
  of the reading).
* ``total_increasing``: a register; each valid reading contributes ``value - previous``
  (previous = the last accepted reading before it, in time order) **to the time it
  covers**: the delta of readings at ``t1`` and ``t2`` belongs to ``(t1, t2]`` and is
  split over the buckets that interval overlaps pro rata by time. A reading at 00:00
  closes the day (and the month, and the year) before it: hourly readings at 23:00 and
  00:00 put their delta in the 23:00 hour of the old day. A decrease is classified by
  :mod:`tansuan.store.counters` (glitch, spike, reset, rollover, pending); the counts of
  resets and rollovers are kept in ``resets`` (in the bucket of the reading) so gap
  filling can deal with them. The first reading ever contributes 0.

Buckets combine exactly (``merge``), which is how ingest maintains them incrementally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tansuan.store.counters import ROLLOVER_SHARE
from tansuan.store.timeutil import HOUR_US, day_start_us, next_day

INSTANTANEOUS, TOTAL, TOTAL_INCREASING = 0, 1, 2
KIND_CODES = {"instantaneous": INSTANTANEOUS, "total": TOTAL, "total_increasing": TOTAL_INCREASING}

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def meter_deltas(
    group: I64,
    ts: I64,
    values: F64,
    valid: B,
    kind: I64,
    rollover: F64,
    prev_ts: I64,
    previous: F64,
) -> tuple[F64, I64, B]:
    """Per-row consumption, start of the interval it covers and reset flags for rows
    sorted by (group, ts), without looking ahead (a decrease is a rollover or a reset;
    ingest sends points with a decrease through :func:`tansuan.store.counters.classify`
    instead, so this is the plain-increase path).

    Parameters
    ----------
    group : group id of each row (one per point); rows of a group are contiguous.
    ts : timestamps [µs].
    values : values [canonical unit].
    valid : True where the quality flag marks a valid measurement.
    kind : kind code of each row's point (INSTANTANEOUS, TOTAL, TOTAL_INCREASING).
    rollover : each row's wrap modulus [canonical unit], NaN when none.
    prev_ts, previous : each row's point's last accepted reading before these rows
        (ts [µs], value), value NaN when none.

    Returns
    -------
    delta : consumption of each row [canonical unit]; NaN for instantaneous or invalid rows.
    start : start of the interval each delta covers [µs] (the row's ts when none).
    reset : True where a reset or rollover was detected.
    """
    n = values.size
    delta = np.full(n, np.nan)
    start = ts.copy()
    reset = np.zeros(n, dtype=bool)
    total = (kind == TOTAL) & valid
    delta[total] = values[total]
    counter = np.flatnonzero((kind == TOTAL_INCREASING) & valid)
    if counter.size:
        v = values[counter]
        g = group[counter]
        prev = np.empty_like(v)
        prev[1:] = v[:-1]
        t_prev = np.empty(v.size, dtype=np.int64)
        t_prev[1:] = ts[counter][:-1]
        starts = np.ones(v.size, dtype=bool)
        starts[1:] = g[1:] != g[:-1]
        prev[starts] = previous[counter][starts]
        t_prev[starts] = prev_ts[counter][starts]
        d = v - prev
        none = np.isnan(prev)
        d[none] = 0.0
        t_prev[none] = ts[counter][none]
        down = d < 0
        if down.any():
            limit = rollover[counter]
            wrapped = limit - prev + v
            is_roll = down & ~np.isnan(limit) & (wrapped >= 0) & (wrapped <= ROLLOVER_SHARE * limit)
            d = np.where(is_roll, wrapped, np.where(down, 0.0, d))
            reset[counter] = down
        delta[counter] = d
        start[counter] = t_prev
    return delta, start, reset


def suspicious(
    group: I64,
    ts: I64,
    values: F64,
    valid: B,
    kind: I64,
    max_per_hour: F64,
    prev_ts: I64,
    previous: F64,
) -> B:
    """Counter rows that are not a plain, plausible increase on the reading before them
    (a decrease, or more than ``max_per_hour`` pro rata): their point needs the
    look-ahead classification of :mod:`tansuan.store.counters`."""
    out = np.zeros(values.size, dtype=bool)
    counter = np.flatnonzero((kind == TOTAL_INCREASING) & valid)
    if not counter.size:
        return out
    v, g, t = values[counter], group[counter], ts[counter]
    prev = np.empty_like(v)
    prev[1:] = v[:-1]
    t_prev = np.empty(v.size, dtype=np.int64)
    t_prev[1:] = t[:-1]
    starts = np.ones(v.size, dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    prev[starts] = previous[counter][starts]
    t_prev[starts] = prev_ts[counter][starts]
    d = v - prev
    limit = max_per_hour[counter]
    with np.errstate(invalid="ignore"):
        over = ~np.isnan(limit) & (d > limit * (t - t_prev) / HOUR_US)
    out[counter] = (d < 0) | over
    return out


@dataclass
class Parts:
    """Pieces of delta as columns: (point, bucket, amount)."""

    point: I64
    bucket: I64
    value: F64


def hour_parts(point: I64, start: I64, end: I64, delta: F64) -> Parts:
    """Split each delta over ``(start, end]`` across the UTC hours it overlaps, pro rata
    by time; a row without interval (``start == end``), without delta or with a delta of
    0 gives nothing (a reset's lost interval, or a long gap, must not read as buckets of
    measured zero)."""
    keep = ~np.isnan(delta) & (end > start) & (delta != 0)
    p, a, b, d = point[keep], start[keep], end[keep], delta[keep]
    first = a // HOUR_US
    last = (b - 1) // HOUR_US
    count = last - first + 1
    row = np.repeat(np.arange(p.size), count)
    offset = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    hour = (first[row] + offset) * HOUR_US
    overlap = np.minimum(b[row], hour + HOUR_US) - np.maximum(a[row], hour)
    share = d[row] * (overlap / (b[row] - a[row]))
    return Parts(p[row], hour, share)


def day_parts(
    point: I64,
    start: I64,
    end: I64,
    delta: F64,
    first_day: I64,
    last_day: I64,
    tz: Sequence[str],
) -> Parts:
    """Split each delta over ``(start, end]`` across the local days it overlaps, pro rata
    by time. ``first_day``/``last_day`` are the local days (``YYYYMMDD``) of ``start`` and
    ``end - 1 µs``; ``tz`` the zone of each row (used for the rare multi-day rows)."""
    keep = ~np.isnan(delta) & (end > start) & (delta != 0)
    single = keep & (first_day == last_day)
    points, buckets_, values = [point[single]], [first_day[single]], [delta[single]]
    for i in np.flatnonzero(keep & ~single).tolist():
        a, b, d = int(start[i]), int(end[i]), float(delta[i])
        day, zone = int(first_day[i]), tz[i]
        p_list, b_list, v_list = [], [], []
        while True:
            lo, hi = day_start_us(day, zone), day_start_us(next_day(day), zone)
            overlap = min(b, hi) - max(a, lo)
            if overlap > 0:
                p_list.append(int(point[i]))
                b_list.append(day)
                v_list.append(d * overlap / (b - a))
            if day >= int(last_day[i]):
                break
            day = next_day(day)
        points.append(np.array(p_list, dtype=np.int64))
        buckets_.append(np.array(b_list, dtype=np.int64))
        values.append(np.array(v_list, dtype=np.float64))
    return Parts(np.concatenate(points), np.concatenate(buckets_), np.concatenate(values))


@dataclass
class Buckets:
    """Rollup buckets as columns, one entry per (point, bucket)."""

    point: I64
    bucket: I64
    n: I64
    n_valid: I64
    sum: F64
    min: F64
    max: F64
    first_ts: I64
    first: F64
    last_ts: I64
    last: F64
    delta: F64
    has_delta: B
    resets: I64

    def rows(self, site_of: dict[int, int]) -> list[tuple[object, ...]]:
        """Rows in rollup-table column order; statistics of no valid reading are NULL."""
        valid = (self.n_valid > 0).tolist()
        keep_delta = self.has_delta.tolist()
        points = self.point.tolist()
        out: list[tuple[object, ...]] = []
        for i, (p, b, n, nv, s, lo, hi, ft, f, lt, la, d, r) in enumerate(
            zip(
                points,
                self.bucket.tolist(),
                self.n.tolist(),
                self.n_valid.tolist(),
                self.sum.tolist(),
                self.min.tolist(),
                self.max.tolist(),
                self.first_ts.tolist(),
                self.first.tolist(),
                self.last_ts.tolist(),
                self.last.tolist(),
                self.delta.tolist(),
                self.resets.tolist(),
                strict=True,
            )
        ):
            dv = d if keep_delta[i] else None
            if valid[i]:
                out.append((site_of[p], p, b, n, nv, s, lo, hi, ft, f, lt, la, dv, r))
            else:
                out.append(
                    (site_of[p], p, b, n, nv, None, None, None, None, None, None, None, dv, r)
                )
        return out


def buckets(
    point: I64,
    bucket: I64,
    ts: I64,
    values: F64,
    valid: B,
    reset: B,
    has_delta: B,
    parts: Parts,
) -> Buckets:
    """Statistics per (point, bucket) for rows sorted by (point, ts), with the delta of
    ``parts`` (which may fall in buckets without a reading: those get ``n = 0``).

    ``bucket`` must be non-decreasing within a point (hour start, or local day).
    ``has_delta`` marks rows whose point keeps a delta (total, total_increasing).
    """
    n = point.size
    if n == 0 and parts.point.size == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0)
        return Buckets(
            empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_i,
            empty_f, empty_i, empty_f, empty_f, np.zeros(0, dtype=bool), empty_i,
        )  # fmt: skip
    if n:
        change = np.ones(n, dtype=bool)
        change[1:] = (point[1:] != point[:-1]) | (bucket[1:] != bucket[:-1])
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], n)
        valid_v = np.where(valid, values, 0.0)
        idx = np.arange(n)
        first_idx = np.minimum.reduceat(np.where(valid, idx, n), starts)
        last_idx = np.maximum.reduceat(np.where(valid, idx, -1), starts)
        any_valid = last_idx >= 0
        safe_first = np.where(any_valid, first_idx, starts)
        safe_last = np.where(any_valid, last_idx, starts)
        stats = Buckets(
            point=point[starts],
            bucket=bucket[starts],
            n=(ends - starts).astype(np.int64),
            n_valid=np.add.reduceat(valid.astype(np.int64), starts),
            sum=np.add.reduceat(valid_v, starts),
            min=np.minimum.reduceat(np.where(valid, values, np.inf), starts),
            max=np.maximum.reduceat(np.where(valid, values, -np.inf), starts),
            first_ts=ts[safe_first],
            first=values[safe_first],
            last_ts=ts[safe_last],
            last=values[safe_last],
            delta=np.zeros(starts.size),
            has_delta=has_delta[starts],
            resets=np.add.reduceat(reset.astype(np.int64), starts),
        )
    else:
        stats = buckets(
            point, bucket, ts, values, valid, reset, has_delta,
            Parts(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)),
        )  # fmt: skip
    if parts.point.size == 0:
        return stats
    # Union of the stats buckets and the buckets the parts fall in, sorted by key.
    m = stats.point.size
    key_p = np.concatenate([stats.point, parts.point])
    key_b = np.concatenate([stats.bucket, parts.bucket])
    order = np.lexsort((key_b, key_p))
    sp, sb = key_p[order], key_b[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (sp[1:] != sp[:-1]) | (sb[1:] != sb[:-1])
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    u = int(new.sum())
    delta = np.bincount(group[m:], weights=parts.value, minlength=u).astype(np.float64)
    at = group[:m]
    out = Buckets(
        point=sp[new],
        bucket=sb[new],
        n=np.zeros(u, dtype=np.int64),
        n_valid=np.zeros(u, dtype=np.int64),
        sum=np.zeros(u),
        min=np.full(u, np.inf),
        max=np.full(u, -np.inf),
        first_ts=np.zeros(u, dtype=np.int64),
        first=np.zeros(u),
        last_ts=np.zeros(u, dtype=np.int64),
        last=np.zeros(u),
        delta=delta,
        has_delta=np.ones(u, dtype=bool),
        resets=np.zeros(u, dtype=np.int64),
    )
    for name in ("n", "n_valid", "sum", "min", "max", "first_ts", "first", "last_ts", "last"):
        getattr(out, name)[at] = getattr(stats, name)
    out.delta[at] += stats.delta
    out.has_delta[at] = stats.has_delta
    out.resets[at] = stats.resets
    return out

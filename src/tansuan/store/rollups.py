"""Hour and day rollups computed with numpy from sorted readings (pure, no I/O).

A rollup bucket holds, for one point: ``n`` readings, ``n_valid`` with a valid quality
flag, and over the valid ones ``sum``, ``min``, ``max``, ``first``/``last`` (with their
timestamps) and ``delta``, the consumption in the bucket:

* ``instantaneous``: no delta (NULL).
* ``total``: each value is the amount of its interval; delta is their sum.
* ``total_increasing``: a register; each valid reading contributes ``value - previous``
  (previous = the last valid reading before it, in time order). A decrease is a
  **rollover** when the point has a ``rollover`` (register maximum) and the wrapped
  difference ``rollover - previous + value`` is at most 10 % of the register range; it
  contributes that wrapped difference. Any other decrease is a **reset** (meter reset or
  replacement) and contributes 0: tansuan never invents energy across a reset, it loses
  at most the one interval in which the reset happened, and counts the reset in
  ``resets`` so gap filling can deal with it. The first reading ever contributes 0.

Buckets combine exactly (``merge``), which is how ingest maintains them incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

INSTANTANEOUS, TOTAL, TOTAL_INCREASING = 0, 1, 2
KIND_CODES = {"instantaneous": INSTANTANEOUS, "total": TOTAL, "total_increasing": TOTAL_INCREASING}
#: A wrap larger than this share of the register range is a reset, not a rollover.
ROLLOVER_SHARE = 0.1

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def meter_deltas(
    group: I64,
    values: F64,
    valid: B,
    kind: I64,
    rollover: F64,
    previous: F64,
) -> tuple[F64, B]:
    """Per-row consumption and reset flags for rows sorted by (group, ts).

    Parameters
    ----------
    group : group id of each row (one per point); rows of a group are contiguous.
    values : values [canonical unit].
    valid : True where the quality flag marks a valid measurement.
    kind : kind code of each row's point (INSTANTANEOUS, TOTAL, TOTAL_INCREASING).
    rollover : each row's register maximum [canonical unit], NaN when none.
    previous : each row's point's last valid value before these rows, NaN when none.

    Returns
    -------
    delta : consumption of each row [canonical unit]; NaN for instantaneous or invalid rows.
    reset : True where a reset or rollover was detected.
    """
    n = values.size
    delta = np.full(n, np.nan)
    reset = np.zeros(n, dtype=bool)
    total = (kind == TOTAL) & valid
    delta[total] = values[total]
    counter = np.flatnonzero((kind == TOTAL_INCREASING) & valid)
    if counter.size:
        v = values[counter]
        g = group[counter]
        prev = np.empty_like(v)
        prev[1:] = v[:-1]
        starts = np.ones(v.size, dtype=bool)
        starts[1:] = g[1:] != g[:-1]
        prev[starts] = previous[counter][starts]
        d = v - prev
        d[np.isnan(prev)] = 0.0
        down = d < 0
        if down.any():
            limit = rollover[counter]
            wrapped = limit - prev + v
            is_roll = down & ~np.isnan(limit) & (wrapped >= 0) & (wrapped <= ROLLOVER_SHARE * limit)
            d = np.where(is_roll, wrapped, np.where(down, 0.0, d))
            reset[counter] = down
        delta[counter] = d
    return delta, reset


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
    delta: F64,
    reset: B,
    has_delta: B,
) -> Buckets:
    """Statistics per (point, bucket) for rows sorted by (point, ts).

    ``bucket`` must be non-decreasing within a point (hour start, or local day).
    ``has_delta`` marks rows whose point keeps a delta (total, total_increasing).
    """
    n = point.size
    if n == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0)
        return Buckets(
            empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_i,
            empty_f, empty_i, empty_f, empty_f, np.zeros(0, dtype=bool), empty_i,
        )  # fmt: skip
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
    return Buckets(
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
        delta=np.add.reduceat(np.nan_to_num(delta, nan=0.0), starts),
        has_delta=has_delta[starts],
        resets=np.add.reduceat(reset.astype(np.int64), starts),
    )

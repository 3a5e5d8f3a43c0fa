"""What a counter reading means: an increase, a glitch, a spike, a reset or a rollover
(pure, no I/O).

A ``total_increasing`` register only grows, except when it wraps or the meter is reset or
replaced. One bad reading must not be taken for a reset (a single 0 between 1,000 and
1,010 kWh would otherwise make the next reading count 1,010 kWh of phantom energy), so
each valid reading is compared with the last *accepted* reading (``level``) and, when it
is lower, with the reading after it:

* **increase** — ``value ≥ level``: the delta ``value − level`` over ``(t_level, t]``,
  unless it exceeds the point's plausibility limit ``max_per_hour × (t − t_level) / 1 h``:
  then the reading is a **spike** — kept in storage, carrying no consumption, and the
  level stays where it was.
* **glitch** — ``value < level`` and the next valid reading is back at or above ``level``:
  the reading carries no consumption and the next one counts from ``level``.
* **spike found afterwards** — ``value < level``, the next reading continues from
  ``value``, and ``value`` is at or above the accepted reading before ``level``: ``level``
  itself was a spike (a jump up and back) and is withdrawn; the reading counts from the
  reading before it.
* **rollover** — the point has a ``rollover`` (the wrap modulus: the value at which the
  register returns to 0) and ``rollover − level + value`` is at most 10 % of it: that
  wrapped difference is the delta.
* **reset** — any other drop that the next reading confirms (it continues from the new
  value): the interval of the reset carries 0 (energy is never invented; at most that one
  interval is lost) and the new value becomes the level.
* **pending** — a drop that no later reading confirms yet: no consumption until a later
  reading decides between glitch and reset.

* **declared replacement** — ``tansuan replace-meter`` recorded that at ``at`` the old
  register read ``final`` and the new one ``initial``: the first reading after ``at``
  counts ``final − level`` over ``(t_level, at]`` plus ``value − initial`` over
  ``(at, t]``, and is then classified against ``initial`` like any other.

The first reading of a point carries 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Classes of a counter reading (``counter_flag.kind`` for all but ``increase``/``first``).
INCREASE, FIRST, GLITCH, SPIKE, RESET, ROLLOVER, PENDING = range(7)
NAMES = ("increase", "first", "glitch", "spike", "reset", "rollover", "pending")
#: Readings whose value is not the counter's level (kept, but carrying no consumption).
NOT_ACCEPTED = frozenset({"glitch", "spike", "pending"})
#: Classes worth a flag (shown on the quality page).
FLAGGED = (GLITCH, SPIKE, RESET, ROLLOVER, PENDING)
#: A wrap larger than this share of the wrap modulus is a reset, not a rollover.
ROLLOVER_SHARE = 0.1
HOUR_US = 3_600_000_000

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class Classified:
    """Per row of one point: class (-1 for invalid rows), delta [unit] (NaN when the row
    carries none), start of the interval the delta covers [µs] and the level it was
    compared with (NaN when none)."""

    code: I64
    delta: F64
    start: I64
    level: F64
    #: deltas that belong to no reading: the old register's last part up to a declared
    #: replacement, as (start, end, amount)
    extra: list[tuple[int, int, float]]

    def detail(self, i: int, value: float, unit: str = "") -> str:
        """Why row ``i`` was flagged, for the quality page and ``counter_flag.detail``."""
        code, level = int(self.code[i]), float(self.level[i])
        u = f" {unit}" if unit else ""
        if code == GLITCH:
            return (
                f"{value:g}{u} below the level {level:g}{u} and the next reading returns to "
                "it: a glitch, not a reset"
            )
        if code == SPIKE:
            return f"{value:g}{u} exceeds the plausible increase from {level:g}{u}: a spike"
        if code == PENDING:
            return f"{value:g}{u} below the level {level:g}{u}: waiting for the next reading"
        if code == ROLLOVER:
            return f"wrapped from {level:g}{u} to {value:g}{u}: {float(self.delta[i]):g}{u}"
        if code == RESET:
            return f"reset from {level:g}{u} to {value:g}{u}: this interval counts 0"
        return NAMES[code]


def classify(
    ts: I64,
    values: F64,
    valid: B,
    *,
    rollover: float = float("nan"),
    max_per_hour: float = float("nan"),
    before: list[tuple[int, float]] | None = None,
    replacements: list[tuple[int, float, float]] | None = None,
) -> Classified:
    """Classify the readings of one counter, sorted by time.

    Parameters
    ----------
    ts, values, valid : the rows [µs, canonical unit, valid quality flag].
    rollover : wrap modulus [unit], NaN when none.
    max_per_hour : plausibility limit of an increase per hour [unit/h], NaN when none.
    before : accepted readings ``(ts, value)`` before the first row, oldest first (the
        last two are used), empty when none.
    replacements : declared replacements ``(at, final, initial)`` after ``before``'s last
        reading, in time order.
    """
    n = ts.size
    code = np.full(n, -1, dtype=np.int64)
    delta = np.full(n, np.nan)
    start = ts.copy()
    level_of = np.full(n, np.nan)
    # accepted readings: (ts, value, row index or -1 for context, delta's start, class)
    acc: list[tuple[int, float, int]] = [(int(t), float(v), -1) for t, v in (before or [])[-2:]]
    rows = np.flatnonzero(valid).tolist()
    vals = values.tolist()
    stamps = ts.tolist()
    limited = not np.isnan(max_per_hour)
    wraps = not np.isnan(rollover)
    extra: list[tuple[int, int, float]] = []
    pending_swaps = list(replacements or [])

    def swap(at: int, final: float, initial: float) -> None:
        if acc:
            ta, va, _ = acc[-1]
            extra.append((ta, at, max(final - va, 0.0)))
        acc.clear()
        acc.append((at, initial, -1))

    for k, i in enumerate(rows):
        t, v = stamps[i], vals[i]
        while pending_swaps and pending_swaps[0][0] < t:
            swap(*pending_swaps.pop(0))
        if not acc:
            code[i], delta[i] = FIRST, 0.0
            acc.append((t, v, i))
            continue
        ta, va, ia = acc[-1]
        level_of[i] = va
        d = v - va
        if d >= 0:
            if limited and d > max_per_hour * (t - ta) / HOUR_US:
                code[i] = SPIKE
                continue
            code[i], delta[i], start[i] = INCREASE, d, ta
            acc.append((t, v, i))
            continue
        if k + 1 >= len(rows):
            code[i] = PENDING
            continue
        following = vals[rows[k + 1]]
        if following >= va:
            code[i] = GLITCH
            continue
        if ia >= 0 and len(acc) >= 2 and following >= v and v >= acc[-2][1]:
            # level was a jump up and back: withdraw it, count from the reading before
            code[ia], delta[ia], start[ia] = SPIKE, np.nan, stamps[ia]
            acc.pop()
            tb, vb, _ = acc[-1]
            code[i], delta[i], start[i], level_of[i] = INCREASE, v - vb, tb, vb
            acc.append((t, v, i))
            continue
        wrapped = rollover - va + v
        if wraps and 0 <= wrapped <= ROLLOVER_SHARE * rollover:
            code[i], delta[i], start[i] = ROLLOVER, wrapped, ta
        else:
            code[i], delta[i], start[i] = RESET, 0.0, ta
        acc.append((t, v, i))
    for at, final, initial in pending_swaps:
        swap(at, final, initial)
    return Classified(code, delta, start, level_of, extra)

"""Filling missing data, by the rule an emission source is configured with.

Every function takes an hourly (or monthly) array with ``NaN`` for missing values and
returns a :class:`Filled` — the completed array and a mask of the substituted slots —
so each result can carry the share of substituted data. Nothing here invents a value
without saying so.

Rules
-----
``default``
    The guideline's default value for the slot (e.g. a month without a lab analysis
    uses the default carbon content for that month only).
``interpolate``
    Linear interpolation across a gap of at most ``max_gap`` slots that has valid
    values on both sides; longer gaps stay missing.
``previous_average``
    The mean of the previous period's valid values.
``cems_conservative``
    HJ 75-2017 missing-data substitution for CEMS data (§11–12 by recollection: the
    text was not retrieved and the clause numbers are unverified — ``domain-facts.md``
    §5.2, tag [M]): a gap of at most ``short_gap`` hours (24 h) takes the mean of the
    valid hour before and the valid hour after the gap; a longer gap takes the maximum
    of the ``lookback`` (720) valid hours before the gap. Both thresholds are rows of
    ``data/cems.csv`` (kind ``cems_substitution``). The caller hands in the hours before
    the period (the look-back) and a few hours after it, so a gap is judged and filled
    the same way from either side of a month or year boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tansuan.domain.catalog import shipped_catalog

Array = NDArray[np.float64]

#: HJ 75-2017 §11–12 [M]: longest gap [h] filled with the mean of its two neighbours.
SHORT_GAP_HOURS = int(shipped_catalog().constant("cems_substitution", "short_gap_hours").value)
#: HJ 75-2017 §11–12 [M]: number of valid hours [h] before a longer gap whose maximum fills it.
LOOKBACK_VALID_HOURS = int(
    shipped_catalog().constant("cems_substitution", "lookback_valid_hours").value
)
#: Names of the two HJ 75 substitution rules, as the trace shows them.
MEAN_OF_NEIGHBOURS = "mean_of_neighbours"
MAX_OF_LOOKBACK = "max_of_lookback"


@dataclass(frozen=True)
class GapStep:
    """How one gap was filled. Indices are hours relative to the period's first hour:
    negative before it, ``≥ len(period)`` after it (a gap may cross the period's bounds).

    ``window`` is the half-open index range ``[a, b)`` the value came from: for
    ``mean_of_neighbours`` the valid hour before the gap and the valid hour after it
    (``a`` and ``b − 1``); for ``max_of_lookback`` the oldest and newest of the valid
    hours taken (``window_valid_hours`` of them).
    """

    start: int
    end: int
    rule: str
    value: float
    window: tuple[int, int]
    window_valid_hours: int

    @property
    def hours(self) -> int:
        """Length [h] of the whole gap (inside and outside the period)."""
        return self.end - self.start


@dataclass(frozen=True)
class Filled:
    """A completed series and which of its slots were substituted."""

    values: Array
    substituted: NDArray[np.bool_]
    rule: str
    steps: tuple[GapStep, ...] = ()  #: each gap that touches the period, and how it was filled

    @property
    def substituted_share(self) -> float:
        """Fraction [0..1] of slots that were substituted."""
        return float(self.substituted.mean()) if self.substituted.size else 0.0

    @property
    def missing(self) -> NDArray[np.bool_]:
        """Slots still missing after the rule was applied."""
        return np.isnan(self.values)


def _runs(missing: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open index ranges ``[a, b)`` of consecutive True values."""
    if not missing.any():
        return []
    padded = np.concatenate(([False], missing, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fill_default(values: Array, default: float) -> Filled:
    """Replace every missing slot with ``default``."""
    missing = np.isnan(values)
    out = np.where(missing, default, values)
    return Filled(out, missing, "default")


def fill_interpolate(values: Array, max_gap: int) -> Filled:
    """Linearly interpolate gaps of at most ``max_gap`` slots bounded by valid values."""
    out = values.copy()
    substituted = np.zeros(values.shape, dtype=bool)
    for a, b in _runs(np.isnan(values)):
        if a == 0 or b == len(values) or b - a > max_gap:
            continue
        left, right = values[a - 1], values[b]
        steps = np.arange(1, b - a + 1, dtype=np.float64) / (b - a + 1)
        out[a:b] = left + (right - left) * steps
        substituted[a:b] = True
    return Filled(out, substituted, "interpolate")


def fill_previous_average(values: Array, previous: Array) -> Filled:
    """Replace missing slots with the mean of the previous period's valid values."""
    missing = np.isnan(values)
    valid_previous = previous[~np.isnan(previous)]
    if not missing.any() or valid_previous.size == 0:
        return Filled(values.copy(), np.zeros(values.shape, dtype=bool), "previous_average")
    out = np.where(missing, float(valid_previous.mean()), values)
    return Filled(out, missing, "previous_average")


def fill_cems_conservative(
    values: Array,
    history: Array | None = None,
    after: Array | None = None,
    *,
    short_gap: int = SHORT_GAP_HOURS,
    lookback: int = LOOKBACK_VALID_HOURS,
    resumes: bool = True,
) -> Filled:
    """HJ 75-2017 §11–12 [M] CEMS substitution: a short gap takes the mean of its two
    neighbours, a longer one the maximum of the valid hours before it.

    The three arrays are one contiguous hourly series ``history + values + after``; a
    gap is judged on the whole series, so a gap crossing the period's start or end has
    the same length, rule and value whichever period is being computed, and each period
    books only its own hours of it.

    Parameters
    ----------
    values
        Hourly values [any unit] of the period, ``NaN`` where missing or invalid.
    history
        Hourly values before the period (oldest first, contiguous with ``values``): the
        look-back. It should reach back to the ``lookback``-th valid hour before the
        period, so every gap in the period sees its full window.
    after
        Hourly values after the period (contiguous with ``values``): enough of them to
        hold the first valid hour after a gap at the period's end, or ``short_gap + 1``
        hours when there is none that close.
    short_gap
        Longest gap [h] filled with the mean of the valid hour before and the valid hour
        after it (``cems.short_gap_hours`` in data/cems.csv, 24 h).
    lookback
        Number [h] of valid hours before a longer gap whose maximum fills it
        (``cems.lookback_valid_hours`` in data/cems.csv, 720 h).
    resumes
        Whether valid data are known to follow the end of ``after``. When they are not,
        a gap running to the end of the series is data not yet received, not an outage:
        it stays missing (and the result says so) instead of being substituted.

    A gap with no valid hour before it at all stays missing too.
    """
    before = history if history is not None else np.empty(0)
    later = after if after is not None else np.empty(0)
    series = np.concatenate((before, values, later))
    offset, stop = before.size, before.size + values.size
    out = series.copy()
    substituted = np.zeros(series.shape, dtype=bool)
    valid_at = np.flatnonzero(~np.isnan(series))
    steps: list[GapStep] = []
    for a, b in _runs(np.isnan(series)):
        if b <= offset or a >= stop:
            continue  # a gap wholly outside the period is not ours to fill
        if b == series.size and not resumes:
            continue  # no valid hour after it yet: still missing, not substituted
        if b - a <= short_gap and a > 0 and b < series.size:
            fill = (series[a - 1] + series[b]) / 2.0
            step = GapStep(
                a - offset,
                b - offset,
                MEAN_OF_NEIGHBOURS,
                float(fill),
                (a - 1 - offset, b + 1 - offset),
                2,
            )
        else:
            taken = int(np.searchsorted(valid_at, a))
            window = valid_at[max(0, taken - lookback) : taken]
            if window.size == 0:
                continue
            fill = float(series[window].max())
            step = GapStep(
                a - offset,
                b - offset,
                MAX_OF_LOOKBACK,
                fill,
                (int(window[0]) - offset, int(window[-1]) + 1 - offset),
                int(window.size),
            )
        out[a:b] = fill
        substituted[a:b] = True
        steps.append(step)
    return Filled(out[offset:stop], substituted[offset:stop], "cems_conservative", tuple(steps))
